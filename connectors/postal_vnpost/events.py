"""VNPost's tracking events as the hub keeps them: one mapping for the feed and for a push.

Each :class:`~connectors.postal_vnpost.interface.TrackingEvent` becomes one
:class:`~connectors.postal_vnpost.records.Event` (a ``postal_events`` row) and, when its
``OrderNumber`` names a dossier, one canonical ``postal.*`` message for that dossier:

* ``OrderNumber`` is the dossier code (a pickup order) or ``<dossier code>-KQ`` (the delivery of the
  paper result); the leg is the order's as the hub holds it, else the suffix's;
* the type is the status-code table's (:mod:`~connectors.postal_vnpost.codes`); a code it does not
  know becomes ``postal.unrecognised``, ``recognised`` False, kept and flagged, never dropped;
* ``message_id`` is ``vnpost-<_id>``: the feed and a push of the same event are one message;
* ``EventTime`` is epoch milliseconds or an ISO 8601 text (Vietnam time when it has no offset).

An event whose ``OrderNumber`` is no dossier code, or whose time cannot be read, is kept in
``postal_events`` without a message (flagged: no dossier) and counted. :func:`store` writes a batch:
the messages, the events and whatever ``also`` writes (the feed's cursor), in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Literal, Sequence

from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import Connection

from connectors.postal_vnpost import codes, records
from connectors.postal_vnpost.interface import TrackingEvent
from hub.messages.codes import check_dossier_code, nfc
from hub.messages.models import POSTAL_TYPES
from hub.seam import MESSAGE_ADAPTER, Context, Refused

log = logging.getLogger(__name__)

#: Asia/Ho_Chi_Minh: UTC+7 all year (no daylight saving time since 1975).
VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
#: Suffix of the order number of a result's delivery order.
RESULT_SUFFIX = "-KQ"
MESSAGE_PREFIX = "vnpost-"
#: An event id the hub keeps as it is: fits ``message_id`` (``vnpost-`` + at most 57 characters).
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,57}$")
_OID = re.compile(r"^[0-9a-fA-F]{24}$")
_EPOCH_MS = (0, 253402300799999)  # 1970 to 9999

EVENTS = Counter("lienthong_postal_events_total", "VNPost tracking events the hub received, by origin and outcome",
                 ["origin", "outcome"])

Origin = Literal["feed", "push"]


@dataclass(frozen=True, slots=True)
class Mapped:
    """One operator event: its row, and its canonical message (None: no dossier to file it under, or
    ``said``: the hub itself said this step when VNPost answered its call)."""

    event: records.Event
    message: dict[str, Any] | None
    said: bool = False


@dataclass(frozen=True, slots=True)
class Stored:
    """What a batch did: events received, stored now, already held, unrecognised and without a dossier
    (the last two among those stored now)."""

    received: int
    stored: int
    duplicates: int
    unrecognised: int
    without_dossier: int

    def as_json(self) -> dict[str, int]:
        """The push's answer."""
        return {"received": self.received, "stored": self.stored, "duplicates": self.duplicates,
                "unrecognised": self.unrecognised}


def event_key(event: TrackingEvent) -> str | None:
    """The event's id as the hub keeps it (an ObjectId in lower case), or None if it has none usable."""
    raw = event.event_id
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    if _OID.match(raw):
        return raw.lower()
    return raw if _ID.match(raw) else None


def derived_key(event: TrackingEvent) -> str:
    """A stable id for a feed event that carries none: the digest of what it says (repeats agree)."""
    said = "\x1f".join(str(v) for v in (event.OrderNumber, event.ItemCode, event.EventTime, event.POSID, event.StatusCode))
    return "h" + hashlib.sha256(said.encode()).hexdigest()[:40]


def is_oid(key: str) -> bool:
    """Whether ``key`` is an ObjectId (24 hex digits): what the feed's cursor takes."""
    return bool(_OID.match(key))


def event_time(value: int | str | None) -> datetime | None:
    """``EventTime`` as an aware datetime: epoch milliseconds, digits, or ISO 8601 (Vietnam time when
    naive); None when it is missing or cannot be read."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            try:
                at = datetime.fromisoformat(text)
            except ValueError:
                return None
            return at if at.tzinfo is not None else at.replace(tzinfo=VIETNAM)
        value = int(text)
    if isinstance(value, bool) or not _EPOCH_MS[0] <= value <= _EPOCH_MS[1]:
        return None
    return datetime.fromtimestamp(value / 1000, VIETNAM)


def dossier_of(order_number: str) -> tuple[str | None, codes.Leg]:
    """(the dossier code ``order_number`` names or None, the leg its form says)."""
    code: str = order_number
    leg: codes.Leg = "pickup"
    if order_number.endswith(RESULT_SUFFIX):
        code, leg = order_number[:-len(RESULT_SUFFIX)], "result"
    try:
        return check_dossier_code(code), leg
    except ValueError:
        return None, leg


def _text(value: object, limit: int) -> str | None:
    """NFC text without surrounding space, cut to ``limit`` characters; None when empty."""
    if value is None:
        return None
    text = nfc(str(value)).strip()[:limit].strip()
    return text or None


def _cod(event: TrackingEvent) -> int | None:
    """The amount collected on delivery, if the event carries one (the NGSP feed does not)."""
    extra = event.model_extra or {}
    for name in ("CODAmount", "CodAmount", "COD"):
        value = extra.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
    return None


def map_events(engine: Any, partner: str, batch: Sequence[tuple[str, TrackingEvent]],
               received_at: datetime | None = None) -> list[Mapped]:
    """Map ``(event id, event)`` pairs, ordered by (time, id); one read of the status-code table and
    one batch look-up of the orders' legs. Repeated ids count once (the first)."""
    known = codes.table(engine, partner)
    unique: dict[str, TrackingEvent] = {}
    for key, event in batch:
        unique.setdefault(key, event)
    held = records.held(engine, partner, [_text(e.OrderNumber, 60) or "?" for e in unique.values()])
    now = received_at or datetime.now(timezone.utc)
    mapped = [_map(partner, key, event, known, held, now) for key, event in unique.items()]
    mapped.sort(key=lambda m: (m.event.at, m.event.event_id))
    unknown = Tally(m.event.operator_code for m in mapped if not m.event.recognised)
    for code, count in unknown.items():
        log.warning("vnpost: %d event(s) with status code %r, which the table does not know: kept as "
                    "postal.unrecognised and flagged", count, code)
    return mapped


