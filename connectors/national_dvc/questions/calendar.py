"""The deadline to answer a question, in working days (seed 003 Đ16.2b; seed 004 Đ13.3b).

Working days are the province's calendar (``statistics/calendar.py``: Monday to Friday, minus Vietnam's
public holidays, with the editable table of swap days). A question asked on a day off or after the
cut-off (17:00) counts from the next working day (seed 003 Đ16.2a); it is due at the end of office
hours of the N-th working day after the day it counts from.
"""

from __future__ import annotations

from datetime import datetime

from connectors.national_dvc.statistics.calendar import Calendar
from connectors.national_dvc.wire_types import HANOI as VIETNAM


def answer_due(asked_at: datetime, working_days: int, calendar: Calendar | None = None) -> datetime:
    """When an answer to a question asked at ``asked_at`` (aware) is due, on ``calendar`` (default: the
    weekdays and public holidays alone, no table)."""
    cal = calendar or Calendar()
    local = asked_at.astimezone(VIETNAM)
    day = local.date()
    if not cal.is_working_day(day) or local.time() >= cal.cutoff:
        day = cal.next_working_day(day)
    return cal.day_end(cal.add_working_days(day, working_days))
