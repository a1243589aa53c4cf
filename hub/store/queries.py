"""Read-only views for the API, the CLI and the console: a message's deliveries, a dossier's trace,
dead letters, the flows per destination, throughput over time, message search.

Every list is paged by keyset (``id > after``, or newest first the rows before a given one), never
by OFFSET, and every filter is one an index can serve on a million rows (the indexes each query
uses are named in its docstring; bench/console_pages.py measures them, docs/PERFORMANCE.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

import orjson
from sqlalchemy import BigInteger, ColumnElement, Engine, Select, Table, cast, func, or_, select

from hub.messages.lookups import lookup_summary
from hub.messages.postal import postal_states
from hub.store.engine import is_sqlite, reading
from hub.store.tables import (
    DEAD,
    DELIVERED,
    OPEN_STATES,
    WAITING_STATES,
    access_records,
    deliveries,
    delivery_attempts,
    messages,
    result_signatures,
)

#: Delivery states counted as a backlog (every state but delivered): the gauges and the overview.
BACKLOG_STATES = (*OPEN_STATES, DEAD)
#: Outcomes of an attempt that failed (``hub.messages.outcome``: ok | transient | permanent).
FAILED_OUTCOMES = ("transient", "permanent")


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _delivery_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "destination": row.destination,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "delivered_at": _iso(row.delivered_at),
        "last_error": row.last_error,
    }


def _deliveries_of(engine: Engine, message_pks: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in message_pks}
    if not message_pks:
        return out
    with reading(engine) as conn:
        for row in conn.execute(
            select(deliveries).where(deliveries.c.message_pk.in_(list(message_pks))).order_by(deliveries.c.id)
        ):
            out[row.message_pk].append(_delivery_view(row))
    return out


def _message_view(row: Any, dels: list[dict[str, Any]], with_body: bool) -> dict[str, Any]:
    view = {
        "message_id": row.message_id,
        "source": row.source,
        "type": row.type,
        "dossier_code": row.dossier_code,
        "occurred_at": _iso(row.occurred_at),
        "accepted_at": _iso(row.received_at),
        "deliveries": dels,
    }
    if with_body:
        view["message"] = orjson.loads(row.body)
        return view
    payload = orjson.loads(row.body).get("payload") or {}
    if isinstance(payload.get("status"), int):  # the dossier's TrangThaiHoSo the message states (1..10)
        view["status"] = payload["status"]
    if row.type.startswith("postal."):  # the trace names each postal step: what the operator said, where
        view["postal"] = {k: payload.get(k) for k in ("leg", "order_number", "waybill", "at", "post_office",
                                                      "operator_code", "operator_meaning", "recognised")}
    return view


def find_messages(engine: Engine, message_id: str, source: str | None = None) -> list[dict[str, Any]]:
    """Messages stored under ``message_id`` (one per source), with delivery state and body."""
    q = select(messages).where(messages.c.message_id == message_id)
    if source:
        q = q.where(messages.c.source == source)
    with reading(engine) as conn:
        rows = conn.execute(q.order_by(messages.c.id)).all()
    dels = _deliveries_of(engine, [r.id for r in rows])
    return [_message_view(r, dels[r.id], with_body=True) for r in rows]


def trace(engine: Engine, dossier_code: str, viewer: str | None = None) -> list[dict[str, Any]]:
    """Every message of a dossier across partners, in the order the events occurred.

    ``viewer`` (a partner code) limits the trace to messages it sent or that were routed to it;
    ``None`` shows everything (operators).
    """
    q = select(messages).where(messages.c.dossier_code == dossier_code)
    if viewer is not None:
        routed_to_viewer = select(deliveries.c.message_pk).where(deliveries.c.destination == viewer)
        q = q.where(or_(messages.c.source == viewer, messages.c.id.in_(routed_to_viewer)))
    with reading(engine) as conn:
        rows = conn.execute(q.order_by(messages.c.occurred_at, messages.c.id)).all()
    dels = _deliveries_of(engine, [r.id for r in rows])
    views = [_message_view(r, dels[r.id], with_body=False) for r in rows]
    if any(v["type"] == "result.issued" for v in views):
        checks = signature_checks(engine, dossier_code)
        for view in views:
            if view["type"] == "result.issued":
                view["signatures"] = checks.get(view["message_id"], [])
    return views


def signature_checks(engine: Engine, dossier_code: str) -> dict[str, list[dict[str, Any]]]:
    """The signature checks of a dossier's result documents (connectors/national_dvc/results/), by
    message id, in document order: who signed, whether the signature holds. Index:
    ``ix_result_signatures_dossier_code``."""
    out: dict[str, list[dict[str, Any]]] = {}
    q = select(result_signatures).where(result_signatures.c.dossier_code == dossier_code).order_by(result_signatures.c.id)
    with reading(engine) as conn:
        for row in conn.execute(q):
            out.setdefault(row.message_id, []).append({
                "document_id": row.document_id, "sha256": row.sha256, "state": row.state, "signer": row.signer,
                "issuer": row.issuer, "signed_at": _iso(row.signed_at), "intact": row.intact, "trusted": row.trusted,
                "valid": row.valid, "reason": row.reason, "checked_at": _iso(row.checked_at)})
    return out


def dossier_postal(engine: Engine, dossier_code: str) -> dict[str, Any]:
    """The dossier's derived pickup and result-by-post states (hub/messages/postal.py), from all its messages."""
    with reading(engine) as conn:
        bodies = conn.execute(select(messages.c.body).where(messages.c.dossier_code == dossier_code)
                              .order_by(messages.c.occurred_at, messages.c.id)).scalars().all()
    return postal_states(orjson.loads(b) for b in bodies)


