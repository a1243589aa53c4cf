"""Ratings in the hub: the intake rule (one per dossier code), their delivery (kept in ``portal_ratings``),
and the monthly send of their aggregates (``DongBoDanhGia``), remembered in ``portal_rating_sends``."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import orjson
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from connectors.national_dvc.client import DvcClient, PermanentError, TransientError
from connectors.national_dvc.ratings.aggregate import Aggregate, aggregate, month_of
from connectors.national_dvc.ratings.wire import SERVICE
from connectors.national_dvc.wire_types import HANOI
from hub.messages.models import RatingGiven
from hub.seam import Context, Envelope, Outcome, Refused, reading, tables

log = logging.getLogger(__name__)

RULE = "one_rating_per_dossier"
SLUG = "rating-exists"
PROBLEMS = {SLUG: (409, "This dossier has already been rated")}
CHUNK = 100  #: aggregate records per DongBoDanhGia call

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- intake ----------------------------------------------------------------------------------------


def one_rating_per_dossier(ctx: Context, message: Any) -> None:
    """Refuse a ``rating.given`` for a dossier code already rated by another message (seed 004 Đ12.2: a
    dossier code authenticates one rating only). The same message again is left to the intake, which
    answers it as a duplicate. One query on the ``messages`` index of dossier_code."""
    m = tables.messages
    with reading(ctx.engine) as conn:
        other = conn.execute(select(m.c.source, m.c.message_id).where(
            m.c.dossier_code == message.dossier_code, m.c.type == "rating.given",
        ).limit(2)).all()
    if any((row.source, row.message_id) != (message.source, message.message_id) for row in other):
        raise Refused(SLUG, f"dossier {message.dossier_code} has already been rated; a dossier code is rated once",
                      field="dossier_code", rule=RULE)


# -- delivery -------------------------------------------------------------------------------------


def deliver(ctx: Context, client: DvcClient, message: Envelope) -> Outcome:
    """Keep a ``rating.given`` for the month's aggregate: the portal receives ratings only as monthly
    aggregates. A second rating of the same dossier reaching here (the race the intake rule cannot
    close) is permanent; the same message again (a redelivery) is ok."""
    if not isinstance(message, RatingGiven):
        return Outcome.permanent(f"not a rating: {message.type}")
    payload = message.payload
    code = message.dossier_code
    row = {"dossier_code": code, "message_id": message.message_id, "agency_id": payload.agency_id,
           "unit": payload.unit or payload.agency_id, "procedure_code": payload.procedure_code, "level": payload.level,
           "rated_at": payload.rated_at, "month": month_of(payload.rated_at), "stored_at": _now()}
    try:
        with ctx.engine.begin() as conn:
            conn.execute(insert(tables.portal_ratings).values(**row))
    except IntegrityError:
        with reading(ctx.engine) as conn:
            kept = conn.execute(select(tables.portal_ratings.c.message_id)
                                .where(tables.portal_ratings.c.dossier_code == code)).scalar()
        if kept == message.message_id:
            return Outcome.ok("rating already kept")
        return Outcome.permanent(f"{RULE}: dossier {code} was already rated (message {kept})")
    return Outcome.ok(f"rating kept for the aggregate of {row['month']}")


# -- aggregates -------------------------------------------------------------------------------------


def month_aggregates(engine: Engine, month: str) -> list[Aggregate]:
    """The aggregates of ``month`` (``YYYY-MM``), one GROUP BY on its ratings."""
    r = tables.portal_ratings
    with reading(engine) as conn:
        rows = conn.execute(select(r.c.procedure_code, r.c.unit, r.c.level, func.count())
                            .where(r.c.month == month).group_by(r.c.procedure_code, r.c.unit, r.c.level)).all()
    return aggregate(month, [(p, u, lv, int(n)) for p, u, lv, n in rows])


@dataclass(frozen=True)
class Sent:
    """What one send of a month did."""

    month: str
    ratings: int
    records: int
    sent: bool
    detail: str


def send_month(ctx: Context, client: DvcClient, month: str, now: datetime | None = None) -> Sent:
    """Send ``month``'s aggregates with ``DongBoDanhGia`` (chunks of :data:`CHUNK`) and remember it.
    Raises the client's errors after recording the reason (the request, if any, stays open)."""
    aggregates = month_aggregates(ctx.engine, month)
    records = [a.record().model_dump() for a in aggregates]
    total = sum(a.total for a in aggregates)
    digest = hashlib.sha256(orjson.dumps(records, option=orjson.OPT_SORT_KEYS)).hexdigest()
    at = now or _now()
    try:
        for start in range(0, len(records), CHUNK):
            client.call(SERVICE, {"data": records[start:start + CHUNK]})
    except (TransientError, PermanentError) as exc:
        _remember(ctx.engine, month, last_error=exc.reason[:1000])
        raise
    if records:
        _remember(ctx.engine, month, ratings=total, records=len(records), digest=digest, sent_at=at, requested_at=None,
                  requested_by="", last_error="")
    else:
        _remember(ctx.engine, month, requested_at=None, requested_by="", last_error="no ratings in this month")
    log.info("dvc ratings: %s sent, %d ratings in %d records", month, total, len(records))
    return Sent(month, total, len(records), bool(records), "sent" if records else "no ratings: nothing sent")