def _map(partner: str, key: str, event: TrackingEvent, known: dict[str, tuple[str, str]],
         held: dict[str, tuple[str, str]], now: datetime) -> Mapped:
    number = _text(event.OrderNumber, 60) or "?"
    code, suffix_leg = dossier_of(number)
    held_leg, held_state = held.get(number, (suffix_leg, None))
    leg: codes.Leg = "result" if held_leg == "result" else "pickup"
    operator_code = _text(event.StatusCode, 20) or "?"
    kind, recognised = codes.classify(known, operator_code, leg)
    at = event_time(event.EventTime)
    waybill, post_office, cod = _text(event.ItemCode, 50), _text(event.POSID, 50), _cod(event)
    row = records.Event(event_id=key, order_number=number, step=kind, operator_code=operator_code,
                        recognised=recognised, at=at or now, post_office=post_office, waybill=waybill, cod_amount=cod)
    if code is not None and at is not None and _already_said(kind, held_state):
        return Mapped(row, None, said=True)
    if code is None or at is None:
        return Mapped(row, None)
    meaning = _text(event.StatusMessage, 300) or (known[operator_code][1] if recognised else operator_code)
    payload = {"agency_id": code.split("-", 1)[0], "leg": leg, "order_number": number, "waybill": waybill, "at": at,
               "post_office": post_office, "operator_code": operator_code, "operator_meaning": meaning,
               "event_id": key, "recognised": recognised, "cod_amount": cod, "note": _text(event.Notes, 500)}
    message = {"message_id": MESSAGE_PREFIX + key, "type": kind, "source": partner, "occurred_at": at,
               "dossier_code": code, "payload": payload}
    return Mapped(row, message)


def _already_said(kind: str, held_state: str | None) -> bool:
    """The hub itself says this step when VNPost answers its call: ``postal.booked`` always (the
    connector says it on ``100``/``101``, even when the feed shows the order first, as after a timed-out
    booking), ``postal.cancelled`` of an order it cancelled. The event is kept, not said twice."""
    return kind == "postal.booked" or (kind == "postal.cancelled" and held_state == "cancelled")


def _refusable(mapped: Sequence[Mapped]) -> list[Mapped]:
    """``mapped`` with the message of each event the canonical model refuses taken away (its row kept)."""
    out: list[Mapped] = []
    for m in mapped:
        if m.message is not None:
            try:
                MESSAGE_ADAPTER.validate_python(m.message)
            except ValidationError:
                log.warning("vnpost: event %s breaks the canonical model; kept without a message", m.event.event_id)
                m = Mapped(m.event, None)
        out.append(m)
    return out


def store(ctx: Context, mapped: Sequence[Mapped], origin: Origin,
          also: Callable[[Connection], None] | None = None) -> Stored:
    """Store ``mapped``: its messages (``ctx.submit_many``), its events (``records.record_events``) and
    what ``also`` writes, in one transaction. Raises what ``submit_many`` raises, except a refusal by
    the canonical model: the events it names are then kept without their message."""
    fresh: list[records.Event] = []

    def then(conn: Connection, verdicts: list[str]) -> None:
        fresh[:] = records.record_events(conn, ctx.code, [m.event for m in mapped], origin)
        if also is not None:
            also(conn)

    try:
        ctx.submit_many([m.message for m in mapped if m.message is not None], types=POSTAL_TYPES, then=then)
    except Refused as refused:
        if refused.slug != "validation":
            raise
        mapped = _refusable(mapped)
        ctx.submit_many([m.message for m in mapped if m.message is not None], types=POSTAL_TYPES, then=then)
    orphans = {m.event.event_id for m in mapped if m.message is None and not m.said}
    result = Stored(received=len(mapped), stored=len(fresh), duplicates=len(mapped) - len(fresh),
                    unrecognised=sum(1 for e in fresh if not e.recognised),
                    without_dossier=sum(1 for e in fresh if e.event_id in orphans))
    for outcome, count in (("stored", result.stored), ("duplicate", result.duplicates),
                           ("unrecognised", result.unrecognised), ("without_dossier", result.without_dossier)):
        if count:
            EVENTS.labels(origin, outcome).inc(count)
    if result.without_dossier:
        log.warning("vnpost: %d event(s) name no dossier (or no readable time): kept without a message",
                    result.without_dossier)
    return result