def _like(text: str) -> str:
    """A LIKE pattern finding ``text`` anywhere, its own ``%``, ``_`` and ``\\`` taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def dead_letters(engine: Engine, destination: str | None = None, after_id: int = 0, limit: int = 100, *,
                 type: str | None = None, reason: str | None = None, died_from: datetime | None = None,
                 died_to: datetime | None = None) -> list[dict[str, Any]]:
    """Dead deliveries, oldest first, paged by delivery id (``id > after_id``).

    Filters (None: none): ``destination``; the message's ``type``; ``reason``, a substring of the
    delivery's last error (any case); ``died_from`` (inclusive) and ``died_to`` (exclusive),
    the moment it died (``died_at``: its last change, as nothing changes a dead delivery but a
    replay). Index: ``ix_deliveries_state`` (state, next_attempt_at) gives the dead rows, one
    delivery in a thousand (a thousand on a million messages: every filter and page within 50 ms,
    docs/PERFORMANCE.md, issue 15); the filters apply to those rows. Were dead letters to number
    hundreds of thousands, ``deliveries(state, id)`` would read the pages in order (a reason search
    on PostgreSQL would want a trigram index on ``last_error``)."""
    q = (
        select(deliveries, messages.c.message_id, messages.c.source, messages.c.type, messages.c.dossier_code)
        .join(messages, messages.c.id == deliveries.c.message_pk)
        .where(deliveries.c.state == DEAD, deliveries.c.id > after_id)
        .order_by(deliveries.c.id)
        .limit(limit)
    )
    if destination:
        q = q.where(deliveries.c.destination == destination)
    if type:
        q = q.where(messages.c.type == type)
    if reason:
        q = q.where(deliveries.c.last_error.ilike(_like(reason), escape="\\"))
    if died_from is not None:
        q = q.where(deliveries.c.updated_at >= died_from)
    if died_to is not None:
        q = q.where(deliveries.c.updated_at < died_to)
    with reading(engine) as conn:
        return [
            {
                **_delivery_view(r),
                "died_at": _iso(r.updated_at),
                "message_id": r.message_id,
                "source": r.source,
                "type": r.type,
                "dossier_code": r.dossier_code,
            }
            for r in conn.execute(q)
        ]


def delivery_detail(engine: Engine, delivery_id: int) -> dict[str, Any] | None:
    """One delivery with its message and every attempt made, or None."""
    with reading(engine) as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
        if row is None:
            return None
        msg = conn.execute(select(messages).where(messages.c.id == row.message_pk)).one()
        attempts = conn.execute(
            select(delivery_attempts).where(delivery_attempts.c.delivery_id == delivery_id).order_by(delivery_attempts.c.id)
        ).all()
    view = _delivery_view(row)
    view["message"] = _message_view(msg, [], with_body=True)
    del view["message"]["deliveries"]
    view["history"] = [
        {"attempt": a.attempt, "at": _iso(a.at), "outcome": a.outcome, "detail": a.detail, "duration_ms": a.duration_ms}
        for a in attempts
    ]
    return view


def state_counts(engine: Engine) -> list[tuple[str, str, int]]:
    """(destination, state, count) for every delivery: the flow at a glance."""
    with reading(engine) as conn:
        return [
            (r[0], r[1], r[2])
            for r in conn.execute(
                select(deliveries.c.destination, deliveries.c.state, func.count())
                .group_by(deliveries.c.destination, deliveries.c.state)
                .order_by(deliveries.c.destination, deliveries.c.state)
            )
        ]


def page_rows(engine: Engine, table: Table, after_id: int, limit: int, **equal: Any) -> list[Any]:
    """Rows of ``table`` with id above ``after_id``, in id order, at most ``limit``; ``equal`` filters
    on columns (a None value means no filter)."""
    query = select(table).where(table.c.id > after_id).order_by(table.c.id).limit(limit)
    for column, value in equal.items():
        if value is not None:
            query = query.where(table.c[column] == value)
    with reading(engine) as conn:
        return list(conn.execute(query).all())


# --- the flows per destination (the console's overview, the /metrics gauges) ------------------------


@dataclass(frozen=True, slots=True)
class Backlog:
    """Deliveries not delivered yet: ``counts[destination][state]`` (states of :data:`BACKLOG_STATES`
    that have any), and ``lag[destination]``, the seconds the oldest *due* waiting delivery has waited
    for a worker (0 when none is late)."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    lag: dict[str, float] = field(default_factory=dict)


