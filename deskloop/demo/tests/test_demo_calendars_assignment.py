"""The demo's calendars and routing: the pages show real content on first run, and a new ticket of Tier 1 is
routed to an agent on shift."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from deskloop.accounts.models import Agent, Team
from deskloop.assignment.queries import roster
from deskloop.conftest import signed_in_client
from deskloop.customers.models import Contact
from deskloop.demo.seed import seed_demo
from deskloop.tickets.services.tickets import NewTicket, open_ticket

NOW = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)  # Tuesday, 11:00 in Berlin


def test_the_demo_has_calendars_shifts_and_routed_teams(db: None, django_capture_on_commit_callbacks: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        report = seed_demo(tickets=60)
        admin = Agent.objects.get(workspace=report.workspace, role="admin")
        client = signed_in_client(admin)
        calendars = client.get("/settings/calendars/").content.decode()
        routing = client.get("/settings/routing/").content.decode()
        availability = client.get("/availability/").content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            ticket = open_ticket(
                workspace=report.workspace,
                ticket=NewTicket(
                    requester=Contact.objects.filter(workspace=report.workspace).first(),  # type: ignore[arg-type]
                    subject="Routed in the demo",
                    body_text="Hello",
                    team=Team.objects.get(workspace=report.workspace, name="Tier 1"),
                ),
            )[0]
        hours = roster(report.workspace.pk)
    for name in ("Support Europe", "Office hours Berlin", "New York desk"):
        assert name in calendars
    assert '<option value="round_robin" selected>' in routing
    assert '<option value="least_loaded" selected>' in routing
    assert '<tr data-agent="Dmitry Orlov">' in availability
    ticket.refresh_from_db()
    # Tier 1: Sam and Lucía on the late shift, Dmitry away: Sam (the first by id) gets it.
    assert ticket.assignee is not None
    assert ticket.assignee.name == "Sam Carter"
    # Hannah and Amir have no calendar (always on shift): two agents at 04:00 UTC, more by day.
    assert min(hours.values()) == 2
    assert max(hours.values()) == 6  # every one of the six, 13:00-16:00 UTC on weekdays
