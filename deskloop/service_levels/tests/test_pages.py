"""What an agent sees: the inbox's SLA column and the ticket page's SLA panel, rendered for the server's now (which
sla.js then counts on from, see e2e/test_sla_countdown.py)."""

from __future__ import annotations

import datetime as dt
import re

import time_machine

from deskloop.conftest import Cast, signed_in_client
from deskloop.service_levels.models import SlaPolicy
from deskloop.service_levels.tests.test_clocks import dispatched, open_at, utc
from deskloop.tickets.models import StatusCategory
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.messages import add_agent_reply
from deskloop.tickets.services.tickets import TicketChanges, update_ticket


def badges(html: str) -> dict[str, str]:
    """Ticket number -> the SLA badge's state and text in the inbox."""
    rows = re.findall(r'data-ticket-number="(\d+)">(.*?)</tr>', html, re.S)
    found = {}
    for number, row in rows:
        match = re.search(r'class="sla-badge[^"]*"[^>]*data-sla-state="(\w+)">([^<]*)<', row)
        found[number] = f"{match.group(1)}: {match.group(2)}" if match else ""
    return found


def test_inbox_shows_time_left_breached_and_paused(acme: Cast) -> None:
    SlaPolicy.objects.create(workspace=acme.workspace, name="Hour", first_response_minutes=60)
    dispatched()
    late = open_at(acme, utc(27, 8))
    soon = open_at(acme, utc(27, 9))
    waiting = open_at(acme, utc(27, 9))
    with time_machine.travel(utc(27, 9, 10), tick=False):
        pending = default_status(acme.workspace.pk, StatusCategory.PENDING)
        update_ticket(ticket=waiting, changes=TicketChanges(status=pending), agent=acme.agent)
        dispatched()
    with time_machine.travel(utc(27, 9, 15) + dt.timedelta(seconds=30), tick=False):
        response = signed_in_client(acme.agent).get("/?view=all")
    html = response.content.decode()
    assert 'data-sla-now="2026-03-27T09:15:30+00:00"' in html
    assert {k: v for k, v in badges(html).items() if k != str(acme.ticket.number)} == {
        str(late.number): "breached: breached 0:15:30 ago",
        str(soon.number): "running: 0:44:30 left",
        str(waiting.number): "paused: SLA paused",
    }
    assert 'data-sla-due="2026-03-27T10:00:00+00:00"' in html


def test_ticket_page_lists_each_clock_with_its_outcome(acme: Cast) -> None:
    SlaPolicy.objects.create(
        workspace=acme.workspace, name="Hour", first_response_minutes=60, resolution_minutes=24 * 60
    )
    dispatched()
    ticket = open_at(acme, utc(27, 8))
    with time_machine.travel(utc(27, 8, 30), tick=False):
        add_agent_reply(ticket=ticket, agent=acme.agent, body_text="On it")
        dispatched()
        html = signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/").content.decode()
    panel = html[html.index('id="ticket-sla"') : html.index("</section>", html.index('id="ticket-sla"'))]
    assert 'data-sla-outcome="met"' in panel
    assert "<strong>First response</strong>" in panel
    assert "<strong>Resolution</strong>" in panel
    assert 'data-sla-state="running">23:30:00 left<' in panel
