"""Two workers routing tickets of one team at the same moment (PostgreSQL row locks; SQLite has one writer)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from deskloop.accounts.models import Agent
from deskloop.assignment.models import RoutingMode, TeamRouting
from deskloop.assignment.services import auto_assign, configure_team_routing
from deskloop.conftest import Cast
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.tickets import NewTicket, open_ticket

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL story")


@pytest.mark.parametrize("mode", [RoutingMode.ROUND_ROBIN, RoutingMode.LEAST_LOADED])
def test_two_simultaneous_assignments_take_different_turns(transactional_db: None, acme: Cast, mode: str) -> None:
    configure_team_routing(actor=acme.admin, team=acme.support, mode=mode, reassign_after_minutes=None)
    tickets = [
        open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(requester=acme.customer, subject=f"At once {index}", body_text="Hi"),
        )[0]
        for index in range(2)
    ]
    start = threading.Barrier(2)

    def assign(ticket: Ticket) -> Agent | None:
        try:
            start.wait(timeout=10)
            return auto_assign(ticket=ticket, team=acme.support, actor=None)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        chosen = list(pool.map(assign, tickets))
    assert sorted(agent.pk for agent in chosen if agent is not None) == sorted([acme.admin.pk, acme.agent.pk])
    assert sorted(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("assignee_id", flat=True)
    ) == sorted([acme.admin.pk, acme.agent.pk])
    assert TeamRouting.objects.get(team=acme.support).last_assigned_agent_id in {acme.admin.pk, acme.agent.pk}
