"""Writes for routing: an agent's availability and schedule, a team's routing, and giving a ticket to the next
agent (round-robin or least-loaded) among those who are online, on shift and under capacity.

Assigning locks the team's routing row first: the turn and the loads are read and the ticket assigned under that
lock, so two workers routing tickets of one team at once take consecutive turns instead of the same one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_admin, require_role
from deskloop.accounts.models import Agent, Team
from deskloop.assignment.models import AgentSchedule, Availability, RoutingMode, TeamRouting
from deskloop.assignment.queries import Candidate, team_candidates
from deskloop.calendars.models import BusinessCalendar
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.tickets.models import ACTIVE_CATEGORIES, Ticket
from deskloop.tickets.services.tickets import TicketChanges, update_ticket

ROUTING_ADMINS_ONLY = gettext_noop("Only admins can change how tickets are routed.")
ASSIGN_WRITERS_ONLY = gettext_noop("Your role cannot assign tickets.")
CAPACITY_MAX = 10_000
REASSIGN_AFTER_MAX = 7 * 24 * 60
# How a routing change arrives in the ticket's history (TicketEvent.via, at most 20 characters).
VIA_ROUTING = "routing"
VIA_HANDOVER = "routing:handover"


def set_availability(*, agent: Agent, availability: str) -> AgentSchedule:
    """The agent's own toggle (online / away / offline). Any active agent may set their own."""
    if availability not in Availability.values:
        raise ValidationFailed(_("Unknown availability “%(value)s”.") % {"value": availability}, field="availability")
    with transaction.atomic():
        schedule, _created = AgentSchedule.objects.select_for_update().get_or_create(
            agent=agent, defaults={"workspace_id": agent.workspace_id}
        )
        if schedule.availability != availability:
            schedule.availability = availability
            schedule.availability_changed_at = timezone.now()
            schedule.save(update_fields=["availability", "availability_changed_at"])
    return schedule


def update_agent_schedule(
    *, actor: Agent, agent: Agent, calendar: BusinessCalendar | None, capacity: int | None
) -> AgentSchedule:
    """An admin sets an agent's shift calendar (None = always on shift) and capacity (None = no limit)."""
    require_admin(actor, ROUTING_ADMINS_ONLY)
    if agent.workspace_id != actor.workspace_id:
        raise NotFound(_("Agent not found."))
    if calendar is not None and calendar.workspace_id != actor.workspace_id:
        raise ValidationFailed(_("Calendar not found."), field="calendar")
    if capacity is not None and not 1 <= capacity <= CAPACITY_MAX:
        raise ValidationFailed(
            _("Capacity must be between 1 and %(max)d open tickets, or empty for no limit.") % {"max": CAPACITY_MAX},
            field="capacity",
        )
    schedule, _created = AgentSchedule.objects.update_or_create(
        agent=agent,
        defaults={"workspace_id": agent.workspace_id, "calendar": calendar, "capacity": capacity},
    )
    return schedule


def configure_team_routing(*, actor: Agent, team: Team, mode: str, reassign_after_minutes: int | None) -> TeamRouting:
    require_admin(actor, ROUTING_ADMINS_ONLY)
    if team.workspace_id != actor.workspace_id:
        raise NotFound(_("Team not found."))
    if mode not in RoutingMode.values:
        raise ValidationFailed(_("Unknown routing “%(value)s”.") % {"value": mode}, field="mode")
    if reassign_after_minutes is not None and not 1 <= reassign_after_minutes <= REASSIGN_AFTER_MAX:
        raise ValidationFailed(
            _("Hand on after 1 to %(max)d minutes, or leave it empty to never hand tickets on.")
            % {"max": REASSIGN_AFTER_MAX},
            field="reassign_after_minutes",
        )
    routing, _created = TeamRouting.objects.update_or_create(
        team=team,
        defaults={
            "workspace_id": team.workspace_id,
            "mode": mode,
            "reassign_after_minutes": reassign_after_minutes,
            "updated_at": timezone.now(),
        },
    )
    return routing


def auto_assign(*, ticket: Ticket, team: Team, actor: Agent | None) -> Agent | None:
    """Give ``ticket`` to the next eligible member of ``team`` and return them; None (ticket unchanged) when no
    member is online, on shift and under capacity. Least-loaded when the team is routed so, round-robin otherwise
    (a team routed by hand still gets round-robin when a caller such as an automation asks for it). ``actor`` is
    who the history names (None: the system); their role must allow changing tickets."""
    if actor is not None:
        require_role(actor, Capability.WRITE, ASSIGN_WRITERS_ONLY)
        if actor.workspace_id != ticket.workspace_id:
            raise NotFound(_("Ticket not found."))
    if team.workspace_id != ticket.workspace_id:
        raise ValidationFailed(_("Team not found."), field="team")
    return _assign_in_team(ticket=ticket, team=team, actor=actor, via=VIA_ROUTING, still_wanted=None)


