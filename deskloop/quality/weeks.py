"""Review weeks: Monday to Sunday in the workspace's time zone (pure, no database)."""

from __future__ import annotations

import datetime as dt
import zoneinfo


def zone_of(time_zone: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def week_of(moment: dt.datetime, time_zone: str) -> dt.date:
    """The Monday of the week ``moment`` falls in, in ``time_zone``."""
    local = moment.astimezone(zone_of(time_zone)).date()
    return local - dt.timedelta(days=local.weekday())


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_bounds(week: dt.date, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the week beginning on Monday ``week``, as aware datetimes (a DST change makes it 167 or 169
    hours long)."""
    zone = zone_of(time_zone)
    start = dt.datetime.combine(week, dt.time.min, zone)
    end = dt.datetime.combine(week + dt.timedelta(days=7), dt.time.min, zone)
    return start, end


def day_bounds(since: dt.date, until: dt.date, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """[since 00:00, the day after ``until`` 00:00) in ``time_zone``: ``until`` is the last day included."""
    zone = zone_of(time_zone)
    return (
        dt.datetime.combine(since, dt.time.min, zone),
        dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, zone),
    )
