"""Reads for routing: who is available and on shift, each agent's open load, a team's routing, and the roster of
agents on shift per hour of the week (the staffing page compares it with the agents needed)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone

from deskloop.accounts.models import WRITER_ROLES, Agent, Team, Workspace
from deskloop.assignment.models import AgentSchedule, Availability, RoutingMode, TeamRouting
from deskloop.calendars.business_time import (
    Schedule,
    business_seconds_between,
    is_open,
    open_intervals,
    parse_weekly_hours,
)
from deskloop.calendars.models import BusinessCalendar
from deskloop.tickets.models import ACTIVE_CATEGORIES
from deskloop.tickets.queries import live_tickets

# An agent counts in the roster for an hour of the week when on shift for at least this much of it.
ROSTER_MIN_SECONDS = 30 * 60


def schedule_for(agent: Agent) -> AgentSchedule:
    """The agent's schedule row, or an unsaved one with the defaults (online, always on shift, no limit)."""
    found = AgentSchedule.objects.select_related("calendar").filter(agent_id=agent.pk).first()
    return found or AgentSchedule(workspace_id=agent.workspace_id, agent=agent)


def schedules_of(agent_ids: Iterable[int], workspace_id: int) -> dict[int, AgentSchedule]:
    """Schedule per agent id, defaults for those without a row (calendars loaded with their holidays)."""
    wanted = list(agent_ids)
    rows = {
        row.agent_id: row
        for row in AgentSchedule.objects.select_related("calendar").filter(
            workspace_id=workspace_id, agent_id__in=wanted
        )
    }
    return {
        agent_id: rows.get(agent_id) or AgentSchedule(workspace_id=workspace_id, agent_id=agent_id)
        for agent_id in wanted
    }


def shift_schedule(schedule: AgentSchedule) -> Schedule:
    """The agent's shifts as business time; no calendar = always on shift."""
    if schedule.calendar is None:
        return Schedule.always_open()
    return schedule.calendar.schedule()


def open_load(workspace_id: int, agent_ids: Iterable[int]) -> dict[int, int]:
    """Open tickets (active status categories) assigned to each agent; 0 for none."""
    wanted = list(agent_ids)
    counts = (
        live_tickets(workspace_id)
        .filter(assignee_id__in=wanted, status__category__in=ACTIVE_CATEGORIES)
        .values("assignee_id")
        .annotate(open_count=Count("id"))
        .order_by()
    )
    load = dict.fromkeys(wanted, 0)
    load.update({row["assignee_id"]: row["open_count"] for row in counts})
    return load


@dataclass(frozen=True)
class Candidate:
    """A team member routing may give a ticket to now."""

    agent: Agent
    open_tickets: int
    last_assigned_at: dt.datetime | None


def team_candidates(team: Team, now: dt.datetime) -> list[Candidate]:
    """Members who may take a ticket now, in a stable order (by agent id): active, with a writer role, online, on
    shift by their calendar and under their capacity."""
    members = list(
        Agent.objects.select_related("user")
        .filter(teams=team, is_active=True, role__in=WRITER_ROLES, workspace_id=team.workspace_id)
        .order_by("id")
    )
    schedules = schedules_of((member.pk for member in members), team.workspace_id)
    load = open_load(team.workspace_id, schedules)
    candidates: list[Candidate] = []
    for member in members:
        schedule = schedules[member.pk]
        if schedule.availability != Availability.ONLINE or not is_open(shift_schedule(schedule), now):
            continue
        if schedule.capacity is not None and load[member.pk] >= schedule.capacity:
            continue
        candidates.append(Candidate(member, load[member.pk], schedule.last_assigned_at))
    return candidates


def routing_of(team: Team) -> TeamRouting:
    """The team's routing row, or an unsaved manual one."""
    found = TeamRouting.objects.filter(team_id=team.pk).first()
    return found or TeamRouting(workspace_id=team.workspace_id, team=team, mode=RoutingMode.MANUAL)


def routed_team_ids(workspace_id: int) -> set[int]:
    """Teams whose new tickets are assigned automatically."""
    return set(
        TeamRouting.objects.filter(workspace_id=workspace_id)
        .exclude(mode=RoutingMode.MANUAL)
        .values_list("team_id", flat=True)
    )


def routing_by_team(workspace_id: int) -> dict[int, TeamRouting]:
    return {routing.team_id: routing for routing in TeamRouting.objects.filter(workspace_id=workspace_id)}


def off_shift_since(schedule: Schedule, now: dt.datetime, look_back_days: int = 8) -> dt.datetime | None:
    """When the shift before ``now`` ended, for a calendar closed at ``now``; None while on shift. A calendar not
    open at all in the look-back period counts as closed since the start of that period."""
    if is_open(schedule, now):
        return None
    since = now - dt.timedelta(days=look_back_days)
    intervals = open_intervals(schedule, since, now)
    return intervals[-1][1] if intervals else since


