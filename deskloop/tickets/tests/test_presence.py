"""Collision notice: heart-beats, expiry after 30 seconds, and what arrived since the page was loaded."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from deskloop.conftest import Cast
from deskloop.core.errors import ValidationFailed
from deskloop.tickets.models import TicketPresence
from deskloop.tickets.services import presence
from deskloop.tickets.services.messages import CustomerMessage, add_agent_reply, add_customer_message, add_internal_note


def test_heartbeat_upserts_one_row_per_agent_and_ticket(acme: Cast) -> None:
    presence.heartbeat(ticket=acme.ticket, agent=acme.admin, is_replying=False)
    presence.heartbeat(ticket=acme.ticket, agent=acme.admin, is_replying=True)
    rows = list(TicketPresence.objects.filter(ticket=acme.ticket).values_list("agent_id", "is_replying"))
    assert rows == [(acme.admin.pk, True)]


def test_others_present_lists_other_agents_replying_first(acme: Cast) -> None:
    presence.heartbeat(ticket=acme.ticket, agent=acme.admin, is_replying=False)
    presence.heartbeat(ticket=acme.ticket, agent=acme.other_team_agent, is_replying=True)
    presence.heartbeat(ticket=acme.ticket, agent=acme.agent, is_replying=False)
    seen = presence.others_present(ticket=acme.ticket, agent=acme.agent)
    assert [(p.agent.name, p.is_replying) for p in seen] == [("Boris Billing", True), ("Adam Admin", False)]


def test_heartbeats_older_than_thirty_seconds_are_ignored(acme: Cast) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        presence.heartbeat(ticket=acme.ticket, agent=acme.admin, is_replying=True)
    with time_machine.travel(start + dt.timedelta(seconds=29), tick=False):
        assert [p.agent_id for p in presence.others_present(ticket=acme.ticket, agent=acme.agent)] == [acme.admin.pk]
    with time_machine.travel(start + dt.timedelta(seconds=31), tick=False):
        assert presence.others_present(ticket=acme.ticket, agent=acme.agent) == []


def test_leaving_removes_the_agent_at_once(acme: Cast) -> None:
    presence.heartbeat(ticket=acme.ticket, agent=acme.admin, is_replying=False)
    presence.leave(ticket=acme.ticket, agent=acme.admin)
    assert presence.others_present(ticket=acme.ticket, agent=acme.agent) == []


def test_messages_since_lists_what_others_wrote_after_the_page_loaded(acme: Cast) -> None:
    loaded_at = presence.last_message_id(acme.ticket)
    add_agent_reply(ticket=acme.ticket, agent=acme.agent, body_text="My own reply")
    note = add_internal_note(ticket=acme.ticket, agent=acme.admin, body_text="Adam's note")
    customer = add_customer_message(
        ticket=acme.ticket, contact=acme.customer, message=CustomerMessage(body_text="Any news?")
    )
    unseen = presence.messages_since(ticket=acme.ticket, agent=acme.agent, after_id=loaded_at)
    assert [m.pk for m in unseen] == [note.pk, customer.pk]


def test_presence_in_another_workspace_is_refused(acme: Cast, umbrella: Cast) -> None:
    with pytest.raises(ValidationFailed):
        presence.heartbeat(ticket=umbrella.ticket, agent=acme.agent, is_replying=False)
    assert TicketPresence.objects.filter(ticket=umbrella.ticket).count() == 0
