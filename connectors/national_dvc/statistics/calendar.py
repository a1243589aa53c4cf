"""The working-day calendar: which days are worked, the office hours, and when a dossier starts counting.

A day is a **working day** when the editable table of exceptions (``dvc_calendar_days``) says so, else
when it is Monday to Friday and not a public holiday of Vietnam as the ``holidays`` package knows them
(Tết, Hùng Kings, 30/4, 1/5, 2/9 and the day beside it...). The table holds what the government or the
province decides each year: a Saturday worked in exchange for a bridge day (kind ``working``), the
bridge day itself or any extra day off (kind ``off``), each with the decision that set it.

**Office hours** (``LIENTHONG_NATIONAL_DVC_OFFICE_HOURS``, default ``07:30-11:30,13:30-17:00``) are in
Vietnam time (Asia/Ho_Chi_Minh). **The rule on online dossiers** (seed 000 Đ14.1, seed 004 Đ9.1): a
dossier filed online (channel 2) after 17:00 (``ONLINE_CUTOFF``), outside office hours or on a day that
is not worked counts from the start of office hours of the next working day (or from the afternoon's
start, when filed in the lunch break). Dossiers filed in person or by post are received by an officer,
in office hours: they count from their receipt.

Everything here but :func:`load`, :func:`put` and :func:`remove` is a pure function of its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Literal, Mapping

import holidays
from sqlalchemy import Connection, Engine, delete, insert, select, update

from connectors.national_dvc.wire_types import HANOI as VIETNAM
from hub.seam import reading, tables

ONLINE = 2  #: KenhThucHien: 1 in person, 2 online, 3 by post
Kind = Literal["working", "off"]
KINDS: tuple[Kind, ...] = ("working", "off")
MAX_SEARCH_DAYS = 400  #: a calendar with no working day in this many days is a configuration error

_VN = holidays.country_holidays("VN")  # expands to each year asked (holidays' own behaviour)


def parse_hours(text: str) -> tuple[tuple[time, time], ...]:
    """``"07:30-11:30,13:30-17:00"`` -> ((07:30, 11:30), (13:30, 17:00)); ValueError unless the spans
    are well formed, each start before its end, in order and apart."""
    spans: list[tuple[time, time]] = []
    for part in text.split(","):
        try:
            start, end = (time.fromisoformat(p.strip()) for p in part.split("-"))
        except ValueError:
            raise ValueError(f"office hours: {part.strip()!r} is not HH:MM-HH:MM") from None
        if start >= end or (spans and start <= spans[-1][1]):
            raise ValueError(f"office hours: {part.strip()!r} must start after the previous span and before its end")
        spans.append((start, end))
    if not spans:
        raise ValueError("office hours: at least one span")
    return tuple(spans)


@dataclass(frozen=True, slots=True)
class DayException:
    """One row of the table: ``day`` is worked (``working``) or not (``off``), by ``decision``."""

    day: date
    kind: Kind
    decision: str
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"day": self.day.isoformat(), "kind": self.kind, "decision": self.decision, "note": self.note}


@dataclass(frozen=True)
class Calendar:
    """Working days and office hours; instants are aware datetimes (any zone), compared in Vietnam time."""

    hours: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
    cutoff: time = time(17, 0)
    exceptions: Mapping[date, DayException] = field(default_factory=dict)

    # -- days ------------------------------------------------------------------------------------

    def holiday(self, day: date) -> str | None:
        """The public holiday's name (``holidays``), if ``day`` is one."""
        return _VN.get(day)

    def is_working_day(self, day: date) -> bool:
        """The table's word for ``day`` if it has one, else Monday-Friday and not a public holiday."""
        found = self.exceptions.get(day)
        if found is not None:
            return found.kind == "working"
        return day.weekday() < 5 and day not in _VN

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self._step(day, 1)

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        return self._step(day, -1)

    def _step(self, day: date, direction: int) -> date:
        for n in range(1, MAX_SEARCH_DAYS + 1):
            candidate = day + timedelta(days=direction * n)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {MAX_SEARCH_DAYS} days of {day}")

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``n`` >= 0; 0: ``day`` itself)."""
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days ``d`` with ``start < d <= end`` (0 when ``end <= start``)."""
        return sum(self.is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))

    # -- hours -----------------------------------------------------------------------------------

    def spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The office hours of ``day`` as aware instants (none on a day not worked)."""
        if not self.is_working_day(day):
            return []
        return [(datetime.combine(day, a, VIETNAM), datetime.combine(day, b, VIETNAM)) for a, b in self.hours]

    def day_start(self, day: date) -> datetime:
        """When office hours begin on ``day`` (whether or not it is worked)."""
        return datetime.combine(day, self.hours[0][0], VIETNAM)

    def day_end(self, day: date) -> datetime:
        """When office hours end on ``day`` (whether or not it is worked)."""
        return datetime.combine(day, self.hours[-1][1], VIETNAM)

    def in_office_hours(self, at: datetime) -> bool:
        local = at.astimezone(VIETNAM)
        return any(a <= local < b for a, b in self.spans(local.date()))

    def next_working_start(self, at: datetime) -> datetime:
        """The earliest instant at or after ``at`` within office hours of a working day."""
        local = at.astimezone(VIETNAM)
        for a, b in self.spans(local.date()):
            if local < b:
                return max(a, local)
        return self.day_start(self.next_working_day(local.date()))

    def counted_from(self, received_at: datetime, channel: int | None) -> datetime:
        """When a dossier received at ``received_at`` starts counting: an online one filed at or after the
        cut-off (17:00) from the next working day's start, one filed outside office hours from the next
        start of office hours; any other as received."""
        if channel != ONLINE:
            return received_at
        local = received_at.astimezone(VIETNAM)
        if local.time() >= self.cutoff:
            return self.day_start(self.next_working_day(local.date()))
        return self.next_working_start(local)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The office time of working days within ``[start, end)`` (zero when ``end <= start``)."""
        total = timedelta(0)
        if end <= start:
            return total
        day, last = start.astimezone(VIETNAM).date(), end.astimezone(VIETNAM).date()
        while day <= last:
            for a, b in self.spans(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add_working_time(self, at: datetime, duration: timedelta) -> datetime:
        """The instant ``duration`` of office time after ``at`` (``at`` itself for no time)."""
        if duration <= timedelta(0):
            return at
        left, cursor = duration, self.next_working_start(at)
        for _ in range(MAX_SEARCH_DAYS * len(self.hours) + 1):
            span_end = next(b for a, b in self.spans(cursor.astimezone(VIETNAM).date()) if a <= cursor < b)
            if cursor + left <= span_end:
                return cursor + left
            left -= span_end - cursor
            cursor = self.next_working_start(span_end)
        raise ValueError(f"{duration} of office time does not fit in {MAX_SEARCH_DAYS} days")


# -- the table of exceptions -----------------------------------------------------------------------

Audit = Callable[[Connection, dict[str, Any] | None, dict[str, Any] | None], None]


def load(engine: Engine) -> dict[date, DayException]:
    """Every exception in the table, by day."""
    t = tables.dvc_calendar_days
    with reading(engine) as conn:
        return {r.day: DayException(r.day, r.kind, r.decision, r.note) for r in conn.execute(select(t).order_by(t.c.day))}


def calendar(settings: Any, engine: Engine) -> Calendar:
    """The province's calendar: its settings' office hours and cut-off, the table's exceptions."""
    return Calendar(parse_hours(settings.office_hours), time.fromisoformat(settings.online_cutoff), load(engine))


def put(engine: Engine, entry: DayException, actor: str, audit: Audit) -> dict[str, Any] | None:
    """Add or replace the exception of ``entry.day``; ``audit(conn, before, after)`` records it in the same
    transaction. Returns what the day was before (None: not in the table)."""
    t = tables.dvc_calendar_days
    values = {"kind": entry.kind, "decision": entry.decision, "note": entry.note,
              "updated_at": datetime.now(timezone.utc), "updated_by": actor[:120]}
    with engine.begin() as conn:
        row = conn.execute(select(t).where(t.c.day == entry.day)).first()
        before = DayException(row.day, row.kind, row.decision, row.note).as_dict() if row else None
        if row:
            conn.execute(update(t).where(t.c.day == entry.day).values(**values))
        else:
            conn.execute(insert(t).values(day=entry.day, **values))
        audit(conn, before, entry.as_dict())
    return before


def remove(engine: Engine, day: date, audit: Audit) -> dict[str, Any] | None:
    """Remove ``day``'s exception (the day follows weekdays and holidays again); what it was, or None."""
    t = tables.dvc_calendar_days
    with engine.begin() as conn:
        row = conn.execute(select(t).where(t.c.day == day)).first()
        if row is None:
            return None
        before = DayException(row.day, row.kind, row.decision, row.note).as_dict()
        conn.execute(delete(t).where(t.c.day == day))
        audit(conn, before, None)
    return before
