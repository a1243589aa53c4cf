"""The working-day calendar (connectors/national_dvc/statistics/calendar.py): pure functions, no database.

Rules: Tết 2027 (holidays.VN) is not worked; a swap Saturday of the table is, a bridge day of the table
is not; an online dossier filed at 17:05 on a Friday counts from Monday 07:30, one filed before a
holiday from the first working day after it, one filed in the lunch break from 13:30; a dossier filed
in person counts from its receipt; working days and office time are counted on the calendar.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from connectors.national_dvc.statistics.calendar import Calendar, DayException, parse_hours
from connectors.national_dvc.wire_types import HANOI as VIETNAM

SWAP_SATURDAY = date(2027, 2, 20)
BRIDGE_DAY = date(2027, 2, 12)
CAL = Calendar(exceptions={SWAP_SATURDAY: DayException(SWAP_SATURDAY, "working", "Quyết định 1/QĐ-UBND (thử)"),
                           BRIDGE_DAY: DayException(BRIDGE_DAY, "off", "Quyết định 1/QĐ-UBND (thử)")})


def vn(month: int, day: int, hour: int, minute: int = 0, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM)


def test_tet_2027_is_not_worked_and_the_days_around_it_are() -> None:
    assert [CAL.is_working_day(date(2027, 2, d)) for d in range(3, 12)] == [True] + [False] * 7 + [True]
    assert CAL.holiday(date(2027, 2, 8)) is not None and CAL.holiday(date(2027, 2, 11)) is None


def test_a_swap_saturday_of_the_table_is_worked_and_its_bridge_day_is_not() -> None:
    assert CAL.is_working_day(SWAP_SATURDAY) and not Calendar().is_working_day(SWAP_SATURDAY)
    assert not CAL.is_working_day(BRIDGE_DAY) and Calendar().is_working_day(BRIDGE_DAY)
    assert not CAL.is_working_day(date(2027, 2, 27))  # an ordinary Saturday


def test_an_online_dossier_at_17_05_on_a_friday_counts_from_monday_07_30() -> None:
    friday = vn(1, 22, 17, 5)  # Friday 22 January 2027
    assert Calendar().counted_from(friday, 2) == vn(1, 25, 7, 30)


def test_an_online_dossier_after_17_00_before_tet_counts_from_the_first_working_day_after_it() -> None:
    assert Calendar().counted_from(vn(2, 3, 17, 0), 2) == vn(2, 11, 7, 30)
    assert Calendar().counted_from(vn(2, 3, 16, 59), 2) == vn(2, 3, 16, 59)  # in office hours: as filed


def test_an_online_dossier_outside_office_hours_counts_from_their_next_start() -> None:
    assert Calendar().counted_from(vn(2, 11, 6, 0), 2) == vn(2, 11, 7, 30)  # early morning
    assert Calendar().counted_from(vn(2, 11, 12, 15), 2) == vn(2, 11, 13, 30)  # lunch break
    assert CAL.counted_from(vn(2, 19, 20, 0), 2) == vn(2, 20, 7, 30)  # the swap Saturday is worked
    assert Calendar().counted_from(vn(2, 6, 10, 0), 2) == vn(2, 11, 7, 30)  # on a holiday


def test_a_dossier_received_in_person_counts_from_its_receipt() -> None:
    assert Calendar().counted_from(vn(2, 3, 17, 30), 1) == vn(2, 3, 17, 30)
    assert Calendar().counted_from(vn(2, 3, 17, 30), 3) == vn(2, 3, 17, 30)


def test_working_days_are_added_and_counted_on_the_calendar() -> None:
    assert CAL.add_working_days(date(2027, 2, 3), 1) == date(2027, 2, 11)
    assert CAL.add_working_days(date(2027, 2, 11), 2) == date(2027, 2, 16)  # 12 is the bridge day
    assert CAL.working_days_between(date(2027, 2, 1), date(2027, 2, 28)) == 3 - 1 + 1 + 5 + 1 + 5  # 2..3, 11, 15-19, 20, 22-26
    assert CAL.previous_working_day(date(2027, 2, 11)) == date(2027, 2, 3)


def test_office_time_between_two_instants_skips_nights_lunch_and_days_off() -> None:
    # Friday 19 09:00 -> Monday 22 09:00: 6 h on Friday, 7.5 h on the swap Saturday, 1.5 h on Monday
    assert CAL.working_time_between(vn(2, 19, 9), vn(2, 22, 9)) == timedelta(hours=15)
    assert Calendar().working_time_between(vn(2, 19, 9), vn(2, 22, 9)) == timedelta(hours=7, minutes=30)
    assert CAL.working_time_between(vn(2, 22, 9), vn(2, 19, 9)) == timedelta(0)


def test_office_time_added_to_an_instant_lands_in_office_hours() -> None:
    assert CAL.add_working_time(vn(2, 22, 17), timedelta(hours=15)) == vn(2, 24, 17)
    assert CAL.add_working_time(vn(2, 3, 11), timedelta(hours=1)) == vn(2, 3, 14)  # over the lunch break
    assert CAL.add_working_time(vn(2, 3, 16), timedelta(hours=2)) == vn(2, 11, 8, 30)  # over Tết
    assert CAL.add_working_time(vn(2, 3, 16), timedelta(0)) == vn(2, 3, 16)


def test_office_hours_must_be_spans_in_order() -> None:
    assert parse_hours("08:00-12:00,13:00-17:30") == ((time(8), time(12)), (time(13), time(17, 30)))
    for bad in ("08:00-07:00", "08:00-12:00,11:00-17:00", "eight to five", ""):
        with pytest.raises(ValueError):
            parse_hours(bad)
