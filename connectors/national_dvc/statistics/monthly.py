"""A dossier's times and verdict, and the monthly processing statistics per agency, field and channel.

For each dossier the hub accepted (folded from its messages, ``connectors/national_dvc/dossiers.py``):

* **counted from**: its receipt, moved by the rule on online dossiers (``calendar.Calendar.counted_from``);
* **due**: the one-stop system's appointment (``due_at``, the latest it sent). Per seed 000 Đ14.6 b-c the
  clock stops while a supplement is awaited (status 5) and the one-stop system gives a new appointment
  when the supplement is received; a pause the one-stop system has not yet accounted for (no due date
  sent since it ended, or still open) extends the due by the pause's office time, if it began before
  the due;
* **done**: the first result (status 9 or 10, or a ``result.issued``), or its end by withdrawal (7) or
  stop (8), which seed 000 Đ14.5 counts as the time the result was given. A dossier never accepted
  (status 3) is left out of every figure;
* **verdict**, by :data:`RULES`:
  - ``000-14.3`` (seed 000 Đ14.3): *early* when done by the end of office hours of the working day
    before the appointment's day, *on time* when done by the appointment's hour, else *late*;
  - ``004-14.4`` (seed 004 Đ14.4): by Vietnam dates, *early* before the appointment's date, *on time*
    on it, *late* after it.
  A dossier with no due date is never late.

The month ``[S, E)`` (Vietnam time) of one agency, field and channel: see :class:`Tally` and README.md.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Literal

import orjson
from sqlalchemy import Engine

from connectors.national_dvc.dossiers import Dossier, dossiers
from connectors.national_dvc.statistics.calendar import Calendar
from connectors.national_dvc.statistics.wire import FIELDS
from connectors.national_dvc.wire_types import HANOI as VIETNAM

Rule = Literal["000-14.3", "004-14.4"]
RULES: dict[str, str] = {
    "000-14.3": "seed 000 Đ14.3: early by the end of the working day before the appointment, on time by its hour",
    "004-14.4": "seed 004 Đ14.4: by date: before, on or after the appointment's date",
}
Verdict = Literal["early", "on_time", "late"]
NOT_ACCEPTED, WITHDRAWN, STOPPED = 3, 7, 8


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month in Vietnam time."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        """``"2026-11"``; ValueError otherwise."""
        try:
            year, month = (int(p) for p in text.split("-"))
            if len(text) != 7 or not (2000 <= year <= 2999 and 1 <= month <= 12):
                raise ValueError
        except ValueError:
            raise ValueError("a month is YYYY-MM, e.g. 2026-11") from None
        return cls(year, month)

    @classmethod
    def of(cls, at: datetime) -> "Month":
        local = at.astimezone(VIETNAM)
        return cls(local.year, local.month)

    def previous(self) -> "Month":
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> "Month":
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(date(self.year, self.month, 1), time(0), VIETNAM)

    @property
    def end(self) -> datetime:
        return self.next().start

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


# -- one dossier -----------------------------------------------------------------------------------

def done_at(d: Dossier) -> datetime | None:
    """When the dossier's result was given: its first result, or its withdrawal or stop."""
    ends = [at for at, status in d.steps if status in (WITHDRAWN, STOPPED)][:1]
    found = [t for t in (d.finished_at, *ends) if t is not None]
    return min(found) if found else None


def effective_due(d: Dossier, cal: Calendar, until: datetime) -> datetime | None:
    """The due date, extended by the supplement pauses the one-stop system's due date does not include
    (those ended after it last gave one, or still open at ``until``), each begun before the due."""
    if d.due_at is None:
        return None
    due = d.due_at
    for start, end in d.paused:
        if end is not None and d.due_set_at is not None and d.due_set_at >= end:
            continue  # the appointment given after the supplement already counts the pause
        if start >= due:
            continue  # seed 000 Đ14.6 a: a supplement asked after the deadline does not stop the clock
        due = cal.add_working_time(due, cal.working_time_between(start, min(end or until, until)))
    return due


