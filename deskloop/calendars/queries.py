"""Reading calendars: the schedule a workspace counts business time in when nothing more specific applies."""

from __future__ import annotations

from deskloop.calendars.business_time import Schedule
from deskloop.calendars.models import BusinessCalendar


def default_calendar(workspace_id: int) -> BusinessCalendar | None:
    return BusinessCalendar.objects.filter(workspace_id=workspace_id, is_default=True).first()


def default_schedule(workspace_id: int) -> Schedule:
    """The default calendar's schedule; a workspace without one is open around the clock (UTC)."""
    calendar = default_calendar(workspace_id)
    return calendar.schedule() if calendar is not None else Schedule.always_open()