def _remember(engine: Engine, month: str, **values: Any) -> None:
    s = tables.portal_rating_sends
    with engine.begin() as conn:
        if not conn.execute(update(s).where(s.c.month == month).values(**values)).rowcount:
            conn.execute(insert(s).values(month=month, **{"ratings": 0, "records": 0, "digest": "", "requested_by": "",
                                                          "last_error": "", **values}))


def request_send(engine: Engine, month: str, actor: str, now: datetime | None = None) -> None:
    """Ask the worker's ratings job to send ``month`` on its next run (``lienthong ratings send``)."""
    _remember(engine, month, requested_at=now or _now(), requested_by=actor[:120])


def due_months(engine: Engine, now: datetime) -> list[str]:
    """Months to send now: asked for by an operator, or ended (in Asia/Ho_Chi_Minh) with ratings that no
    send has counted yet (never sent, or ratings of it arrived after it was sent)."""
    current = month_of(now)
    r, s = tables.portal_ratings, tables.portal_rating_sends
    with reading(engine) as conn:
        counts: dict[str, int] = dict(conn.execute(select(r.c.month, func.count()).where(r.c.month < current).group_by(r.c.month)).all())
        sends = {row.month: row for row in conn.execute(select(s)).all()}
    due = {m for m, row in sends.items() if row.requested_at is not None}
    due |= {m for m, n in counts.items() if m not in sends or sends[m].ratings != n}
    return sorted(due)


def run_job(ctx: Context, client: DvcClient | None = None, clock: Clock = _now) -> list[Sent]:
    """The ratings job: send every due month (:func:`due_months`); a failed month is tried again next run."""
    months = due_months(ctx.engine, clock())
    if not months:
        return []
    own = client is None
    client = client or portal_client(ctx)
    done: list[Sent] = []
    try:
        for month in months:
            try:
                done.append(send_month(ctx, client, month, clock()))
            except TransientError as exc:
                log.warning("dvc ratings: %s not sent (%s); next run tries again", month, exc.reason)
                break
            except PermanentError as exc:
                log.warning("dvc ratings: %s refused by the portal (%s)", month, exc.reason)
    finally:
        if own:
            client.close()
    return done


def portal_client(ctx: Context) -> DvcClient:
    """A client of the portal on the connector's account."""
    return DvcClient.for_context(ctx)


def month_view(engine: Engine, month: str) -> dict[str, Any]:
    """``lienthong ratings show``: the month's aggregates and what was last sent of it."""
    s = tables.portal_rating_sends
    with reading(engine) as conn:
        sent = conn.execute(select(s).where(s.c.month == month)).first()
    return {"month": month, "aggregates": [a.record().model_dump() for a in month_aggregates(engine, month)],
            "sent": None if sent is None else {"at": sent.sent_at.isoformat() if sent.sent_at else None,
                                               "ratings": sent.ratings, "records": sent.records,
                                               "requested_at": sent.requested_at.isoformat() if sent.requested_at else None,
                                               "last_error": sent.last_error}}


def valid_month(value: str) -> str:
    """``YYYY-MM`` checked, else ValueError."""
    parsed = datetime.strptime(value, "%Y-%m").replace(tzinfo=HANOI)
    return parsed.strftime("%Y-%m")