def unavailable_since(schedule: AgentSchedule, now: dt.datetime) -> dt.datetime | None:
    """Since when the agent cannot take tickets (not online, or off shift), the earlier of the two; None when they
    can."""
    moments: list[dt.datetime] = []
    if schedule.availability != Availability.ONLINE:
        moments.append(schedule.availability_changed_at)
    off_shift = off_shift_since(shift_schedule(schedule), now)
    if off_shift is not None:
        moments.append(off_shift)
    return min(moments) if moments else None


def _week_start(zone: ZoneInfo, now: dt.datetime) -> dt.date:
    """The Monday of the week after ``now``'s week, local: the roster describes the coming week."""
    today = now.astimezone(zone).date()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)


def roster(workspace_id: int, now: dt.datetime | None = None) -> dict[tuple[int, int], int]:
    """Agents on shift per (weekday Monday 0, hour 0-23) of the coming week in the workspace's time zone: active
    agents with a writer role, on shift by their calendar for at least half of that hour (no calendar = always).
    Holidays are left out: the roster is the usual week. Every one of the 168 hours is in the result."""
    moment = now or timezone.now()
    workspace = Workspace.objects.get(pk=workspace_id)
    zone = ZoneInfo(workspace.time_zone)
    monday = _week_start(zone, moment)
    hours = [
        (weekday, hour, dt.datetime.combine(monday + dt.timedelta(days=weekday), dt.time(hour), tzinfo=zone))
        for weekday in range(7)
        for hour in range(24)
    ]
    agent_calendars = list(
        Agent.objects.filter(workspace_id=workspace_id, is_active=True, role__in=WRITER_ROLES).values_list(
            "id", "schedule__calendar"
        )
    )
    per_calendar: dict[int | None, int] = defaultdict(int)
    for _agent_id, agent_calendar_id in agent_calendars:
        per_calendar[agent_calendar_id] += 1
    calendars = {calendar.pk: calendar for calendar in BusinessCalendar.objects.filter(pk__in=list(per_calendar))}
    result = dict.fromkeys(((weekday, hour) for weekday, hour, _start in hours), 0)
    for calendar_id, agents in per_calendar.items():
        calendar = calendars.get(calendar_id) if calendar_id is not None else None
        usual_week = (
            Schedule(calendar.time_zone, parse_weekly_hours(calendar.weekly_hours))
            if calendar is not None
            else Schedule.always_open()
        )
        for weekday, hour, local_start in hours:
            start = local_start.astimezone(dt.UTC)
            if business_seconds_between(usual_week, start, start + dt.timedelta(hours=1)) >= ROSTER_MIN_SECONDS:
                result[(weekday, hour)] += agents
    return result


@dataclass(frozen=True)
class AgentAvailability:
    agent: Agent
    availability: str
    availability_changed_at: dt.datetime | None
    on_shift: bool
    open_tickets: int
    capacity: int | None
    calendar: BusinessCalendar | None


def availability_of_agents(workspace_id: int, now: dt.datetime) -> list[AgentAvailability]:
    """Every active agent with a writer role: availability, on shift now, open load and capacity (the agent list
    and ``GET /api/v1/agents/availability``)."""
    agents = list(
        Agent.objects.select_related("user")
        .filter(workspace_id=workspace_id, is_active=True, role__in=WRITER_ROLES)
        .order_by("display_name", "user__name", "id")
    )
    schedules = schedules_of((agent.pk for agent in agents), workspace_id)
    load = open_load(workspace_id, schedules)
    return [
        AgentAvailability(
            agent=agent,
            availability=schedules[agent.pk].availability,
            availability_changed_at=schedules[agent.pk].availability_changed_at if schedules[agent.pk].pk else None,
            on_shift=is_open(shift_schedule(schedules[agent.pk]), now),
            open_tickets=load[agent.pk],
            capacity=schedules[agent.pk].capacity,
            calendar=schedules[agent.pk].calendar,
        )
        for agent in agents
    ]


def get_team_for_routing(actor: Agent, team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id, workspace_id=actor.workspace_id).first()
    if team is None:
        raise Http404
    return team


def teams_with_routing(workspace_id: int) -> QuerySet[Team]:
    return Team.objects.filter(workspace_id=workspace_id).prefetch_related("members").order_by("name", "id")


def get_agent_for_routing(actor: Agent, agent_id: int) -> Agent:
    agent = Agent.objects.select_related("user").filter(pk=agent_id, workspace_id=actor.workspace_id).first()
    if agent is None:
        raise Http404
    return agent


def is_on_shift(schedule: AgentSchedule, now: dt.datetime) -> bool:
    return is_open(shift_schedule(schedule), now)
