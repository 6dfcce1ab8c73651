"""Mail claiming to come from an agent: trusted as the agent only when it proves it (it answers a notification we
sent that agent about the ticket, or the mailbox's own mail server says DMARC passed); otherwise it is a
customer's message, flagged, and its @mentions notify nobody."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from deskloop.accounts.services import create_api_token
from deskloop.channels.email.conversation_threads import make_message_id
from deskloop.channels.email.models import InboundEmail, Mailbox, OutboundEmail
from deskloop.channels.email.pipeline import IngestResult, ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import Message, Notification
from deskloop.tickets.services.messages import CustomerMessage, add_customer_message
from deskloop.tickets.services.tickets import TicketChanges, update_ticket

Capture = Callable[..., Any]
TRUSTED_MX = "mx.acme.example"


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(
        actor=acme.admin,
        values=MailboxSettings(
            address="support@acme.example", display_name="Acme Support", trusted_authserv_id=TRUSTED_MX
        ),
    )


def maria_writes(subject: str, message_id: str, *headers: str, body: str = "@boris please refund them.") -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    return (
        f"From: Maria Agent <maria@acme.example>\r\nTo: support@acme.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}>\r\n{extra}Date: Tue, 03 Mar 2026 09:00:00 +0000\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def ingest(mailbox: Mailbox, raw: bytes, capture: Capture) -> IngestResult:
    with capture(execute=True):
        return ingest_raw(mailbox=mailbox, raw=raw, via="smtp")


def mention_mails() -> list[str]:
    subjects = [str(m.message()["Subject"]) for m in mail.outbox]
    return [subject for subject in subjects if "mentioned you" in subject]


def notified_of_the_customer_reply(acme: Cast, capture: Capture) -> OutboundEmail:
    """Maria is the assignee; Carmen writes; Maria gets our "Customer replied" notification."""
    with capture(execute=True):
        update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=acme.agent), agent=acme.admin)
        add_customer_message(ticket=acme.ticket, contact=acme.customer, message=CustomerMessage(body_text="Any news?"))
    return OutboundEmail.objects.get(kind="customer_reply", recipient="maria@acme.example")


def test_a_forged_mail_from_an_agents_address_becomes_a_flagged_customer_message_without_mentions(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    result = ingest(
        mailbox, maria_writes("Re: [ACME #1] VAT", "forged-1@evil.example"), django_capture_on_commit_callbacks
    )

    message = Message.objects.get(pk=InboundEmail.objects.get().message_id)
    assert (result.state, result.outcome, message.kind, message.author_agent, message.author_contact is not None) == (
        "processed",
        "new_ticket",
        "reply",
        None,
        True,
    )
    assert message.author_contact is not None
    assert message.author_contact.primary_email == "maria@acme.example"
    assert message.channel_meta["unverified_agent"] == {"agent": acme.agent.pk, "reason": "unproven"}
    assert Message.objects.filter(kind="note").count() == 0
    assert (Notification.objects.filter(kind="mention").count(), mention_mails()) == (0, [])

    page = signed_in_client(acme.admin).get(f"/tickets/{result.ticket_number}/")
    assert page.status_code == 200
    assert b"data-unverified-agent" in page.content
    _token, secret = create_api_token(agent=acme.admin, name="tests")
    api = Client(headers={"authorization": f"Bearer {secret}"})
    listed = json.loads(api.get(f"/api/v1/tickets/{result.ticket_number}/messages").content)["items"]
    assert [m["unverified_agent_sender"] for m in listed] == ["unproven"]


def test_an_agent_answering_the_notification_we_sent_her_adds_a_note_that_notifies(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    notice = notified_of_the_customer_reply(acme, django_capture_on_commit_callbacks)
    result = ingest(
        mailbox,
        maria_writes(f"Re: {notice.subject}", "maria-1@acme.example", f"In-Reply-To: <{notice.header_message_id}>"),
        django_capture_on_commit_callbacks,
    )

    note = Message.objects.get(kind="note")
    assert (result.outcome, result.ticket_id, note.author_agent, note.body_text) == (
        "threaded",
        acme.ticket.pk,
        acme.agent,
        "@boris please refund them.\n",
    )
    assert list(Notification.objects.filter(kind="mention").values_list("agent__user__email", "kind")) == [
        ("boris@acme.example", "mention")
    ]
    assert mention_mails() == ["Maria Agent mentioned you on #1 [ACME #1]"]


def test_a_notification_sent_to_another_agent_or_an_unbound_id_proves_nothing_for_maria(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=acme.other_team_agent), agent=acme.admin)
    for_boris = OutboundEmail.objects.get(kind="assignment", recipient="boris@acme.example").header_message_id
    # Signed for the ticket but for no recipient (the ids of emails sent before recipients were bound).
    unbound = make_message_id(acme.ticket, "reply", domain="acme.example")
    results = [
        ingest(
            mailbox,
            maria_writes("Re: [ACME #1] VAT", f"forged-{i}@evil.example", f"In-Reply-To: {reference}"),
            django_capture_on_commit_callbacks,
        )
        for i, reference in enumerate((f"<{for_boris}>", unbound))
    ]
    # Both thread (the ids are genuinely ours) but as Maria's customer identity, which is not on the ticket.
    assert [(r.outcome, r.ticket_id != acme.ticket.pk) for r in results] == [("new_ticket", True)] * 2
    assert Message.objects.filter(kind="note").count() == 0
    flagged = Message.objects.filter(channel_meta__unverified_agent__reason="unproven").count()
    assert (flagged, Notification.objects.filter(kind="mention").count(), mention_mails()) == (2, 0, [])


def test_dmarc_pass_counts_only_from_the_mailboxs_trusted_server_and_for_the_from_domain(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    forged_server = "Authentication-Results: mx.evil.example; dmarc=pass header.from=acme.example"
    other_domain = f"Authentication-Results: {TRUSTED_MX}; dmarc=pass header.from=evil.example"
    failed = f"Authentication-Results: {TRUSTED_MX}; spf=pass; dmarc=fail header.from=acme.example"
    passed = (
        f"Authentication-Results: {TRUSTED_MX}; spf=pass smtp.mailfrom=acme.example; dkim=pass;"
        " dmarc=pass (p=reject) header.from=acme.example"
    )
    outcomes = [
        ingest(
            mailbox, maria_writes("Re: [ACME #1] VAT", f"m{i}@acme.example", header), django_capture_on_commit_callbacks
        )
        for i, header in enumerate((forged_server, other_domain, failed, passed))
    ]
    notes = Message.objects.filter(kind="note")
    assert [r.outcome for r in outcomes] == ["new_ticket", "new_ticket", "new_ticket", "threaded"]
    assert [(n.ticket_id, n.author_agent) for n in notes] == [(acme.ticket.pk, acme.agent)]
    assert list(Notification.objects.filter(kind="mention").values_list("agent__user__email", flat=True)) == [
        "boris@acme.example"
    ]
