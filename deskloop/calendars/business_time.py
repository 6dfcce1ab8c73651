"""Counting time in business hours: the arithmetic behind SLA clocks, agents' shifts and the staffing roster.

Pure Python (no Django): a ``Schedule`` is a time zone, the weekly shifts and the holiday dates. Shifts are local
wall-clock times, so a 07:00-02:00 shift stays 07:00-02:00 across daylight-saving changes; its length in real time
is what the clocks count (the autumn night is an hour longer). A shift whose end is not after its start ends the
next day; 00:00-00:00 is the whole day. A holiday closes the shifts that start on that local date, so a night shift
starting the evening before a holiday runs as usual.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Adding business time walks the calendar forward this far at most: a target beyond it is reported as never
# reached (None) instead of walking forever through a calendar that is almost never open.
HORIZON_DAYS = 3 * 366
_CHUNK_DAYS = 14
_MIDNIGHT = dt.time(0, 0)


@dataclass(frozen=True)
class Shift:
    weekday: int  # Monday is 0, as datetime.weekday()
    start: dt.time
    end: dt.time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True)
class Schedule:
    time_zone: str
    shifts: tuple[Shift, ...]
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def always_open(cls) -> Schedule:
        return cls("UTC", tuple(Shift(day, _MIDNIGHT, _MIDNIGHT) for day in range(7)))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def parse_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


def _parse_clock(value: object, what: str) -> dt.time:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a time like 07:00")
    try:
        hours, minutes = value.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a time like 07:00") from None


def parse_weekly_hours(raw: object, *, max_shifts: int = 70) -> tuple[Shift, ...]:
    """Shifts from ``[{"weekday": 0, "start": "07:00", "end": "02:00"}, ...]``. Shifts of one weekday may not
    overlap (a typo that doubles the hours would otherwise go unnoticed); they may touch."""
    if not isinstance(raw, list):
        raise ValueError("weekly hours must be a list of shifts")
    if len(raw) > max_shifts:
        raise ValueError(f"at most {max_shifts} shifts a week")
    shifts: list[Shift] = []
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"shift {position} must be an object with weekday, start and end")
        weekday = item.get("weekday")
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise ValueError(f"shift {position}: weekday must be 0 (Monday) to 6 (Sunday)")
        start = _parse_clock(item.get("start"), f"shift {position}: start")
        end = _parse_clock(item.get("end"), f"shift {position}: end")
        shifts.append(Shift(weekday, start, end))
    for weekday in range(7):
        spans = sorted(_minutes_span(shift) for shift in shifts if shift.weekday == weekday)
        for (_, previous_end), (next_start, _) in itertools.pairwise(spans):
            if next_start < previous_end:
                raise ValueError(f"shifts on weekday {weekday} overlap")
    return tuple(sorted(shifts, key=lambda shift: (shift.weekday, shift.start)))


def _minutes_span(shift: Shift) -> tuple[int, int]:
    start = shift.start.hour * 60 + shift.start.minute
    end = shift.end.hour * 60 + shift.end.minute
    return start, end if end > start else end + 24 * 60


def weekly_hours_as_json(shifts: Iterable[Shift]) -> list[dict[str, object]]:
    return [
        {"weekday": shift.weekday, "start": shift.start.strftime("%H:%M"), "end": shift.end.strftime("%H:%M")}
        for shift in shifts
    ]


def _local(day: dt.date, clock: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a local wall-clock time. One that happens twice (autumn) is its first occurrence
    (fold=0). One the spring change skips is the moment the clocks jump past it: a shift ending at 02:30 on a
    night whose clocks go from 02:00 to 03:00 ends at the jump, as the wall clock shows."""
    wall = dt.datetime.combine(day, clock)
    instant = wall.replace(tzinfo=zone).astimezone(dt.UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    return _jump_past(wall, zone)


def _jump_past(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first instant whose local time is at or after ``wall``, a time in a gap. Read with the offset after
    the change (fold=1) it lies before the jump, with the offset before it (fold=0) after; the jump is found by
    halving that span (an hour at most, so about a dozen steps, and only for the rare times in a gap)."""
    before = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    after = int(wall.replace(tzinfo=zone, fold=0).timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if dt.datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return dt.datetime.fromtimestamp(after, dt.UTC)


def _day_intervals(schedule: Schedule, zone: ZoneInfo, day: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    if day in schedule.holidays:
        return
    for shift in schedule.shifts:
        if shift.weekday != day.weekday():
            continue
        end_day = day + dt.timedelta(days=1) if shift.crosses_midnight else day
        start, end = _local(day, shift.start, zone), _local(end_day, shift.end, zone)
        if end > start:
            yield start, end


def open_intervals(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The open periods within [start, end), in UTC, sorted and merged (touching shifts become one period)."""
    if end <= start or not schedule.shifts:
        return []
    zone = schedule.zone
    # A shift that started the day before may still be running at ``start``.
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last_day = end.astimezone(zone).date()
    pieces: list[tuple[dt.datetime, dt.datetime]] = []
    while day <= last_day:
        for open_at, close_at in _day_intervals(schedule, zone, day):
            clipped = max(open_at, start), min(close_at, end)
            if clipped[1] > clipped[0]:
                pieces.append(clipped)
        day += dt.timedelta(days=1)
    return _merged(pieces)


def _merged(pieces: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for open_at, close_at in sorted(pieces):
        if merged and open_at <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], close_at))
        else:
            merged.append((open_at, close_at))
    return merged


def business_seconds_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> int:
    total = sum(((close_at - open_at) for open_at, close_at in open_intervals(schedule, start, end)), dt.timedelta())
    return int(total.total_seconds())


def business_minutes_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> int:
    """Whole business minutes from ``start`` to ``end`` (0 when end is not after start)."""
    return business_seconds_between(schedule, start, end) // 60


def add_business_minutes(schedule: Schedule, start: dt.datetime, minutes: int) -> dt.datetime | None:
    """The moment ``minutes`` of business time after ``start``; None when the calendar does not open that much
    within ``HORIZON_DAYS``. Zero minutes is ``start`` itself, open or not."""
    if minutes <= 0:
        return start
    if not schedule.shifts:
        return None
    remaining = dt.timedelta(minutes=minutes)
    chunk_start = start
    horizon = start + dt.timedelta(days=HORIZON_DAYS)
    while chunk_start < horizon:
        chunk_end = min(chunk_start + dt.timedelta(days=_CHUNK_DAYS), horizon)
        for open_at, close_at in open_intervals(schedule, chunk_start, chunk_end):
            length = close_at - open_at
            if remaining <= length:
                return open_at + remaining
            remaining -= length
        chunk_start = chunk_end
    return None


def is_open(schedule: Schedule, at: dt.datetime) -> bool:
    return bool(open_intervals(schedule, at, at + dt.timedelta(seconds=1)))


def next_open_at(schedule: Schedule, at: dt.datetime) -> dt.datetime | None:
    """``at`` itself when open, else the next opening within ``HORIZON_DAYS``."""
    chunk_start = at
    horizon = at + dt.timedelta(days=HORIZON_DAYS)
    while chunk_start < horizon:
        chunk_end = min(chunk_start + dt.timedelta(days=_CHUNK_DAYS), horizon)
        intervals = open_intervals(schedule, chunk_start, chunk_end)
        if intervals:
            return intervals[0][0]
        chunk_start = chunk_end
    return None