def verdict(done: datetime, due: datetime | None, cal: Calendar, rule: str) -> Verdict:
    """Early, on time or late, by ``rule`` (:data:`RULES`)."""
    if due is None:
        return "on_time"
    if rule == "004-14.4":
        done_day, due_day = done.astimezone(VIETNAM).date(), due.astimezone(VIETNAM).date()
        return "early" if done_day < due_day else "on_time" if done_day == due_day else "late"
    if rule != "000-14.3":
        raise ValueError(f"unknown statistics rule {rule!r}")
    early_by = cal.day_end(cal.previous_working_day(due.astimezone(VIETNAM).date()))
    return "early" if done <= early_by else "on_time" if done <= due else "late"


@dataclass(frozen=True, slots=True)
class Facts:
    """What the statistics need of one dossier."""

    code: str
    agency_id: str
    field_code: str
    field_name: str
    channel: int
    handling_unit: str
    counted_from: datetime
    due: datetime | None
    done: datetime | None
    paused: timedelta  #: office time waited for supplements, up to the month's end
    verdict: Verdict | None  # of a dossier done; None while open


def facts(d: Dossier, cal: Calendar, until: datetime, rule: str) -> Facts | None:
    """The dossier's facts as known at ``until``, or None when it has no record or was never accepted."""
    if d.received_at is None or any(status == NOT_ACCEPTED for _, status in d.steps):
        return None
    done = done_at(d)
    due = effective_due(d, cal, until)
    paused = sum((cal.working_time_between(s, min(e or until, until)) for s, e in d.paused), start=timedelta(0))
    return Facts(d.code, d.agency_id, d.field_code or "", d.field_name or "", d.channel or 0, d.handling_unit or "",
                 cal.counted_from(d.received_at, d.channel), due, done, paused,
                 None if done is None else verdict(done, due, cal, rule))


# -- a month's figures -------------------------------------------------------------------------------

@dataclass
class Tally:
    """One group's month ``[S, E)``. Counted: a dossier counted from before ``E`` and not done before ``S``.

    * ``received``: counted from within the month; ``carried``: counted from before it (still open at S);
    * ``done`` within the month: ``on_time`` (early included) or ``late``;
    * ``open`` at E: ``open_in_time`` (due not passed at E, or no due) or ``open_late``.
    """

    received: int = 0
    carried: int = 0
    on_time: int = 0
    late: int = 0
    open_in_time: int = 0
    open_late: int = 0
    early: int = 0  #: of ``on_time``, those early (shown in the hub's breakdown, not on the wire)

    def add(self, f: Facts, month: Month) -> None:
        start, end = month.start, month.end
        if f.counted_from >= end or (f.done is not None and f.done < start):
            return
        if f.counted_from >= start:
            self.received += 1
        else:
            self.carried += 1
        if f.done is not None and f.done < end:
            if f.verdict == "late":
                self.late += 1
            else:
                self.on_time += 1
                self.early += f.verdict == "early"
        elif f.due is not None and f.due < end:
            self.open_late += 1
        else:
            self.open_in_time += 1

    def merge(self, other: "Tally") -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def empty(self) -> bool:
        return not (self.received or self.carried)

    def figures(self) -> dict[str, str]:
        """The ``DongBoThongKeHoSo`` counts and percentages, as strings."""
        total, done = self.received + self.carried, self.on_time + self.late
        pending = self.open_in_time + self.open_late
        done_pct, pending_pct = percent(self.on_time, done), percent(self.open_in_time, pending)
        return {
            "SoNhanTrongKy": str(self.received), "SoTonKyTruoc": str(self.carried), "TongSoXuLy": str(total),
            "TongDaXuLy": str(done), "TongXuLyDungHan": str(self.on_time), "PhanTramXuLyDungHan": done_pct,
            "TongXuLyTreHan": str(self.late), "PhanTramXuLyTreHan": complement(done_pct, done),
            "TongChuaXuLy": str(pending), "TongChuaXuLyTrongHan": str(self.open_in_time),
            "PhanTramChuaXuLyTrongHan": pending_pct, "TongChuaXuLyTreHan": str(self.open_late),
            "PhanTramChuaXuLyTreHan": complement(pending_pct, pending),
        }


