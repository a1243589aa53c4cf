"""The deadline to answer a question, in working days (seed 003 Đ16.2b; seed 004 Đ13.3b).

A working day is Monday to Friday and not a public holiday of Vietnam as the ``holidays`` package
knows them (Tết, Hùng Kings, 30/4, 1/5, 2/9 and the day beside it). Government swap days (a Saturday
worked for a bridge holiday) are not known here: the working-day calendar of the statistics part keeps
them. A question asked on a day off or after office hours (17:00) counts from the next working day
(seed 003 Đ16.2a); it is due at 17:00 of the N-th working day after that day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from connectors.national_dvc.ratings.aggregate import HANOI

OFFICE_END = time(17, 0)


@lru_cache(maxsize=16)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def answer_due(asked_at: datetime, working_days: int) -> datetime:
    """When an answer to a question asked at ``asked_at`` (aware) is due: 17:00 Asia/Ho_Chi_Minh of the
    ``working_days``-th working day after the day it counts from."""
    local = asked_at.astimezone(HANOI)
    day = local.date()
    if not is_working_day(day) or local.time() >= OFFICE_END:
        day = next_working_day(day)
    for _ in range(working_days):
        day = next_working_day(day)
    return datetime.combine(day, OFFICE_END, HANOI)
