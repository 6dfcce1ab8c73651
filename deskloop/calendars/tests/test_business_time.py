"""Business-time arithmetic on the shift the issue names: 07:00-02:00 Central European Time, seven days a week,
across the spring daylight-saving change (Europe/Berlin, 29 March 2026)."""

from __future__ import annotations

import datetime as dt

import pytest

from deskloop.calendars.business_time import (
    Schedule,
    add_business_minutes,
    business_minutes_between,
    is_open,
    next_open_at,
    parse_weekly_hours,
)

UTC = dt.UTC
LATE_SHIFT = Schedule(
    "Europe/Berlin", parse_weekly_hours([{"weekday": day, "start": "07:00", "end": "02:00"} for day in range(7)])
)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_minutes_across_the_spring_change_count_real_time() -> None:
    # Sat 12:00Z to 01:00Z (02:00 CET) = 13 h; Sun 05:00Z (07:00 CEST) to Mon 00:00Z (02:00 CEST) = 19 h;
    # Mon 05:00Z to 12:00Z = 7 h.
    assert business_minutes_between(LATE_SHIFT, at(28, 12), at(30, 12)) == 39 * 60


def test_adding_time_skips_the_night_and_lands_in_the_next_shift() -> None:
    # 00:30Z Saturday is 01:30 CET, half an hour before the Friday shift ends at 02:00.
    assert add_business_minutes(LATE_SHIFT, at(28, 0, 30), 60) == at(28, 6, 30)
    assert not is_open(LATE_SHIFT, at(28, 2))
    assert next_open_at(LATE_SHIFT, at(28, 2)) == at(28, 6)


def test_a_holiday_closes_the_shift_that_starts_on_it() -> None:
    closed_sunday = Schedule(LATE_SHIFT.time_zone, LATE_SHIFT.shifts, frozenset({dt.date(2026, 3, 29)}))
    # Saturday's shift still runs to its end at 02:00 local (a time the spring change skips, read as 01:00Z);
    # Sunday's shift is gone; Monday's starts at 05:00Z.
    assert business_minutes_between(closed_sunday, at(28, 12), at(30, 12)) == (13 + 7) * 60


def test_a_calendar_without_hours_never_reaches_a_target() -> None:
    assert add_business_minutes(Schedule("UTC", ()), at(28, 12), 1) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("07:00-17:00", "must be a list"),
        ([{"weekday": 7, "start": "07:00", "end": "17:00"}], "weekday must be 0"),
        ([{"weekday": 0, "start": "7am", "end": "17:00"}], "is not a time"),
        (
            [{"weekday": 0, "start": "07:00", "end": "17:00"}, {"weekday": 0, "start": "16:00", "end": "18:00"}],
            "overlap",
        ),
    ],
)
def test_bad_weekly_hours_are_refused_with_a_reason(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_weekly_hours(raw)
