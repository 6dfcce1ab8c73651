"""Business time across both daylight-saving changes, shifts that cross midnight, holidays and calendars in other
zones, with exact minutes; and the property that adding business time and measuring it again round-trips.

Berlin (CET/CEST) and Vilnius (EET/EEST) change at the same instants: 29 March 2026 01:00 UTC (clocks forward
an hour) and 25 October 2026 01:00 UTC (clocks back an hour)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from deskloop.calendars.business_time import (
    Schedule,
    add_business_minutes,
    business_minutes_between,
    business_seconds_between,
    is_open,
    next_open_at,
    open_intervals,
    parse_weekly_hours,
)

UTC = dt.UTC


def every_day(
    zone: str, start: str, end: str, days: range = range(7), holidays: frozenset[dt.date] = frozenset()
) -> Schedule:
    return Schedule(zone, parse_weekly_hours([{"weekday": d, "start": start, "end": end} for d in days]), holidays)


LATE_SHIFT = every_day("Europe/Berlin", "07:00", "02:00")
VILNIUS_OFFICE = every_day("Europe/Vilnius", "09:00", "17:00", range(5))
UTC_NIGHTS = every_day("UTC", "22:00", "06:00", holidays=frozenset({dt.date(2026, 12, 25)}))
AROUND_THE_CLOCK_BERLIN = every_day("Europe/Berlin", "00:00", "00:00")


def utc(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_the_late_shift_across_the_autumn_change_ends_at_the_first_two_oclock() -> None:
    # Sat 14:00 CEST -> the shift's end at 02:00 CEST Sunday (00:00Z): 12 h. Sunday 07:00 CET (06:00Z) -> Monday
    # 02:00 CET (01:00Z): 19 h. Monday 07:00 CET (06:00Z) -> 12:00Z: 6 h.
    assert business_minutes_between(LATE_SHIFT, utc(10, 24, 12), utc(10, 26, 12)) == 37 * 60
    # The closed night is an hour longer: 02:00 CEST (00:00Z) to 07:00 CET (06:00Z).
    assert not is_open(LATE_SHIFT, utc(10, 25, 0))
    assert next_open_at(LATE_SHIFT, utc(10, 25, 0)) == utc(10, 25, 6)
    assert open_intervals(LATE_SHIFT, utc(10, 24, 12), utc(10, 25, 12)) == [
        (utc(10, 24, 12), utc(10, 25, 0)),
        (utc(10, 25, 6), utc(10, 25, 12)),
    ]


def test_adding_time_across_the_autumn_change() -> None:
    # 01:30 CEST Sunday (23:30Z Saturday): 30 minutes left of the shift, the other 30 from 07:00 CET (06:00Z).
    assert add_business_minutes(LATE_SHIFT, utc(10, 24, 23, 30), 60) == utc(10, 25, 6, 30)
    # A whole Sunday shift (19 h) from its opening lands on its end, 02:00 CET Monday = 01:00Z.
    assert add_business_minutes(LATE_SHIFT, utc(10, 25, 6), 19 * 60) == utc(10, 26, 1)


def test_office_hours_across_the_spring_change_in_vilnius() -> None:
    # Friday 16:00 EET (14:00Z) to 17:00: 1 h; Monday 09:00 EEST (06:00Z) to 10:00 EEST (07:00Z): 1 h.
    assert business_minutes_between(VILNIUS_OFFICE, utc(3, 27, 14), utc(3, 30, 7)) == 120
    # Eight hours from Friday 16:00 EET: one on Friday, seven on Monday, ending 16:00 EEST = 13:00Z.
    assert add_business_minutes(VILNIUS_OFFICE, utc(3, 27, 14), 8 * 60) == utc(3, 30, 13)
    # The same local hours are an hour earlier in UTC after the change.
    assert next_open_at(VILNIUS_OFFICE, utc(3, 28, 12)) == utc(3, 30, 6)
    assert next_open_at(VILNIUS_OFFICE, utc(3, 21, 12)) == utc(3, 23, 7)


@pytest.mark.parametrize(("day", "hours"), [(dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25)])
def test_a_whole_local_day_counts_its_real_length(day: dt.date, hours: int) -> None:
    zone = AROUND_THE_CLOCK_BERLIN.zone
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(UTC)
    assert business_minutes_between(AROUND_THE_CLOCK_BERLIN, start, end) == hours * 60


def test_a_holiday_closes_only_the_night_shift_that_starts_on_it() -> None:
    # 24 Dec 22:00 -> 25 Dec 06:00 runs (it started the day before); the shift of the 25th is closed; the 26th's
    # starts at 22:00, after the end of the range.
    assert business_minutes_between(UTC_NIGHTS, utc(12, 24, 12), utc(12, 26, 12)) == 8 * 60
    assert is_open(UTC_NIGHTS, utc(12, 25, 5, 59))
    assert not is_open(UTC_NIGHTS, utc(12, 25, 23))
    assert next_open_at(UTC_NIGHTS, utc(12, 25, 6)) == utc(12, 26, 22)
    assert add_business_minutes(UTC_NIGHTS, utc(12, 25, 5), 120) == utc(12, 26, 23)


def test_a_holiday_on_the_spring_change_day_in_berlin() -> None:
    easter = dt.date(2026, 4, 5)
    closed = Schedule(LATE_SHIFT.time_zone, LATE_SHIFT.shifts, frozenset({easter}))
    # Saturday 4 April's shift runs 07:00-02:00 CEST, into Easter Sunday; Sunday's is closed; Monday's opens 05:00Z.
    assert business_minutes_between(closed, utc(4, 4, 12), utc(4, 6, 6)) == (12 + 1) * 60
    assert next_open_at(closed, utc(4, 5, 0)) == utc(4, 6, 5)


def test_partial_minutes_are_floored_and_an_empty_range_is_zero() -> None:
    start = dt.datetime(2026, 3, 2, 10, 0, 30, tzinfo=UTC)  # Monday, 12:00:30 in Vilnius
    assert business_seconds_between(VILNIUS_OFFICE, start, start + dt.timedelta(seconds=119)) == 119
    assert business_minutes_between(VILNIUS_OFFICE, start, start + dt.timedelta(seconds=119)) == 1
    assert business_minutes_between(VILNIUS_OFFICE, start, start) == 0
    assert business_minutes_between(VILNIUS_OFFICE, start, start - dt.timedelta(hours=1)) == 0


# --- properties -------------------------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "Europe/Vilnius", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    """Random weekly hours on a 15-minute grid (overnight and whole-day shifts included) and some holidays."""
    shifts = []
    for weekday in range(7):
        if draw(st.booleans()):
            start = draw(st.integers(0, 95)) * 15
            end = draw(st.integers(0, 95)) * 15
            shifts.append(
                {
                    "weekday": weekday,
                    "start": f"{start // 60:02}:{start % 60:02}",
                    "end": f"{end // 60:02}:{end % 60:02}",
                }
            )
    assume(shifts)
    holidays = draw(st.frozensets(st.dates(dt.date(2026, 1, 1), dt.date(2027, 3, 31)), max_size=20))
    return Schedule(draw(st.sampled_from(ZONES)), parse_weekly_hours(shifts), holidays)


moments = st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31), timezones=st.just(UTC))


@given(schedule=schedules(), start=moments, minutes=st.integers(0, 60 * 24 * 21))
def test_adding_then_measuring_business_time_round_trips(schedule: Schedule, start: dt.datetime, minutes: int) -> None:
    end = add_business_minutes(schedule, start, minutes)
    assert end is not None  # every generated calendar opens at least once a week
    assert business_minutes_between(schedule, start, end) == minutes
    assert business_seconds_between(schedule, start, end) == minutes * 60


@given(schedule=schedules(), start=moments, first=st.integers(0, 60 * 24 * 7), second=st.integers(0, 60 * 24 * 7))
def test_adding_in_two_steps_is_adding_once(schedule: Schedule, start: dt.datetime, first: int, second: int) -> None:
    at_once = add_business_minutes(schedule, start, first + second)
    # A calendar open half an hour a week does not reach 4,711 minutes within the horizon (about three years):
    # None by design, while two steps each start a new horizon.
    assume(at_once is not None)
    halfway = add_business_minutes(schedule, start, first)
    assert halfway is not None
    assert add_business_minutes(schedule, halfway, second) == at_once


def open_time(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    return sum((close - open_ for open_, close in open_intervals(schedule, start, end)), dt.timedelta())


@given(schedule=schedules(), start=moments, hours=st.integers(0, 24 * 10), split=st.floats(0, 1))
def test_business_time_is_additive_over_a_split_range(
    schedule: Schedule, start: dt.datetime, hours: int, split: float
) -> None:
    end = start + dt.timedelta(hours=hours)
    middle = start + (end - start) * split
    whole = open_time(schedule, start, end)
    # Exact in timedeltas; business_seconds_between floors each part to whole seconds.
    assert whole == open_time(schedule, start, middle) + open_time(schedule, middle, end)
    assert dt.timedelta(0) <= whole <= end - start
    assert business_seconds_between(schedule, start, end) == int(whole.total_seconds())


@given(schedule=schedules(), at=moments)
def test_next_open_is_open_and_nothing_is_open_before_it(schedule: Schedule, at: dt.datetime) -> None:
    opening = next_open_at(schedule, at)
    assert opening is not None
    assert is_open(schedule, opening)
    assert business_seconds_between(schedule, at, opening) == 0


def test_a_shift_edge_the_spring_change_skips_is_the_moment_the_clocks_jump() -> None:
    """02:30 never shows on Berlin's clocks on 29 March 2026 (they jump from 02:00 CET to 03:00 CEST at 01:00Z).
    A shift ending at 02:30 ends at the jump, not half an hour into summer time; one starting at 02:30 starts at
    the jump, not at 03:30 CEST."""
    night = Schedule("Europe/Berlin", parse_weekly_hours([{"weekday": 5, "start": "20:00", "end": "02:30"}]))
    early = Schedule("Europe/Berlin", parse_weekly_hours([{"weekday": 6, "start": "02:30", "end": "10:00"}]))
    assert open_intervals(night, utc(3, 28, 0), utc(3, 30, 0)) == [(utc(3, 28, 19), utc(3, 29, 1))]
    assert open_intervals(early, utc(3, 28, 0), utc(3, 30, 0)) == [(utc(3, 29, 1), utc(3, 29, 8))]
    assert business_minutes_between(night, utc(3, 28, 0), utc(3, 30, 0)) == 6 * 60
    assert next_open_at(early, utc(3, 28, 12)) == utc(3, 29, 1)
