"""Issue #9: an agent starts an email conversation from "New ticket"; the first message reaches the customer as an
email through the normal outbound path (the outbox consumer queues it, the send task delivers it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core import mail

from deskloop.channels.email.models import OutboundEmail
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import Message, MessageKind, Ticket

Capture = Callable[..., Any]


def test_an_outbound_email_conversation_sends_the_first_message(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    create_mailbox(
        actor=acme.admin, values=MailboxSettings(address="support@acme.example", display_name="Acme Support")
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in_client(acme.agent).post(
            "/tickets/new/",
            {
                "name": "Olga Prospect",
                "email": "olga@prospect.example",
                "opening": "email",
                "subject": "Your renewal",
                "body": "Hello Olga,\n\nyour plan renews next week; shall we keep the same seats?",
            },
        )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Your renewal")
    assert ticket.channel == "email"
    first = Message.objects.get(ticket=ticket)
    assert (first.kind, first.author_agent_id, first.author_contact_id) == (MessageKind.REPLY, acme.agent.pk, None)
    assert OutboundEmail.objects.filter(message=first).count() == 1
    sent = [m for m in mail.outbox if "olga@prospect.example" in m.recipients()]
    assert len(sent) == 1  # the message itself, no "we received your request"
    # The mailbox writes it; the envelope sender is the mailbox's tagged bounce address (bounce_address.py).
    assert sent[0].message()["From"] == "Maria Agent via Acme Support <support@acme.example>"
    assert re.fullmatch(r"support\+dlb\.\d+\.[0-9a-f]+@acme\.example", sent[0].from_email)
    assert "shall we keep the same seats?" in sent[0].message().as_string()
    assert "Your renewal" in str(sent[0].message()["Subject"])
