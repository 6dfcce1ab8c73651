"""Routing stories: Acme's Support team (Adam Admin, Maria Agent and Petra, added here) gets new tickets by
round-robin or least-loaded, passing over whoever is away, off shift by their calendar or at capacity; tickets of
an agent who has gone off shift are handed on by the periodic job."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine

from deskloop.accounts import services as account_services
from deskloop.accounts.models import Agent, Role
from deskloop.assignment.jobs import hand_on_tickets_of_unavailable_agents
from deskloop.assignment.models import AgentSchedule, Availability, RoutingMode, TeamRouting
from deskloop.assignment.services import (
    auto_assign,
    configure_team_routing,
    set_availability,
    update_agent_schedule,
)
from deskloop.calendars.models import BusinessCalendar
from deskloop.conftest import PASSWORD, Cast, api_client
from deskloop.core.errors import NotFound, PermissionDenied, ValidationFailed
from deskloop.tickets.models import EventKind, Ticket, TicketEvent
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket

# Monday 2 March 2026, 10:00 in Berlin (CET, UTC+1).
MONDAY_MORNING = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def petra(acme: Cast) -> Agent:
    petra = account_services.add_agent(
        workspace=acme.workspace, email="petra@acme.example", name="Petra Support", role=Role.AGENT, password=PASSWORD
    )
    acme.support.members.add(petra)
    return petra


def route(acme: Cast, mode: str, reassign_after_minutes: int | None = None) -> None:
    configure_team_routing(
        actor=acme.admin, team=acme.support, mode=mode, reassign_after_minutes=reassign_after_minutes
    )


def new_support_ticket(acme: Cast, capture: Any, subject: str = "Cannot log in") -> Ticket:
    """A customer's ticket for Support, with the outbox consumers run as after a real commit."""
    with capture(execute=True):
        ticket = open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(requester=acme.customer, subject=subject, body_text="Help", team=acme.support),
        )[0]
    ticket.refresh_from_db()
    return ticket


def assignees(tickets: list[Ticket]) -> list[str | None]:
    names = []
    for ticket in tickets:
        ticket.refresh_from_db()
        names.append(ticket.assignee.name if ticket.assignee else None)
    return names


def test_round_robin_takes_turns_in_a_stable_order(
    acme: Cast, petra: Agent, django_capture_on_commit_callbacks: Any
) -> None:
    route(acme, RoutingMode.ROUND_ROBIN)
    tickets = [new_support_ticket(acme, django_capture_on_commit_callbacks, f"Question {n}") for n in range(4)]
    # Members by id: Adam (admin) joined before Maria, Petra last; the fourth ticket starts the next round.
    assert assignees(tickets) == ["Adam Admin", "Maria Agent", "Petra Support", "Adam Admin"]
    event = TicketEvent.objects.get(ticket=tickets[1], kind=EventKind.FIELD_CHANGED, field="assignee")
    assert (event.old_value, event.new_value, event.via, event.actor_agent) == (None, acme.agent.pk, "routing", None)


def test_a_ticket_opened_through_the_api_is_routed(
    acme: Cast, petra: Agent, django_capture_on_commit_callbacks: Any
) -> None:
    route(acme, RoutingMode.ROUND_ROBIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(acme.agent).post(
            "/api/v1/tickets",
            json.dumps({"subject": "Refund", "requester_email": "dan@globex-acme.example", "team_id": acme.support.pk}),
            content_type="application/json",
        )
    assert response.status_code == 201
    assert Ticket.objects.get(workspace=acme.workspace, number=2).assignee == acme.admin


def test_a_ticket_moved_into_a_routed_team_is_routed_and_a_manual_team_is_left_alone(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket=acme.ticket, changes=TicketChanges(team=acme.billing), agent=acme.admin)
    acme.ticket.refresh_from_db()
    assert acme.ticket.assignee is None  # Billing is routed by hand
    route(acme, RoutingMode.LEAST_LOADED)
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket=acme.ticket, changes=TicketChanges(team=acme.support), agent=acme.admin)
    acme.ticket.refresh_from_db()
    assert acme.ticket.assignee == acme.admin


def test_least_loaded_picks_fewest_open_tickets_then_the_longest_wait(
    acme: Cast, petra: Agent, django_capture_on_commit_callbacks: Any
) -> None:
    for subject in ("Old one", "Older one"):
        open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(requester=acme.customer, subject=subject, body_text="x", assignee=acme.admin),
        )
    solved = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(requester=acme.customer, subject="Done", body_text="x", assignee=acme.agent),
    )[0]
    update_ticket(
        ticket=solved, changes=TicketChanges(status=default_status(acme.workspace.pk, "solved")), agent=acme.agent
    )
    route(acme, RoutingMode.LEAST_LOADED)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        first = new_support_ticket(acme, django_capture_on_commit_callbacks)  # Maria and Petra 0 open: Maria (id)
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(minutes=1), tick=False):
        second = new_support_ticket(acme, django_capture_on_commit_callbacks)  # Petra 0 open
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(minutes=2), tick=False):
        third = new_support_ticket(acme, django_capture_on_commit_callbacks)  # Maria and Petra 1: Maria waited longer
    assert assignees([first, second, third]) == ["Maria Agent", "Petra Support", "Maria Agent"]


