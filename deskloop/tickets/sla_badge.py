"""The SLA badge of a ticket (inbox row, ticket page): time left to ``Ticket.sla_due_at``, breached, or paused.

The page renders the text for the server's now and carries that now (``data-sla-now``) with the deadline
(``data-sla-due``); ``static/deskloop/sla.js`` counts on from there every second, so the countdown is live without a
reload and follows the server's clock, not the visitor's. The two time formats here and in sla.js are the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class SlaBadge:
    state: str  # "running", "breached", "paused" or "" (no SLA clock)
    due_iso: str
    text: str


NO_SLA = SlaBadge("", "", "")


def clock_text(seconds: int) -> str:
    """1:05:09 under a day, "2 d 3 h" from a day on (the same as sla.js)."""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": rest // 3600}
    return f"{rest // 3600}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def left_template() -> str:
    return _("%(time)s left")


def breached_template() -> str:
    return _("breached %(time)s ago")


def sla_badge(due_at: dt.datetime | None, paused: bool, now: dt.datetime) -> SlaBadge:
    if due_at is None:
        return SlaBadge("paused", "", _("SLA paused")) if paused else NO_SLA
    seconds = int((due_at - now).total_seconds())
    if seconds > 0:
        return SlaBadge("running", due_at.isoformat(), left_template() % {"time": clock_text(seconds)})
    return SlaBadge("breached", due_at.isoformat(), breached_template() % {"time": clock_text(seconds)})


@dataclass(frozen=True)
class SlaClock:
    """What sla.js needs on the element around the badges: the server's now and the translated formats."""

    now_iso: str
    left: str
    breached: str
    days: str


def sla_clock(now: dt.datetime) -> SlaClock:
    return SlaClock(
        now_iso=now.isoformat(), left=left_template(), breached=breached_template(), days=_("%(days)d d %(hours)d h")
    )
