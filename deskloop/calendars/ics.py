"""Holidays from an iCalendar (.ics) file: the all-day events of a public-holiday calendar, as exported by the
usual calendar programs and government sites.

Pure Python, no Django. What is read: VEVENTs with ``DTSTART;VALUE=DATE`` (an optional ``DTEND`` makes a span of
days, at most ``MAX_SPAN_DAYS``), ``SUMMARY``, ``UID``, ``EXDATE`` dates, and ``RRULE:FREQ=YEARLY`` with
``INTERVAL``, ``COUNT`` or ``UNTIL`` (the same day every year). Not read, and reported per event: timed events,
other recurrences (monthly, weekly, "last Monday of May": BYDAY and friends) and events without a UID. Yearly
events are expanded up to ``YEARS_AHEAD`` years after ``today``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_BYTES = 1_000_000
MAX_EVENTS = 2_000
MAX_HOLIDAYS = 5_000
MAX_SPAN_DAYS = 31
YEARS_AHEAD = 5
NAME_MAX = 200
UID_MAX = 255
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class IcsError(ValueError):
    """The file as a whole cannot be read (nothing is imported)."""


@dataclass(frozen=True)
class IcsHoliday:
    uid: str
    date: dt.date
    name: str


@dataclass
class IcsParseResult:
    holidays: list[IcsHoliday] = field(default_factory=list)
    # (the event's summary or UID, why it was left out), for the person importing.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _unfolded_lines(text: str) -> Iterator[str]:
    """RFC 5545 lines: a line starting with a space or tab continues the previous one."""
    current: str | None = None
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and current is not None:
            current += raw[1:]
            continue
        if current is not None:
            yield current
        current = raw
    if current is not None:
        yield current


def _split(line: str) -> tuple[str, dict[str, str], str]:
    """``NAME;PARAM=V:value`` -> (NAME, {PARAM: V}, value)."""
    head, _colon, value = line.partition(":")
    name, *params = head.split(";")
    parameters = {}
    for param in params:
        key, _equals, param_value = param.partition("=")
        parameters[key.upper()] = param_value.strip('"')
    return name.upper(), parameters, value


def _text(value: str) -> str:
    return (
        value.replace("\\n", " ").replace("\\N", " ").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")
    ).strip()


def _date(value: str) -> dt.date | None:
    match = _DATE.match(value.strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _events(text: str) -> Iterator[dict[str, list[tuple[dict[str, str], str]]]]:
    event: dict[str, list[tuple[dict[str, str], str]]] | None = None
    for line in _unfolded_lines(text):
        if not line.strip():
            continue
        name, params, value = _split(line)
        if name == "BEGIN" and value.upper() == "VEVENT":
            event = {}
        elif name == "END" and value.upper() == "VEVENT":
            if event is not None:
                yield event
            event = None
        elif event is not None:
            event.setdefault(name, []).append((params, value))


def parse_holidays(content: bytes, *, today: dt.date) -> IcsParseResult:
    """The holidays in ``content``; IcsError when it is not a readable calendar or is too large."""
    if len(content) > MAX_BYTES:
        raise IcsError(f"the file is larger than {MAX_BYTES // 1000} kB")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IcsError("the file is not UTF-8 text") from exc
    if "BEGIN:VCALENDAR" not in text.upper():
        raise IcsError("the file is not an iCalendar (.ics) file")
    result = IcsParseResult()
    until_year = today.year + YEARS_AHEAD
    for count, event in enumerate(_events(text), start=1):
        if count > MAX_EVENTS:
            raise IcsError(f"the file has more than {MAX_EVENTS} events")
        _read_event(event, until_year, result)
        if len(result.holidays) > MAX_HOLIDAYS:
            raise IcsError(f"the file makes more than {MAX_HOLIDAYS} holidays")
    return result


def _first(event: dict[str, list[tuple[dict[str, str], str]]], name: str) -> tuple[dict[str, str], str] | None:
    values = event.get(name)
    return values[0] if values else None


def _read_event(event: dict[str, list[tuple[dict[str, str], str]]], until_year: int, result: IcsParseResult) -> None:
    summary_line = _first(event, "SUMMARY")
    summary = _text(summary_line[1])[:NAME_MAX] if summary_line else ""
    uid_line = _first(event, "UID")
    uid = uid_line[1].strip()[:UID_MAX] if uid_line else ""
    label = summary or uid or "?"
    if not uid:
        result.skipped.append((label, "no UID"))
        return
    start_line = _first(event, "DTSTART")
    start = _date(start_line[1]) if start_line else None
    if start_line is None or start is None or start_line[0].get("VALUE", "DATE").upper() != "DATE":
        result.skipped.append((label, "not an all-day event"))
        return
    span = _span_days(event, start)
    if span is None:
        result.skipped.append((label, f"longer than {MAX_SPAN_DAYS} days"))
        return
    starts = _occurrences(event, start, until_year)
    if starts is None:
        result.skipped.append((label, "repeats in a way other than once a year on the same day"))
        return
    excluded = {day for params, value in event.get("EXDATE", []) for day in map(_date, value.split(",")) if day}
    for first_day in starts:
        if first_day in excluded:
            continue
        for offset in range(span):
            result.holidays.append(IcsHoliday(uid, first_day + dt.timedelta(days=offset), summary))


def _span_days(event: dict[str, list[tuple[dict[str, str], str]]], start: dt.date) -> int | None:
    end_line = _first(event, "DTEND")
    end = _date(end_line[1]) if end_line else None
    days = (end - start).days if end is not None else 1  # DTEND of an all-day event is exclusive
    if days > MAX_SPAN_DAYS:
        return None
    return max(days, 1)


def _occurrences(
    event: dict[str, list[tuple[dict[str, str], str]]], start: dt.date, until_year: int
) -> list[dt.date] | None:
    rule_line = _first(event, "RRULE")
    if rule_line is None:
        return [start]
    parts = dict(part.partition("=")[::2] for part in rule_line[1].upper().split(";") if part)
    allowed = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYMONTHDAY", "WKST"}
    if parts.get("FREQ") != "YEARLY" or set(parts) - allowed:
        return None
    if parts.get("BYMONTH", str(start.month)) != str(start.month):
        return None
    if parts.get("BYMONTHDAY", str(start.day)) != str(start.day):
        return None
    try:
        interval = max(int(parts.get("INTERVAL", "1")), 1)
        count = int(parts["COUNT"]) if "COUNT" in parts else None
    except ValueError:
        return None
    until = _date(parts["UNTIL"][:8]) if "UNTIL" in parts else None
    days: list[dt.date] = []
    year = start.year
    while year <= until_year and (count is None or len(days) < count):
        try:
            day = start.replace(year=year)
        except ValueError:  # 29 February in a year without it: that year has no such holiday
            day = None
        if day is not None:
            if until is not None and day > until:
                break
            days.append(day)
        year += interval
    return days
