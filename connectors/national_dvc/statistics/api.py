"""``GET /v1/statistics/{month}.json`` and ``.csv``: a month's processing statistics, aggregates only.

No personal data is in them (counts per agency, field and channel), but they are read from the whole
store at each call, so they are not public: partner keys with the ``read`` scope (the province's portal
publishes them) and people with the roles operator, auditor or admin. A month not over yet is
answered as the store knows it so far.
"""

from __future__ import annotations

from connectors.national_dvc.statistics.monthly import Month, render
from connectors.national_dvc.statistics.send import statistics
from hub.seam import Inbound, InboundRoute, Refused, Reply


def _month(call: Inbound) -> Month:
    try:
        return Month.parse(call.path_params.get("month", ""))
    except ValueError as exc:
        raise Refused("validation", f"month: {exc}", field="month") from None


async def as_json(call: Inbound) -> Reply:
    """The month's statistics: the records sent to the portal and the breakdown per field and channel."""
    month = _month(call)
    stats = await call.run(statistics, call.ctx, month)
    call.note("ok", f"statistics {month}: {len(stats.records)} agencies")
    return Reply(200, render(stats, "json"), media_type="application/json")


async def as_csv(call: Inbound) -> Reply:
    """The month's breakdown per agency, field and channel as CSV."""
    month = _month(call)
    stats = await call.run(statistics, call.ctx, month)
    call.note("ok", f"statistics {month} csv: {len(stats.breakdown)} lines")
    return Reply(200, render(stats, "csv"), media_type="text/csv; charset=utf-8",
                 headers={"Content-Disposition": f'attachment; filename="statistics-{month}.csv"'})


_ROLES = ("operator", "auditor", "admin")
ROUTES = (
    InboundRoute("GET", "/v1/statistics/{month}.json", as_json, summary="Processing statistics of a month (YYYY-MM) "
                 "per agency, field and channel, as sent to the national portal (DongBoThongKeHoSo)",
                 route_class="read", roles=_ROLES, body="none", tag="national-portal"),
    InboundRoute("GET", "/v1/statistics/{month}.csv", as_csv, summary="Processing statistics of a month (YYYY-MM) as "
                 "CSV, one line per agency, field and channel", route_class="read", roles=_ROLES, body="none",
                 tag="national-portal"),
)
