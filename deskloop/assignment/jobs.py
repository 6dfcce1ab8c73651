"""Routing that runs by itself: new tickets of a routed team are assigned as the outbox announces them, and the
open tickets of an agent who has been off shift or unavailable too long are handed on (a periodic job)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from deskloop.accounts.models import Agent
from deskloop.assignment.models import RoutingMode, TeamRouting
from deskloop.assignment.queries import schedules_of, unavailable_since
from deskloop.assignment.services import hand_on, route_ticket
from deskloop.core.errors import DomainError
from deskloop.core.models import OutboxEvent
from deskloop.tickets.models import ACTIVE_CATEGORIES
from deskloop.tickets.queries import live_tickets

# Tickets handed on per run at most; the rest wait for the next run (the job runs every minute).
HANDOVER_BATCH = 500


def consume_outbox_event(event: OutboxEvent) -> None:
    """``ticket.created`` with a team and no assignee, or ``ticket.updated`` that moved an unassigned ticket to
    another team: route it when that team is routed. Our own assignment publishes ``ticket.updated`` with
    ``assignee`` changed, which does not come back here."""
    payload = event.payload
    team_id = payload.get("team_id")
    if event.name not in ("ticket.created", "ticket.updated") or team_id is None:
        return
    if payload.get("assignee_id") is not None:
        return
    if event.name == "ticket.updated" and "team" not in payload.get("changes", []):
        return
    try:
        route_ticket(ticket_id=int(payload["id"]), team_id=int(team_id))
    except DomainError:
        # Routing is a convenience on top of a change that is complete: a ticket it cannot assign (e.g. the team
        # was emptied meanwhile) stays unassigned in the team's queue, as with manual routing.
        return


def hand_on_tickets_of_unavailable_agents() -> int:
    """For every routed team with a hand-on delay: the open tickets of members who have been off shift, away or
    offline for longer than the delay go to an eligible member. Returns how many tickets were handed on."""
    now = timezone.now()
    moved = 0
    routings = TeamRouting.objects.select_related("team").filter(
        ~Q(mode=RoutingMode.MANUAL), reassign_after_minutes__isnull=False
    )
    for routing in routings:
        delay = dt.timedelta(minutes=routing.reassign_after_minutes or 0)
        members = list(Agent.objects.filter(teams=routing.team_id).values_list("id", flat=True))
        schedules = schedules_of(members, routing.workspace_id)
        gone = [
            agent_id
            for agent_id, schedule in schedules.items()
            if (since := unavailable_since(schedule, now)) is not None and since <= now - delay
        ]
        if not gone:
            continue
        tickets = (
            live_tickets(routing.workspace_id)
            .filter(team_id=routing.team_id, assignee_id__in=gone, status__category__in=ACTIVE_CATEGORIES)
            .order_by("id")[: HANDOVER_BATCH - moved]
        )
        for ticket in tickets:
            assert ticket.assignee_id is not None  # filtered above
            if hand_on(ticket=ticket, team=routing.team, from_agent_id=ticket.assignee_id) is not None:
                moved += 1
        if moved >= HANDOVER_BATCH:
            break
    return moved
