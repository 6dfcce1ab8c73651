"""One way to show a moment across Deskloop: in the reader's time zone and language, relative when it is recent.

Every page uses the ``|when`` template filter (``core/templatetags/when.py``) or ``moment()`` here for rows built in
Python, so the inbox, a ticket, the notifications and the settings tables say "5 minutes ago" / "6 December,
14:05" / "6 December 2025" the same way, in es and ru too. The exact moment is always in ``title`` and ``datetime``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

# Moments younger than this are said relative to now ("5 minutes ago").
RELATIVE_FOR = dt.timedelta(hours=12)


@dataclass(frozen=True)
class Moment:
    iso: str  # for <time datetime>
    exact: str  # the full date and time, for a title or where the exact moment matters
    text: str  # what is shown


def exact(value: dt.datetime) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def moment(value: dt.datetime, *, now: dt.datetime | None = None) -> Moment:
    """``value`` in the active time zone and language: relative when recent, else day (and year when not this one)
    with the time."""
    local = timezone.localtime(value)
    now = now or timezone.now()
    age = now - value
    if dt.timedelta(0) <= age < RELATIVE_FOR:
        text = _("just now") if age < dt.timedelta(minutes=1) else _("%(time)s ago") % {"time": _first_unit(value, now)}
    elif local.year == timezone.localtime(now).year:
        text = f"{date_format(local, 'MONTH_DAY_FORMAT')}, {time_format(local, 'TIME_FORMAT')}"
    else:
        text = date_format(local, "DATE_FORMAT")
    return Moment(iso=local.isoformat(), exact=exact(value), text=text)


def day(value: dt.date) -> str:
    """A calendar date (no time), in the active language."""
    return date_format(value, "DATE_FORMAT")


def _first_unit(value: dt.datetime, now: dt.datetime) -> str:
    return timesince(value, now, depth=1)
