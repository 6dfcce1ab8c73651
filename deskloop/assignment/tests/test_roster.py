"""The roster the staffing page sets against the agents needed: agents on shift per hour of the coming week, in
the workspace's time zone, from each agent's calendar (no calendar = always on shift)."""

from __future__ import annotations

import datetime as dt

import time_machine

from deskloop.accounts.services import set_agent_active
from deskloop.assignment.queries import roster
from deskloop.assignment.services import update_agent_schedule
from deskloop.calendars.models import BusinessCalendar, Holiday
from deskloop.conftest import Cast


def calendar(acme: Cast, name: str, zone: str, days: range, start: str, end: str) -> BusinessCalendar:
    return BusinessCalendar.objects.create(
        workspace=acme.workspace,
        name=name,
        time_zone=zone,
        weekly_hours=[{"weekday": day, "start": start, "end": end} for day in days],
    )


def test_roster_counts_agents_on_shift_per_hour_of_the_week_in_the_workspace_time_zone(acme: Cast) -> None:
    acme.workspace.time_zone = "Europe/Berlin"
    acme.workspace.save()
    late = calendar(acme, "Late shift", "Europe/Berlin", range(7), "07:00", "02:00")
    office = calendar(acme, "Office", "Europe/Berlin", range(5), "09:00", "17:30")
    new_york = calendar(acme, "New York", "America/New_York", range(5), "09:00", "17:00")
    Holiday.objects.create(workspace=acme.workspace, calendar=office, date=dt.date(2026, 3, 23), name="Not usual")
    update_agent_schedule(actor=acme.admin, agent=acme.agent, calendar=late, capacity=None)
    update_agent_schedule(actor=acme.admin, agent=acme.admin, calendar=office, capacity=None)
    update_agent_schedule(actor=acme.admin, agent=acme.other_team_agent, calendar=new_york, capacity=None)
    # The owner has no calendar (always on shift); the light agent and the viewer take no tickets.
    with time_machine.travel(dt.datetime(2026, 3, 18, 12, 0, tzinfo=dt.UTC), tick=False):
        # The coming week starts Monday 23 March: New York is on summer time already (UTC-4), Berlin not yet
        # (UTC+1), so New York's 09:00-17:00 is 14:00-22:00 in Berlin.
        hours = roster(acme.workspace.pk)
    assert len(hours) == 168
    monday = {hour: hours[(0, hour)] for hour in range(24)}
    assert monday == {
        0: 2, 1: 2, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 2, 8: 2,
        9: 3, 10: 3, 11: 3, 12: 3, 13: 3,
        14: 4, 15: 4, 16: 4, 17: 4,  # the office's last half hour 17:00-17:30 counts
        18: 3, 19: 3, 20: 3, 21: 3, 22: 2, 23: 2,
    }  # fmt: skip
    assert (hours[(5, 10)], hours[(6, 1)], hours[(6, 3)]) == (2, 2, 1)
    assert sum(hours.values()) == 168 + 19 * 7 + 9 * 5 + 8 * 5


def test_deactivated_agents_are_not_on_the_roster(acme: Cast) -> None:
    set_agent_active(actor=acme.owner, agent=acme.other_team_agent, active=False)
    with time_machine.travel(dt.datetime(2026, 3, 18, 12, 0, tzinfo=dt.UTC), tick=False):
        hours = roster(acme.workspace.pk)
    # Owner, admin and Maria, all without a calendar.
    assert set(hours.values()) == {3}
