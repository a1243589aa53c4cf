"""Sending a month's statistics to the national portal (``DongBoThongKeHoSo``), once, remembered.

The job ``statistics`` (every ``LIENTHONG_NATIONAL_DVC_STATISTICS_INTERVAL`` seconds) sends the month
that just ended, once: a month sent is kept in ``dvc_statistics_sent``, so a restart does not send it
again. A failed send is tried again at the next run. ``lienthong statistics send --month YYYY-MM``
sends any month on demand, again if it was sent (the portal keeps the last per agency and month).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import Engine, insert, select, update

from connectors.national_dvc.client import DvcClient
from connectors.national_dvc.statistics.calendar import calendar
from connectors.national_dvc.statistics.monthly import Month, Statistics, read
from connectors.national_dvc.statistics.wire import SERVICE
from hub.seam import Context, Job, reading, tables

log = logging.getLogger(__name__)
CHUNK = 10  #: agencies per call, as the portal's other services take them


def client_for(ctx: Context) -> DvcClient:
    """The hub's account at the portal's adapter (the connector's: password from the vault)."""
    s = ctx.settings
    return DvcClient(s.adapter_url, s.username, ctx.credential("password", s.password) or "", s.madonvi, s.timeout,
                     auth=ctx.signer() if s.sign_requests else None)


def sent(engine: Engine, month: Month) -> dict[str, Any] | None:
    """The record of ``month``'s last send, or None."""
    t = tables.dvc_statistics_sent
    with reading(engine) as conn:
        row = conn.execute(select(t).where(t.c.month == str(month))).first()
    return None if row is None else {"month": row.month, "rule": row.rule, "records": row.records, "times": row.times,
                                     "sent_at": row.sent_at.isoformat(), "sent_by": row.sent_by, "answer": row.answer}


def statistics(ctx: Context, month: Month) -> Statistics:
    """``month``'s statistics from the hub's store, on the province's calendar and rule."""
    return read(ctx.engine, ctx.settings, calendar(ctx.settings, ctx.engine), month)


def send(ctx: Context, month: Month, actor: str, client: DvcClient | None = None) -> Statistics:
    """Send ``month`` to the portal and remember it; raises the client's errors (nothing remembered then)."""
    stats = statistics(ctx, month)
    own = client is None
    client = client or client_for(ctx)
    answer = ""
    try:
        for i in range(0, len(stats.records), CHUNK):
            answer = client.call(SERVICE, {"data": stats.records[i:i + CHUNK]}).message
    finally:
        if own:
            client.close()
    _remember(ctx.engine, month, stats, actor, answer or "nothing to send")
    log.info("dvc statistics: %s sent (%d agencies, by %s)", month, len(stats.records), actor)
    return stats


def _remember(engine: Engine, month: Month, stats: Statistics, actor: str, answer: str) -> None:
    t = tables.dvc_statistics_sent
    values = {"rule": stats.rule, "records": len(stats.records), "sent_at": datetime.now(timezone.utc),
              "sent_by": actor[:120], "answer": answer[:2000]}
    with engine.begin() as conn:
        if not conn.execute(update(t).where(t.c.month == str(month)).values(times=t.c.times + 1, **values)).rowcount:
            conn.execute(insert(t).values(month=str(month), times=1, **values))


def run(ctx: Context, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Month | None:
    """The job's run: the month before ``now``'s (Vietnam time), if not sent yet. The month sent, or None."""
    month = Month.of(now()).previous()
    if sent(ctx.engine, month) is not None:
        return None
    send(ctx, month, "job")
    return month


def _job(ctx: Context) -> None:
    run(ctx)


JOB = Job(name="statistics", run=_job, every=lambda ctx: float(ctx.settings.statistics_interval))
