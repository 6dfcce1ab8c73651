"""The ticket page panel registry: apps above tickets add panels to the ticket page without tickets naming them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deskloop.accounts.models import Agent, Role
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets import page_panels
from deskloop.tickets.models import Ticket
from deskloop.tickets.page_panels import PanelSlot, TicketPagePanel, register_panel
from deskloop.tickets.services.messages import add_agent_reply

PROBE = "tickets/tests/panel_probe.html"


@pytest.fixture
def probe_panels() -> Iterator[None]:
    before = dict(page_panels._panels)

    def context_for(slot: PanelSlot) -> Any:
        def context(*, ticket: Ticket, agent: Agent) -> dict[str, str] | None:
            if agent.role == Role.VIEWER:
                return None
            return {"slot_name": slot.value, "text": f"probe for #{ticket.number}"}

        return context

    for slot in PanelSlot:
        register_panel(TicketPagePanel(f"probe_{slot.value}", slot, PROBE, context_for(slot)))
    yield
    page_panels._panels.clear()
    page_panels._panels.update(before)


def test_registered_panels_show_in_their_slots(acme: Cast, probe_panels: None) -> None:
    reply = add_agent_reply(ticket=acme.ticket, agent=acme.agent, body_text="Fixed, see the new invoice.")
    html = signed_in_client(acme.agent).get(f"/tickets/{acme.ticket.number}/").content.decode()

    number = acme.ticket.number
    assert f'<p data-probe-panel="composer">probe for #{number}</p>' in html
    assert f'<p data-probe-panel="sidebar">probe for #{number}</p>' in html
    assert f'<p data-probe-panel="message_actions">probe for #{number} #{reply.pk}</p>' in html


def test_a_panel_whose_context_is_none_is_left_out(acme: Cast, probe_panels: None) -> None:
    html = signed_in_client(acme.viewer).get(f"/tickets/{acme.ticket.number}/").content.decode()

    assert "data-probe-panel" not in html
