"""Late fee changes (seed 000 Đ9.1, seed 001 Đ8): a fee change must reach the one-stop system within
``catalogue_fee_days`` (5) days of the date of the decision it cites.

The deadline is the end of the decision's date plus 5 days, Asia/Ho_Chi_Minh. A fee change (a
history row whose ``fee_channels`` is not empty) raises ``national_dvc.fee_change_late`` about
``procedure:<code>`` when its notice was not delivered by the deadline (still undelivered after it,
or delivered after it), which includes a change the hub saw only after the deadline. Delivery is read
from the hub's ``messages`` and ``deliveries`` (read only): the notice counts as delivered when
every delivery of it is; the moment is the latest ``delivered_at``, written on the history row.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import case, func, select, update

from connectors.national_dvc.catalogue.model import SOURCE
from connectors.national_dvc.wire_types import HANOI
from hub.seam import Context, tables

H = tables.catalogue_history
RULE = "fee_change_late"


def deadline(decided_on: date, days: int) -> datetime:
    """The end of ``decided_on + days`` in Vietnam, as an aware UTC moment."""
    return datetime.combine(decided_on + timedelta(days=days + 1), time(0, 0), HANOI).astimezone(timezone.utc)


def deliveries(conn: Any) -> dict[int, datetime]:
    """History rows not yet known delivered whose notice now is (every delivery of it): id -> when."""
    m, d = tables.messages, tables.deliveries
    done = func.sum(case((d.c.state == tables.DELIVERED, 1), else_=0))
    rows = conn.execute(
        select(H.c.id, func.count(d.c.id), done, func.max(d.c.delivered_at))
        .select_from(H.join(m, (m.c.source == SOURCE) & (m.c.message_id == H.c.message_id))
                     .join(d, d.c.message_pk == m.c.id))
        .where(H.c.delivered_at.is_(None), H.c.message_id.is_not(None))
        .group_by(H.c.id)).all()
    out = {}
    for row_id, total, delivered, last in rows:
        if total and delivered == total and last is not None:
            out[row_id] = last if last.tzinfo else last.replace(tzinfo=timezone.utc)
    return out


def check_late(ctx: Context, now: datetime | None = None) -> list[str]:
    """Note the notices delivered since the last check; raise the alert for each fee change past its
    deadline (once per change); return the codes alerted."""
    now = now or datetime.now(timezone.utc)
    days = ctx.settings.catalogue_fee_days
    with ctx.engine.begin() as conn:
        found = deliveries(conn)
        for row_id, moment in found.items():
            conn.execute(update(H).where(H.c.id == row_id).values(delivered_at=moment))
        rows = conn.execute(select(H.c.id, H.c.code, H.c.version, H.c.seen_at, H.c.decision, H.c.decided_on,
                                   H.c.delivered_at, H.c.fee_channels)
                            .where(H.c.fee_channels != "", H.c.alerted_at.is_(None), H.c.message_id.is_not(None),
                                   H.c.decided_on.is_not(None))).all()
    alerted: list[str] = []
    for r in rows:
        late_by = deadline(date.fromisoformat(r.decided_on), days)
        moment = r.delivered_at if r.delivered_at is None or r.delivered_at.tzinfo else r.delivered_at.replace(tzinfo=timezone.utc)
        if (moment or now) <= late_by:
            continue
        seen = r.seen_at if r.seen_at.tzinfo else r.seen_at.replace(tzinfo=timezone.utc)
        how = ("seen only after the deadline" if seen > late_by else
               "delivered after the deadline" if moment else "not delivered by the deadline")
        detail = (f"fee change of procedure {r.code} (version {r.version}, channel(s) {r.fee_channels}) under "
                  f"{(r.decision or 'no decision named')[:200]} of {r.decided_on}: {how} "
                  f"({days} days: by {late_by.astimezone(HANOI):%Y-%m-%d %H:%M} Vietnam time)")
        ctx.alert(RULE, f"procedure:{r.code}", detail, at=now)
        with ctx.engine.begin() as conn:
            conn.execute(update(H).where(H.c.id == r.id).values(alerted_at=now))
        alerted.append(r.code)
    return alerted