def test_capacity_and_away_agents_are_passed_over(
    acme: Cast, petra: Agent, django_capture_on_commit_callbacks: Any
) -> None:
    route(acme, RoutingMode.ROUND_ROBIN)
    update_agent_schedule(actor=acme.admin, agent=acme.agent, calendar=None, capacity=1)
    set_availability(agent=petra, availability=Availability.AWAY)
    tickets = [new_support_ticket(acme, django_capture_on_commit_callbacks, f"Question {n}") for n in range(3)]
    # Maria holds one open ticket after the second: at her capacity, she is passed over from then on.
    assert assignees(tickets) == ["Adam Admin", "Maria Agent", "Adam Admin"]


def test_nobody_available_leaves_the_ticket_in_the_queue(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    route(acme, RoutingMode.ROUND_ROBIN)
    set_availability(agent=acme.admin, availability=Availability.OFFLINE)
    set_availability(agent=acme.agent, availability=Availability.AWAY)
    ticket = new_support_ticket(acme, django_capture_on_commit_callbacks)
    assert ticket.assignee is None
    assert auto_assign(ticket=ticket, team=acme.support, actor=acme.admin) is None
    version = ticket.version
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.version) == (None, version)


def test_agents_off_shift_by_their_calendar_are_passed_over(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    office = BusinessCalendar.objects.create(
        workspace=acme.workspace,
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly_hours=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
    )
    night = BusinessCalendar.objects.create(
        workspace=acme.workspace,
        name="Night desk",
        time_zone="Europe/Berlin",
        weekly_hours=[{"weekday": day, "start": "17:00", "end": "09:00"} for day in range(7)],
    )
    update_agent_schedule(actor=acme.admin, agent=acme.admin, calendar=office, capacity=None)
    update_agent_schedule(actor=acme.admin, agent=acme.agent, calendar=night, capacity=None)
    route(acme, RoutingMode.ROUND_ROBIN)
    with time_machine.travel(MONDAY_MORNING, tick=False):  # 10:00 Berlin: the office is open
        day_ticket = new_support_ticket(acme, django_capture_on_commit_callbacks)
    with time_machine.travel(dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC), tick=False):  # 17:00: night desk
        evening_ticket = new_support_ticket(acme, django_capture_on_commit_callbacks)
    with time_machine.travel(dt.datetime(2026, 3, 7, 3, 0, tzinfo=dt.UTC), tick=False):  # Sat 04:00: night
        weekend_ticket = new_support_ticket(acme, django_capture_on_commit_callbacks)
    assert assignees([day_ticket, evening_ticket, weekend_ticket]) == ["Adam Admin", "Maria Agent", "Maria Agent"]


def test_the_job_hands_on_tickets_of_an_agent_off_shift_longer_than_the_delay(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    office = BusinessCalendar.objects.create(
        workspace=acme.workspace,
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly_hours=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
    )
    update_agent_schedule(actor=acme.admin, agent=acme.agent, calendar=office, capacity=None)
    route(acme, RoutingMode.ROUND_ROBIN, reassign_after_minutes=30)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=acme.agent), agent=acme.admin)
        pending = open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(
                requester=acme.customer,
                subject="Waiting for the customer",
                body_text="x",
                team=acme.support,
                assignee=acme.agent,
                status=default_status(acme.workspace.pk, "pending"),
            ),
        )[0]
    # Maria's shift ends at 17:00 Berlin = 16:00 UTC.
    with time_machine.travel(dt.datetime(2026, 3, 2, 16, 29, tzinfo=dt.UTC), tick=False):
        assert hand_on_tickets_of_unavailable_agents() == 0
    with time_machine.travel(dt.datetime(2026, 3, 2, 16, 31, tzinfo=dt.UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert hand_on_tickets_of_unavailable_agents() == 1
        assert hand_on_tickets_of_unavailable_agents() == 0  # nothing left to hand on
    acme.ticket.refresh_from_db()
    pending.refresh_from_db()
    assert (acme.ticket.assignee, pending.assignee) == (acme.admin, acme.agent)  # pending waits on the customer
    handover = TicketEvent.objects.get(ticket=acme.ticket, field="assignee", via="routing:handover")
    assert (handover.old_value, handover.new_value) == (acme.agent.pk, acme.admin.pk)


def test_an_agent_who_went_away_keeps_tickets_until_the_delay_passes(acme: Cast) -> None:
    route(acme, RoutingMode.LEAST_LOADED, reassign_after_minutes=15)
    update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=acme.admin), agent=acme.admin)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        set_availability(agent=acme.admin, availability=Availability.AWAY)
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(minutes=14), tick=False):
        assert hand_on_tickets_of_unavailable_agents() == 0
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(minutes=16), tick=False):
        assert hand_on_tickets_of_unavailable_agents() == 1
    acme.ticket.refresh_from_db()
    assert acme.ticket.assignee == acme.agent


