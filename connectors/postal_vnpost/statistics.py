"""Postal statistics per agency and period (seed 004 Đ20: reporting on dossiers sent and results returned by post).

For the orders of one postal partner **booked** in the period ``[from, to)`` (calendar days in
Vietnam time, Asia/Ho_Chi_Minh), per agency:

* pickups (leg ``pickup``): ``booked`` (all), ``collected`` (a collection seen), ``handed_over`` (the
  dossier reached the agency), ``cancelled`` (the order stands cancelled);
* results (leg ``result``): ``sent`` (all), ``delivered``, ``failed`` (at least one failed attempt, even
  if a later one delivered), ``returned`` (a return to the sender seen);
* hours from booking to hand-over (pickups handed over) and from booking to delivery (results
  delivered): median and 90th percentile by the **nearest-rank** method (of the n durations sorted
  ascending, the p-th percentile is the ``ceil(p/100 * n)``-th; the median is p = 50, so with an even
  n the lower of the two middle values), each an observed duration, rounded to 0.01 h; none when n = 0;
* ``cod_collected_vnd``: the đồng collected on delivery, as the delivery events said (delivered results).

Orders are read month by month (:func:`read` calls ``progress(done, total)`` after each) so a command
can show how far a long period has got. ``GET /v1/postal/statistics`` answers JSON or CSV (one row per
agency, the header :data:`COLUMNS`); ``lienthong postal stats`` prints the same.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Callable, Literal
from zoneinfo import ZoneInfo

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine, select

from connectors.postal_vnpost import records
from connectors.postal_vnpost.refusals import invalid
from hub.messages.codes import AGENCY_PATTERN
from hub.seam import Inbound, InboundRoute, Refused, Reply, reading

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_YEARS = 5  #: the longest period one request reads
LONG_PERIOD = 3  #: months from which ``lienthong postal stats`` shows a progress bar
FIRST_YEAR, LAST_YEAR = 2000, 2999  #: the years a period may name
#: The columns of a row, in the CSV header's order (stable: reports are built on them).
COLUMNS = ("agency_id", "pickups_booked", "pickups_collected", "pickups_handed_over", "pickups_cancelled",
           "results_sent", "results_delivered", "results_failed", "results_returned",
           "pickup_hours_median", "pickup_hours_p90", "result_hours_median", "result_hours_p90", "cod_collected_vnd")
Progress = Callable[[int, int], None]


def nearest_rank(values: list[float], percent: float) -> float | None:
    """The ``percent``-th percentile of ``values`` by nearest rank (an observed value), None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass
class Tally:
    """One agency's counts over the orders seen so far."""

    pickups_booked: int = 0
    pickups_collected: int = 0
    pickups_handed_over: int = 0
    pickups_cancelled: int = 0
    results_sent: int = 0
    results_delivered: int = 0
    results_failed: int = 0
    results_returned: int = 0
    cod_collected_vnd: int = 0
    pickup_hours: list[float] = field(default_factory=list)
    result_hours: list[float] = field(default_factory=list)

    def add(self, order: Any) -> None:
        """Count one order (a row with ``leg``, ``state``, ``booked_at`` and the step times)."""
        if order.leg == "pickup":
            self.pickups_booked += 1
            self.pickups_collected += order.collected_at is not None
            self.pickups_cancelled += order.state == records.CANCELLED
            if order.handed_over_at is not None:
                self.pickups_handed_over += 1
                self.pickup_hours.append(_hours(order.booked_at, order.handed_over_at))
        elif order.leg == "result":
            self.results_sent += 1
            self.results_failed += order.failed_at is not None
            self.results_returned += order.returned_at is not None
            if order.delivered_at is not None:
                self.results_delivered += 1
                self.result_hours.append(_hours(order.booked_at, order.delivered_at))
                self.cod_collected_vnd += order.cod_collected or 0

    def row(self, agency_id: str) -> dict[str, Any]:
        """The agency's row: every column of :data:`COLUMNS`."""
        values = {"agency_id": agency_id,
                  "pickup_hours_median": _rounded(nearest_rank(self.pickup_hours, 50)),
                  "pickup_hours_p90": _rounded(nearest_rank(self.pickup_hours, 90)),
                  "result_hours_median": _rounded(nearest_rank(self.result_hours, 50)),
                  "result_hours_p90": _rounded(nearest_rank(self.result_hours, 90))}
        return {name: values[name] if name in values else getattr(self, name) for name in COLUMNS}


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Period:
    """Calendar days ``[start, end)`` in Vietnam time."""

    start: date
    end: date

    @classmethod
    def parse(cls, start: str | None, end: str | None, today: date | None = None) -> Period:
        """The period of ``from``/``to`` (``YYYY-MM-DD``); neither: the current month. ValueError saying
        what is wrong: only one given, not a date, ``to`` not after ``from``, longer than five years."""
        if start is None and end is None:
            first = (today or datetime.now(VIETNAM).date()).replace(day=1)
            return cls(first, _next_month(first))
        if start is None or end is None:
            raise ValueError("give both from and to (YYYY-MM-DD), or neither for the current month")
        try:
            period = cls(date.fromisoformat(start), date.fromisoformat(end))
        except ValueError:
            raise ValueError("from and to are dates, YYYY-MM-DD") from None
        if not (FIRST_YEAR <= period.start.year and period.end.year <= LAST_YEAR):
            raise ValueError(f"dates from {FIRST_YEAR} to {LAST_YEAR}")
        if period.end <= period.start:
            raise ValueError("to must be after from (the period is [from, to))")
        if period.end > _years_later(period.start, MAX_YEARS):
            raise ValueError(f"a period is at most {MAX_YEARS} years; ask for several")
        return period

    def months(self) -> list[tuple[datetime, datetime]]:
        """The period cut at each month's start, as aware instants: the chunks :func:`read` reads."""
        cuts, day = [self.start], _next_month(self.start.replace(day=1))
        while day < self.end:
            cuts.append(day)
            day = _next_month(day)
        cuts.append(self.end)
        return [(_instant(a), _instant(b)) for a, b in zip(cuts, cuts[1:])]


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), VIETNAM)


