"""Reading calendars: the schedule a workspace counts business time in when nothing more specific applies."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet
from django.http import Http404

from deskloop.accounts.models import Agent
from deskloop.calendars.business_time import Schedule
from deskloop.calendars.models import BusinessCalendar, Holiday


def default_calendar(workspace_id: int) -> BusinessCalendar | None:
    return BusinessCalendar.objects.filter(workspace_id=workspace_id, is_default=True).first()


def default_schedule(workspace_id: int) -> Schedule:
    """The default calendar's schedule; a workspace without one is open around the clock (UTC)."""
    calendar = default_calendar(workspace_id)
    return calendar.schedule() if calendar is not None else Schedule.always_open()


def calendars_of_workspace(workspace_id: int) -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.filter(workspace_id=workspace_id).annotate(holiday_count=Count("holidays"))


def get_calendar_for_agent(agent: Agent, calendar_id: int) -> BusinessCalendar:
    """The calendar of the agent's workspace, or 404 (never another workspace's)."""
    calendar = BusinessCalendar.objects.filter(pk=calendar_id, workspace_id=agent.workspace_id).first()
    if calendar is None:
        raise Http404
    return calendar


def get_holiday_for_agent(agent: Agent, calendar: BusinessCalendar, holiday_id: int) -> Holiday:
    holiday = Holiday.objects.filter(pk=holiday_id, calendar=calendar, workspace_id=agent.workspace_id).first()
    if holiday is None:
        raise Http404
    return holiday


def holidays_of(calendar: BusinessCalendar, since: dt.date | None = None) -> QuerySet[Holiday]:
    holidays = Holiday.objects.filter(calendar=calendar).order_by("date", "id")
    return holidays.filter(date__gte=since) if since is not None else holidays


def calendar_choices(workspace_id: int) -> list[tuple[int, str]]:
    return list(BusinessCalendar.objects.filter(workspace_id=workspace_id).order_by("name").values_list("id", "name"))
