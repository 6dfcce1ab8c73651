"""The demo workspace's business calendars and routing: a late-shift support calendar (07:00-02:00 CET, every
day, the default) with holidays, an office-hours calendar, a desk in New York; agents on those shifts with
capacities (one of them away), Tier 1 routed round-robin and Billing least-loaded, tickets handed on after
30 minutes off shift."""

from __future__ import annotations

import datetime as dt

from deskloop.accounts.models import Agent, Team
from deskloop.assignment.models import Availability, RoutingMode
from deskloop.assignment.services import configure_team_routing, set_availability, update_agent_schedule
from deskloop.calendars.models import BusinessCalendar
from deskloop.calendars.services import CalendarFields, add_holiday, create_calendar

EVERY_DAY = range(7)
WEEKDAYS = range(5)
# (agent key, calendar name, capacity); agents not named are always on shift without a limit.
SHIFTS = [
    ("sam", "Support Europe", 12),
    ("lucia", "Support Europe", 10),
    ("dmitry", "Office hours Berlin", 8),
    ("grace", "New York desk", 10),
]


def _hours(days: range, start: str, end: str) -> list[dict[str, object]]:
    return [{"weekday": day, "start": start, "end": end} for day in days]


def seed_calendars_assignment(
    *, agents: dict[str, Agent], teams: dict[str, Team], admin: Agent, now: dt.datetime
) -> dict[str, BusinessCalendar]:
    specs = [
        CalendarFields("Support Europe", "Europe/Berlin", _hours(EVERY_DAY, "07:00", "02:00"), is_default=True),
        CalendarFields("Office hours Berlin", "Europe/Berlin", _hours(WEEKDAYS, "09:00", "17:30")),
        CalendarFields("New York desk", "America/New_York", _hours(WEEKDAYS, "08:00", "20:00")),
    ]
    calendars = {spec.name: create_calendar(actor=admin, fields=spec) for spec in specs}
    for year in (now.year, now.year + 1):
        for month, day, name in ((1, 1, "New Year's Day"), (12, 25, "Christmas Day"), (12, 26, "Boxing Day")):
            for calendar in calendars.values():
                add_holiday(actor=admin, calendar=calendar, date=dt.date(year, month, day), name=name)
    for key, calendar_name, capacity in SHIFTS:
        update_agent_schedule(actor=admin, agent=agents[key], calendar=calendars[calendar_name], capacity=capacity)
    set_availability(agent=agents["dmitry"], availability=Availability.AWAY)
    configure_team_routing(actor=admin, team=teams["Tier 1"], mode=RoutingMode.ROUND_ROBIN, reassign_after_minutes=30)
    configure_team_routing(actor=admin, team=teams["Billing"], mode=RoutingMode.LEAST_LOADED, reassign_after_minutes=30)
    return calendars