def test_auto_assign_refuses_roles_and_teams_outside_the_rules(acme: Cast, umbrella: Cast) -> None:
    version = acme.ticket.version
    with pytest.raises(PermissionDenied):
        auto_assign(ticket=acme.ticket, team=acme.support, actor=acme.viewer)
    with pytest.raises(ValidationFailed):
        auto_assign(ticket=acme.ticket, team=umbrella.support, actor=acme.admin)
    with pytest.raises(NotFound):
        auto_assign(ticket=acme.ticket, team=acme.support, actor=umbrella.admin)
    acme.ticket.refresh_from_db()
    assert (acme.ticket.assignee, acme.ticket.version) == (None, version)


def test_auto_assign_on_a_manually_routed_team_uses_round_robin(acme: Cast) -> None:
    """What an automation's "assign round-robin in a team" action gets; the history names the rule's admin."""
    assert auto_assign(ticket=acme.ticket, team=acme.support, actor=acme.owner) == acme.admin
    event = TicketEvent.objects.get(ticket=acme.ticket, field="assignee")
    assert (event.actor_agent, event.via) == (acme.owner, "routing")


def test_routing_settings_refuse_bad_values(acme: Cast, umbrella: Cast) -> None:
    with pytest.raises(PermissionDenied):
        configure_team_routing(actor=acme.agent, team=acme.support, mode="round_robin", reassign_after_minutes=None)
    with pytest.raises(ValidationFailed, match="Unknown routing"):
        configure_team_routing(actor=acme.admin, team=acme.support, mode="random", reassign_after_minutes=None)
    with pytest.raises(ValidationFailed, match="Hand on after"):
        configure_team_routing(actor=acme.admin, team=acme.support, mode="round_robin", reassign_after_minutes=0)
    with pytest.raises(NotFound):
        configure_team_routing(actor=acme.admin, team=umbrella.support, mode="round_robin", reassign_after_minutes=5)
    with pytest.raises(ValidationFailed, match="Capacity"):
        update_agent_schedule(actor=acme.admin, agent=acme.agent, calendar=None, capacity=0)
    other_calendar = BusinessCalendar.objects.create(workspace=umbrella.workspace, name="Theirs")
    with pytest.raises(ValidationFailed, match="Calendar"):
        update_agent_schedule(actor=acme.admin, agent=acme.agent, calendar=other_calendar, capacity=None)
    with pytest.raises(ValidationFailed, match="Unknown availability"):
        set_availability(agent=acme.agent, availability="busy")
    assert (TeamRouting.objects.count(), AgentSchedule.objects.count()) == (0, 0)


def test_the_late_shift_ends_at_the_spring_jump_and_its_tickets_are_handed_on(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    """Maria works 07:00-02:00 CET every day. On 29 March 2026 the clocks jump from 02:00 to 03:00 at 01:00Z, so
    Saturday's shift ends then; with a 30-minute delay her open ticket goes to Adam (always on shift) at 01:30Z."""
    late = BusinessCalendar.objects.create(
        workspace=acme.workspace,
        name="Late shift",
        time_zone="Europe/Berlin",
        weekly_hours=[{"weekday": day, "start": "07:00", "end": "02:00"} for day in range(7)],
    )
    update_agent_schedule(actor=acme.admin, agent=acme.agent, calendar=late, capacity=None)
    route(acme, RoutingMode.ROUND_ROBIN, reassign_after_minutes=30)
    set_availability(agent=acme.admin, availability=Availability.AWAY)
    with time_machine.travel(dt.datetime(2026, 3, 29, 0, 50, tzinfo=dt.UTC), tick=False):  # 01:50 CET: on shift
        ticket = new_support_ticket(acme, django_capture_on_commit_callbacks)
    assert ticket.assignee == acme.agent
    set_availability(agent=acme.admin, availability=Availability.ONLINE)
    with time_machine.travel(dt.datetime(2026, 3, 29, 1, 29, tzinfo=dt.UTC), tick=False):
        assert hand_on_tickets_of_unavailable_agents() == 0
    with time_machine.travel(dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC), tick=False):
        assert hand_on_tickets_of_unavailable_agents() == 1
    ticket.refresh_from_db()
    assert ticket.assignee == acme.admin