def backlog(engine: Engine, now: datetime | None = None) -> Backlog:
    """The backlog per destination and state, with each destination's lag.

    Reads only the rows not delivered (``deliveries(state, next_attempt_at)``, ``ix_deliveries_state``),
    so it stays cheap however many delivered rows the table holds."""
    now = now or datetime.now(timezone.utc)
    query = (select(deliveries.c.destination, deliveries.c.state, func.count(), func.min(deliveries.c.next_attempt_at))
             .where(deliveries.c.state.in_(BACKLOG_STATES))
             .group_by(deliveries.c.destination, deliveries.c.state))
    found = Backlog()
    with reading(engine) as conn:
        rows = conn.execute(query).all()
    for destination, state, n, oldest in rows:
        found.counts.setdefault(destination, {})[state] = n
        if state in WAITING_STATES and oldest is not None:
            waited = max(0.0, (now - oldest).total_seconds())
            found.lag[destination] = max(found.lag.get(destination, 0.0), waited)
    return found


def _delivered_between(since: datetime) -> ColumnElement[bool]:
    """Delivered rows whose delivery moment is at or after ``since``. ``settle`` sets a delivered row's
    ``next_attempt_at`` to the moment it was delivered, so the bound on it (redundant with the one on
    ``delivered_at``) lets ``deliveries(state, next_attempt_at)`` read only the window's rows."""
    return (deliveries.c.state == DELIVERED) & (deliveries.c.next_attempt_at >= since) & (deliveries.c.delivered_at >= since)


def delivered_since(engine: Engine, since: datetime) -> dict[str, int]:
    """How many deliveries each destination delivered at or after ``since`` (e.g. the last minute)."""
    q = select(deliveries.c.destination, func.count()).where(_delivered_between(since)).group_by(deliveries.c.destination)
    with reading(engine) as conn:
        return {d: n for d, n in conn.execute(q)}


def last_failures(engine: Engine, since: datetime) -> dict[str, dict[str, Any]]:
    """Each destination's latest failed attempt at or after ``since``: ``{at, outcome, detail, delivery_id}``.

    Index: ``delivery_attempts(outcome, at)`` (0015: the failures of the window, then their deliveries by key)."""
    latest = (select(deliveries.c.destination, func.max(delivery_attempts.c.id).label("attempt_id"))
              .join(deliveries, deliveries.c.id == delivery_attempts.c.delivery_id)
              .where(delivery_attempts.c.outcome.in_(FAILED_OUTCOMES), delivery_attempts.c.at >= since)
              .group_by(deliveries.c.destination).subquery())
    q = (select(latest.c.destination, delivery_attempts.c.at, delivery_attempts.c.outcome, delivery_attempts.c.detail,
                delivery_attempts.c.delivery_id)
         .join(delivery_attempts, delivery_attempts.c.id == latest.c.attempt_id))
    with reading(engine) as conn:
        return {r.destination: {"at": r.at, "outcome": r.outcome, "detail": r.detail, "delivery_id": r.delivery_id}
                for r in conn.execute(q)}


