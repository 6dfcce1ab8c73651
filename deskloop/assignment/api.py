"""Availability over the API: every agent reads who is available, on shift and how loaded; each agent sets their
own availability (the top bar's toggle)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES
from deskloop.assignment import queries, services
from deskloop.assignment.models import Availability
from deskloop.core.api_support import api_policy, problems

router = Router(tags=["assignment"])


class AgentAvailabilityOut(Schema):
    agent_id: int
    name: str
    availability: Availability
    availability_changed_at: dt.datetime | None = Field(..., description="null: never set (online by default)")
    on_shift: bool = Field(..., description="On shift now by the agent's calendar (no calendar: always)")
    calendar_id: int | None
    open_tickets: int = Field(..., description="Assigned tickets in status categories new, open and on hold")
    capacity: int | None = Field(..., description="null: no limit")


class AvailabilityList(Schema):
    items: list[AgentAvailabilityOut]


class AvailabilityIn(Schema):
    availability: Availability


def _out(row: queries.AgentAvailability) -> AgentAvailabilityOut:
    return AgentAvailabilityOut(
        agent_id=row.agent.pk,
        name=row.agent.name,
        availability=Availability(row.availability),
        availability_changed_at=row.availability_changed_at,
        on_shift=row.on_shift,
        calendar_id=row.calendar.pk if row.calendar else None,
        open_tickets=row.open_tickets,
        capacity=row.capacity,
    )


@router.get(
    "/agents/availability",
    response={200: AvailabilityList, **problems(401, 429)},
    summary="Agents' availability, shifts and load",
    description="Active agents who can take tickets (owners, admins, agents).",
)
@api_policy(ALL_ROLES)
def list_availability(request: HttpRequest) -> AvailabilityList:
    agent = caller_agent(request)
    rows = queries.availability_of_agents(agent.workspace_id, timezone.now())
    return AvailabilityList(items=[_out(row) for row in rows])


@router.patch(
    "/agents/me/availability",
    response={200: AgentAvailabilityOut, **problems(401, 422, 429)},
    summary="Set your own availability",
)
@api_policy(ALL_ROLES)
def set_my_availability(request: HttpRequest, payload: AvailabilityIn) -> AgentAvailabilityOut:
    agent = caller_agent(request)
    services.set_availability(agent=agent, availability=str(payload.availability))
    schedule = queries.schedule_for(agent)
    now = timezone.now()
    return AgentAvailabilityOut(
        agent_id=agent.pk,
        name=agent.name,
        availability=Availability(schedule.availability),
        availability_changed_at=schedule.availability_changed_at,
        on_shift=queries.is_on_shift(schedule, now),
        calendar_id=schedule.calendar_id,
        open_tickets=queries.open_load(agent.workspace_id, [agent.pk])[agent.pk],
        capacity=schedule.capacity,
    )


__all__ = ["router"]