def _assign_in_team(
    *,
    ticket: Ticket,
    team: Team,
    actor: Agent | None,
    via: str,
    still_wanted: Callable[[Ticket], bool] | None,
    passed_over: Sequence[int] = (),
) -> Agent | None:
    """The one assignment path. ``still_wanted`` re-checks the ticket's fresh row under the team lock (another
    worker or an agent may have assigned it meanwhile); ``passed_over``: agents not to pick (the one handing on)."""
    with transaction.atomic():
        routing = _locked_routing(team)
        if still_wanted is not None:
            fresh = Ticket.objects.select_related("status").filter(pk=ticket.pk).first()
            if fresh is None or not still_wanted(fresh):
                return None
        now = timezone.now()
        candidates = [c for c in team_candidates(team, now) if c.agent.pk not in passed_over]
        chosen = _pick(routing, candidates)
        if chosen is None:
            return None
        saved = update_ticket(ticket=ticket, changes=TicketChanges(assignee=chosen), agent=actor, via=via)
        ticket.assignee, ticket.version, ticket.updated_at = chosen, saved.version, saved.updated_at
        routing.last_assigned_agent = chosen
        routing.save(update_fields=["last_assigned_agent"])
        AgentSchedule.objects.update_or_create(
            agent=chosen, defaults={"workspace_id": chosen.workspace_id, "last_assigned_at": now}
        )
    return chosen


def _locked_routing(team: Team) -> TeamRouting:
    # The row lock is the queue: concurrent assignments in one team wait here and then read the turn and the loads
    # the previous one committed. A team never configured gets its (manual) row now, so it has something to lock.
    TeamRouting.objects.get_or_create(team=team, defaults={"workspace_id": team.workspace_id})
    return TeamRouting.objects.select_for_update().get(team=team)


def _pick(routing: TeamRouting, candidates: list[Candidate]) -> Agent | None:
    if not candidates:
        return None
    if routing.mode == RoutingMode.LEAST_LOADED:
        # Fewest open tickets; among equals, who waited longest since their last assignment (never = first).
        never = dt.datetime.min.replace(tzinfo=dt.UTC)
        return min(candidates, key=lambda c: (c.open_tickets, c.last_assigned_at or never, c.agent.pk)).agent
    # Round-robin: the first eligible member (by id) after the last one assigned, wrapping around.
    last = routing.last_assigned_agent_id or 0
    after = [c for c in candidates if c.agent.pk > last]
    return (after or candidates)[0].agent


def _waiting_in_team(team_id: int) -> Callable[[Ticket], bool]:
    def wanted(fresh: Ticket) -> bool:
        return (
            fresh.assignee_id is None
            and fresh.team_id == team_id
            and fresh.status.category in ACTIVE_CATEGORIES
            and fresh.deleted_at is None
            and fresh.merged_into_id is None
            and not fresh.is_spam
        )

    return wanted


def route_ticket(*, ticket_id: int, team_id: int) -> Agent | None:
    """A new or moved ticket of a routed team: assign it when it is still unassigned in that team and open."""
    routing = TeamRouting.objects.select_related("team").filter(team_id=team_id).first()
    if routing is None or routing.mode == RoutingMode.MANUAL:
        return None
    ticket = Ticket.objects.filter(pk=ticket_id, workspace_id=routing.workspace_id).first()
    if ticket is None:
        return None
    return _assign_in_team(
        ticket=ticket, team=routing.team, actor=None, via=VIA_ROUTING, still_wanted=_waiting_in_team(team_id)
    )


def hand_on(*, ticket: Ticket, team: Team, from_agent_id: int) -> Agent | None:
    """Give a ticket of an agent who is off shift or unavailable to another member; None (left with them) when
    nobody can take it now (the next run tries again)."""

    def still_theirs(fresh: Ticket) -> bool:
        return (
            fresh.assignee_id == from_agent_id
            and fresh.team_id == team.pk
            and fresh.status.category in ACTIVE_CATEGORIES
        )

    return _assign_in_team(
        ticket=ticket,
        team=team,
        actor=None,
        via=VIA_HANDOVER,
        still_wanted=still_theirs,
        passed_over=(from_agent_id,),
    )