STEP_TIMES = ("booked_at", "collected_at", "handed_over_at", "delivered_at", "failed_at", "returned_at")


def read(engine: Engine, partner: str, period: Period, agency: str | None = None,
         progress: Progress | None = None) -> list[dict[str, Any]]:
    """The rows of ``partner``'s orders booked in ``period`` (of ``agency`` only, when given: then its
    row even if it had none), by agency id; ``progress(done, total)`` after each month read."""
    o = records.orders.c
    columns = [o.agency_id, o.leg, o.state, o.cod_collected, *(getattr(o, name) for name in STEP_TIMES)]
    tallies: dict[str, Tally] = {agency: Tally()} if agency else {}
    chunks = period.months()
    for done, (start, end) in enumerate(chunks, 1):
        q = select(*columns).where(o.partner == partner, o.booked_at >= start, o.booked_at < end)
        if agency:
            q = q.where(o.agency_id == agency)
        with reading(engine) as conn:
            for row in conn.execute(q):
                tallies.setdefault(row.agency_id, Tally()).add(row)
        if progress is not None:
            progress(done, len(chunks))
    return [tallies[a].row(a) for a in sorted(tallies)]


def as_json(partner: str, period: Period, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON answer: the period, how it is counted, one object per agency."""
    return {"partner": partner, "from": period.start.isoformat(), "to": period.end.isoformat(),
            "timezone": VIETNAM.key, "booked_in_period": True, "percentiles": "nearest-rank", "agencies": rows}


def as_csv(rows: list[dict[str, Any]]) -> bytes:
    """The CSV answer: the header :data:`COLUMNS`, one line per agency (an empty cell: no duration)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[name] is None else row[name] for name in COLUMNS])
    return out.getvalue().encode("utf-8")


def render(partner: str, period: Period, rows: list[dict[str, Any]], fmt: Literal["json", "csv"]) -> bytes:
    """The statistics as the API and the command give them, byte for byte."""
    if fmt == "csv":
        return as_csv(rows)
    return orjson.dumps(as_json(partner, period, rows), option=orjson.OPT_INDENT_2) + b"\n"


class StatsQuery(BaseModel):
    """The query string of ``GET /v1/postal/statistics``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    agency: str | None = Field(None, pattern=AGENCY_PATTERN)
    from_: str | None = Field(None, alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")
    to: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    format: Literal["json", "csv"] = "json"


async def statistics(call: Inbound) -> Reply:
    """The postal statistics of the period per agency, JSON or CSV."""
    try:
        query = StatsQuery.model_validate(dict(call.query))
        period = Period.parse(query.from_, query.to)
    except ValidationError as exc:
        raise invalid(exc, "query") from None
    except ValueError as exc:
        raise Refused("validation", f"query: {exc}") from None
    ctx = call.ctx
    rows = await call.run(read, ctx.engine, ctx.code, period, query.agency)
    call.note("ok", f"postal statistics {period.start}..{period.end}: {len(rows)} agencies")
    body = render(ctx.code, period, rows, query.format)
    if query.format == "csv":
        name = f"postal-statistics-{period.start}-{period.end}.csv"
        return Reply(200, body, media_type="text/csv; charset=utf-8",
                     headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Reply(200, body, media_type="application/json")


ROUTE = InboundRoute("GET", "/v1/postal/statistics", statistics, summary="Postal statistics per agency and period "
                     "(JSON or CSV): pickups, results, times, cash on delivery", route_class="ops",
                     roles=("operator", "admin"), body="none", tag="postal")