def _bucket(engine: Engine, column: Any, seconds: int) -> ColumnElement[int]:
    """The start (epoch seconds, UTC) of the ``seconds``-long bucket a timestamp column falls in."""
    if is_sqlite(engine):  # the store keeps naive UTC text; strftime('%s') reads it as UTC
        epoch: ColumnElement[int] = cast(func.strftime("%s", column), BigInteger)
    else:  # naive UTC timestamps: EXTRACT(EPOCH) takes them as UTC
        epoch = cast(func.floor(func.extract("epoch", column)), BigInteger)
    return (epoch // seconds) * seconds


@dataclass(frozen=True, slots=True)
class Throughput:
    """Deliveries and failed attempts per destination in buckets of ``bucket_seconds``: ``times`` are
    the buckets' starts (epoch seconds, oldest first, every bucket of the window, empty ones
    included); ``delivered[destination]`` and ``failed[destination]`` one count per bucket."""

    bucket_seconds: int
    times: list[int]
    delivered: dict[str, list[int]]
    failed: dict[str, list[int]]


def throughput(engine: Engine, hours: int, bucket_seconds: int = 300, now: datetime | None = None) -> Throughput:
    """Deliveries delivered and attempts failed per destination and bucket over the last ``hours``.

    Counted in the database (one row per destination and bucket comes back, however busy the hub).
    Indexes: ``deliveries(state, next_attempt_at)`` for the delivered ones,
    ``delivery_attempts(outcome, at)`` (0015) for the failures."""
    now = now or datetime.now(timezone.utc)
    end = int(now.timestamp()) // bucket_seconds * bucket_seconds
    start = end - (hours * 3600 // bucket_seconds - 1) * bucket_seconds
    since = datetime.fromtimestamp(start, timezone.utc)
    times = list(range(start, end + 1, bucket_seconds))
    slot = {t: i for i, t in enumerate(times)}
    done_bucket = _bucket(engine, deliveries.c.delivered_at, bucket_seconds).label("bucket")
    done_q = (select(deliveries.c.destination, done_bucket, func.count())
              .where(_delivered_between(since)).group_by(deliveries.c.destination, done_bucket))
    fail_bucket = _bucket(engine, delivery_attempts.c.at, bucket_seconds).label("bucket")
    fail_q = (select(deliveries.c.destination, fail_bucket, func.count())
              .join(deliveries, deliveries.c.id == delivery_attempts.c.delivery_id)
              .where(delivery_attempts.c.outcome.in_(FAILED_OUTCOMES), delivery_attempts.c.at >= since)
              .group_by(deliveries.c.destination, fail_bucket))
    delivered: dict[str, list[int]] = {}
    failed: dict[str, list[int]] = {}
    with reading(engine) as conn:
        for into, q in ((delivered, done_q), (failed, fail_q)):
            for destination, bucket, n in conn.execute(q):
                if int(bucket) in slot:
                    into.setdefault(destination, [0] * len(times))[slot[int(bucket)]] += n
    for destination in {*delivered, *failed}:
        delivered.setdefault(destination, [0] * len(times))
        failed.setdefault(destination, [0] * len(times))
    return Throughput(bucket_seconds, times, delivered, failed)


# --- the console's lists -----------------------------------------------------------------------------


def newest_first(query: Select[Any], table: Table, moment: str, before_id: int | None = None) -> Select[Any]:
    """``query`` over ``table`` newest first: by its ``moment`` column then id, both descending, from
    the row after ``before_id`` when given (keyset: the next page asks for the rows before the last
    one shown).

    Ordered by the moment rather than the id, although both grow together: a time range is then a
    range of the moment's index, read from its newer end until a page is full. Ordered by id,
    PostgreSQL reads the primary key backwards and skips every row newer than the range, because it
    takes the matching rows to be spread evenly over the ids (measured on five million access
    records: a morning a month ago, 420,000 rows skipped, 230 ms; by moment, 0.2 ms). The id breaks
    ties and makes the keyset exact; the moment of ``before_id`` comes from a sub-select by primary
    key (a row gone since, archived, gives an empty page: everything older went with it)."""
    when, key = table.c[moment], table.c.id
    q = query.order_by(when.desc(), key.desc())
    if before_id is not None:
        cursor = table.alias("cursor")
        at = select(cursor.c[moment]).where(cursor.c.id == before_id).scalar_subquery()
        q = q.where(when <= at, or_(when < at, key < before_id))
    return q


def _with_message(q: Select[Any]) -> Select[Any]:
    return q.add_columns(messages.c.message_id, messages.c.source, messages.c.type, messages.c.dossier_code).join(
        messages, messages.c.id == deliveries.c.message_pk)


def _delivery_row(r: Any) -> dict[str, Any]:
    return {**_delivery_view(r), "updated_at": _iso(r.updated_at), "message_id": r.message_id, "source": r.source,
            "type": r.type, "dossier_code": r.dossier_code}


def deliveries_by_id(engine: Engine, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The deliveries of ``ids`` (those that exist), in id order, each with its message's type and
    dossier: what a replay of those ids became. Index: the primary key."""
    if not ids:
        return []
    q = _with_message(select(deliveries)).where(deliveries.c.id.in_(list(ids))).order_by(deliveries.c.id)
    with reading(engine) as conn:
        return [_delivery_row(r) for r in conn.execute(q)]


def deliveries_changed_since(engine: Engine, destination: str, since: datetime, limit: int = 200) -> list[dict[str, Any]]:
    """Deliveries to ``destination`` made before ``since`` and changed at or after it (what a replay of
    all of a destination's dead letters at ``since`` became, with any other older delivery that moved
    since), in id order, at most ``limit``. Index: ``deliveries(destination, updated_at)`` (0015):
    the destination's rows changed since, without reading its older deliveries."""
    q = (_with_message(select(deliveries))
         .where(deliveries.c.destination == destination, deliveries.c.created_at < since, deliveries.c.updated_at >= since)
         .order_by(deliveries.c.id).limit(limit))
    with reading(engine) as conn:
        return [_delivery_row(r) for r in conn.execute(q)]


@dataclass(frozen=True, slots=True)
class MessageSearch:
    """What to look for (None: any): a message ``type``, its ``source`` partner, its ``dossier_code``,
    and when the hub accepted it, ``received_from`` (inclusive) to ``received_to`` (exclusive)."""

    type: str | None = None
    source: str | None = None
    dossier_code: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


def search_messages(engine: Engine, search: MessageSearch, before_id: int | None = None,
                    limit: int = 50) -> list[dict[str, Any]]:
    """Messages matching ``search``, newest first (by the moment the hub accepted them, then id:
    :func:`newest_first`), paged by keyset (the messages before ``before_id``), each with the state of
    its deliveries (no body).

    Indexes: ``messages(received_at)`` reads the pages and any time range; ``messages(type)`` a
    rare type; ``messages(dossier_code)`` a dossier; ``uq_messages_source_message_id`` a source
    that sends little (a busy one is found reading ``received_at``)."""
    q = newest_first(select(messages.c.id, messages.c.message_id, messages.c.source, messages.c.type,
                            messages.c.dossier_code, messages.c.occurred_at, messages.c.received_at),
                     messages, "received_at", before_id).limit(limit)
    for column, value in (("type", search.type), ("source", search.source), ("dossier_code", search.dossier_code)):
        if value:
            q = q.where(messages.c[column] == value)
    if search.received_from is not None:
        q = q.where(messages.c.received_at >= search.received_from)
    if search.received_to is not None:
        q = q.where(messages.c.received_at < search.received_to)
    with reading(engine) as conn:
        rows = conn.execute(q).all()
    dels = _deliveries_of(engine, [r.id for r in rows])
    return [{"id": r.id, "message_id": r.message_id, "source": r.source, "type": r.type, "dossier_code": r.dossier_code,
             "occurred_at": _iso(r.occurred_at), "accepted_at": _iso(r.received_at), "deliveries": dels[r.id]}
            for r in rows]



def dossier_lookups(engine: Engine, dossier_code: str, operations: Sequence[str]) -> list[dict[str, Any]]:
    """The citizen look-ups made for a dossier, in time order: when, which operation, by which officer
    through which partner system, and how it ended. Never whom about: the citizen stays in the
    encrypted content that only security officers open. Found by the records' summaries
    (:func:`hub.messages.lookups.lookup_summary`) through the partial index of look-up summaries."""
    t = access_records.c
    wanted = {lookup_summary(op, dossier_code): op for op in operations}
    if not wanted:
        return []
    with reading(engine) as conn:
        rows = conn.execute(select(t.id, t.at, t.summary, t.account, t.partner_code, t.status, t.outcome)
                            .where(t.kind == "lookup", t.summary.in_(list(wanted)))
                            .order_by(t.at, t.id).limit(1000)).all()
    return [{"at": _iso(r.at), "operation": wanted[r.summary], "officer": r.account, "partner": r.partner_code,
             "status": r.status, "outcome": r.outcome} for r in rows]