def percent(part: int, whole: int) -> str:
    """``part / whole`` in percent, rounded half up to two decimals (``"66.67"``); ``"0.00"`` when ``whole`` is 0."""
    if whole == 0:
        return "0.00"
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def complement(shown: str, whole: int) -> str:
    """The other share: 100 minus ``shown`` (the two always add up to 100.00); ``"0.00"`` when ``whole`` is 0."""
    return "0.00" if whole == 0 else str(Decimal("100.00") - Decimal(shown))


@dataclass(frozen=True)
class Statistics:
    """A month's statistics: the wire records per agency and the breakdown per agency, field and channel."""

    month: Month
    rule: str
    records: list[dict[str, str]]
    breakdown: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"month": str(self.month), "timezone": VIETNAM.key, "rule": self.rule, "rule_text": RULES[self.rule],
                "agencies": self.records, "breakdown": self.breakdown}


def compute(items: Iterable[Dossier], cal: Calendar, month: Month, rule: str,
            names: dict[str, str] | None = None) -> Statistics:
    """The month's statistics of ``items`` (folded from the messages before the month's end)."""
    if rule not in RULES:
        raise ValueError(f"unknown statistics rule {rule!r}")
    groups: dict[tuple[str, str, int], Tally] = {}
    field_names: dict[str, str] = {}
    units: dict[str, str] = {}
    for d in items:
        f = facts(d, cal, month.end, rule)
        if f is None:
            continue
        tally = Tally()
        tally.add(f, month)
        if tally.empty:
            continue
        groups.setdefault((f.agency_id, f.field_code, f.channel), Tally()).merge(tally)
        field_names.setdefault(f.field_code, f.field_name)
        if f.handling_unit:
            units.setdefault(f.agency_id, f.handling_unit)
    agencies: dict[str, Tally] = {}
    breakdown = []
    for (agency, field_code, channel), tally in sorted(groups.items()):
        agencies.setdefault(agency, Tally()).merge(tally)
        breakdown.append({"Madonvi": agency, "MaLinhVuc": field_code, "TenLinhVuc": field_names.get(field_code, ""),
                          "KenhThucHien": str(channel), **tally.figures(), "SoSomHan": str(tally.early)})
    names = names or {}
    records = []
    for agency, tally in sorted(agencies.items()):
        record = {"Thang": str(month.month), "Nam": str(month.year), **tally.figures(),
                  "GhiChu": f"Cách tính đúng hạn: {rule}", "Madonvi": agency,
                  "TenDonVi": names.get(agency) or units.get(agency) or agency, "LoaiThongKe": "1"}
        records.append({name: record[name] for name in FIELDS})
    return Statistics(month, rule, records, breakdown)


def read(engine: Engine, settings: Any, cal: Calendar, month: Month) -> Statistics:
    """The month's statistics from the hub's store, by the province's rule (``settings.statistics_rule``)."""
    return compute(dossiers(engine, until=month.end), cal, month, settings.statistics_rule,
                   dict(settings.statistics_agency_names))


BREAKDOWN_COLUMNS = ("Madonvi", "MaLinhVuc", "TenLinhVuc", "KenhThucHien", "SoNhanTrongKy", "SoTonKyTruoc",
                     "TongSoXuLy", "TongDaXuLy", "TongXuLyDungHan", "SoSomHan", "PhanTramXuLyDungHan", "TongXuLyTreHan",
                     "PhanTramXuLyTreHan", "TongChuaXuLy", "TongChuaXuLyTrongHan", "PhanTramChuaXuLyTrongHan",
                     "TongChuaXuLyTreHan", "PhanTramChuaXuLyTreHan")


def render(stats: Statistics, fmt: Literal["json", "csv"]) -> bytes:
    """JSON (month, rule, agencies as sent, breakdown) or CSV (one line per agency, field and channel)."""
    if fmt == "json":
        return orjson.dumps(stats.as_json(), option=orjson.OPT_INDENT_2) + b"\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("Thang", "Nam", *BREAKDOWN_COLUMNS))
    for row in stats.breakdown:
        writer.writerow((str(stats.month.month), str(stats.month.year), *(row[c] for c in BREAKDOWN_COLUMNS)))
    return out.getvalue().encode("utf-8")
