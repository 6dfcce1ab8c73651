"""Stories of the automatic emails: acknowledgements to customers (and when they are held back), assignment,
customer-reply and mention notifications to agents, and a workspace's own wording."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from deskloop.channels.email.email_templates import reset_email_template, save_email_template
from deskloop.channels.email.models import InboundEmail, Mailbox, OutboundEmail
from deskloop.channels.email.notifications import came_from_automatic_mail
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.core.errors import PermissionDenied, ValidationFailed
from deskloop.customers.models import ContactEmail
from deskloop.customers.services import find_or_create_contact
from deskloop.tickets.attachments import store_blob
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.messages import add_agent_reply, add_internal_note
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket

NOW = dt.datetime(2026, 3, 3, 9, 15, tzinfo=dt.UTC)
Capture = Callable[..., Any]


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(
        actor=acme.admin,
        values=MailboxSettings(address="support@acme.example", display_name="Acme Support", default_team=acme.support),
    )


def parsed(sent: Any) -> EmailMessage:
    message = email.message_from_bytes(sent.message().as_bytes(linesep="\r\n"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def bodies(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return (
        str(text.get_content()).replace("\r\n", "\n"),
        str(html.get_content()).replace("\r\n", "\n"),
    )


def raw_mail(sender: str, subject: str, message_id: str, *extra_headers: str) -> bytes:
    headers = "".join(f"{h}\n" for h in extra_headers)
    return (
        f"From: {sender}\nTo: support@acme.example\nSubject: {subject}\nMessage-ID: <{message_id}>\n{headers}"
        "Date: Tue, 03 Mar 2026 09:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\nHello there.\n"
    ).encode()


def ingest(mailbox: Mailbox, raw: bytes, capture: Capture) -> Ticket | None:
    with capture(execute=True):
        result = ingest_raw(mailbox=mailbox, raw=raw, via="smtp")
    return Ticket.objects.filter(pk=result.ticket_id).first()


@time_machine.travel(NOW, tick=False)
def test_the_acknowledgement_uses_the_default_wording_in_both_bodies(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = ingest(
        mailbox,
        raw_mail("Ana Lima <ana@lima.example>", "Cannot log in", "ana-1@lima.example"),
        django_capture_on_commit_callbacks,
    )
    assert ticket is not None

    assert len(mail.outbox) == 1
    sent = parsed(mail.outbox[0])
    assert (sent["From"], sent["To"], sent["Reply-To"], sent["Subject"], sent["Auto-Submitted"], sent["X-Loop"]) == (
        "Acme Support <support@acme.example>",
        "Ana Lima <ana@lima.example>",
        "Acme Support <support@acme.example>",
        f"We received your request: Cannot log in [ACME #{ticket.number}]",
        "auto-replied",
        "deskloop; support@acme.example",
    )
    assert bodies(sent) == (
        "Hello Ana Lima,\n\n"
        f"Thank you for writing to Acme. Your request has been received as ticket #{ticket.number}, and we will "
        "answer as soon as we can.\n\nTo add anything, reply to this email.\n\nAcme\n",
        "<p>Hello Ana Lima,</p>\n"
        f"<p>Thank you for writing to Acme. Your request has been received as ticket #{ticket.number}, and we will "
        "answer as soon as we can.</p>\n<p>To add anything, reply to this email.</p>\n<p>Acme</p>\n",
    )
    outbound = OutboundEmail.objects.get(kind="acknowledgement")
    assert (outbound.state, outbound.recipient, outbound.auto_submitted, outbound.ticket_id) == (
        "sent",
        "ana@lima.example",
        "auto-replied",
        ticket.pk,
    )


@time_machine.travel(NOW, tick=False)
def test_acknowledgements_are_limited_to_three_per_address_per_hour_and_the_fourth_is_recorded(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    for n in range(4):
        ingest(
            mailbox,
            raw_mail("Ana Lima <ana@lima.example>", f"Question {n}", f"ana-{n}@lima.example"),
            django_capture_on_commit_callbacks,
        )

    rows = list(OutboundEmail.objects.filter(kind="acknowledgement").order_by("id").values_list("state", "skip_reason"))
    assert rows == [("sent", ""), ("sent", ""), ("sent", ""), ("skipped", "rate_limited")]
    assert len(mail.outbox) == 3

    with time_machine.travel(NOW + dt.timedelta(hours=1, minutes=1), tick=False):
        ingest(
            mailbox,
            raw_mail("Ana Lima <ana@lima.example>", "Question 5", "ana-5@lima.example"),
            django_capture_on_commit_callbacks,
        )
    assert (
        OutboundEmail.objects.filter(kind="acknowledgement").order_by("-id").values_list("state", flat=True)[0]
        == "sent"
    )


def test_no_acknowledgement_to_system_addresses_bouncing_addresses_or_automatic_mail(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    ingest(
        mailbox,
        raw_mail("Billing <noreply@vendor.example>", "Invoice 7", "inv-7@vendor.example"),
        django_capture_on_commit_callbacks,
    )
    ContactEmail.objects.filter(email="carmen@globex-acme.example").update(bouncing_since=NOW)
    # From the widget: an email from her own address would show the address works again (test_bounce_trust).
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(requester=acme.customer, subject="New question", body_text="Hi", channel="widget"),
        )
    # An out-of-office answer is refused by the pipeline: no ticket, so nothing to acknowledge.
    ingest(
        mailbox,
        raw_mail("Ola <ola@nord.example>", "Out of office", "ooo-1@nord.example", "Auto-Submitted: auto-replied"),
        django_capture_on_commit_callbacks,
    )

    rows = list(
        OutboundEmail.objects.filter(kind="acknowledgement")
        .order_by("id")
        .values_list("recipient", "state", "skip_reason")
    )
    assert rows == [
        ("noreply@vendor.example", "skipped", "system_address"),
        ("carmen@globex-acme.example", "skipped", "bouncing"),
    ]
    assert mail.outbox == []


def test_a_ticket_opened_from_automatic_mail_is_recognized_from_its_stored_headers(
    acme: Cast, mailbox: Mailbox
) -> None:
    # The pipeline refuses such mail before it opens a ticket; this is the second line for anything that got
    # through (e.g. an import of old mail), read from the raw message kept for the ticket.
    raw = raw_mail("Robot <robot@ci.example>", "Build failed", "b-1@ci.example", "Precedence: bulk")
    ticket = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(requester=acme.customer, subject="Build failed", body_text="x", channel="email"),
    )[0]
    InboundEmail.objects.create(
        workspace=acme.workspace,
        mailbox=mailbox,
        raw=store_blob(raw),
        raw_sha256="0" * 64,
        header_message_id="b-1@ci.example",
        received_via="import",
        ticket=ticket,
    )
    assert came_from_automatic_mail(ticket) is True
    assert came_from_automatic_mail(acme.ticket) is False


def test_acknowledgements_follow_the_channel_and_who_opened_the_ticket(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    dora = find_or_create_contact(workspace=acme.workspace, email="dora@example.com", name="Dora")

    def open_one(subject: str, channel: str, created_by: Any = None) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            open_ticket(
                workspace=acme.workspace,
                ticket=NewTicket(requester=dora, subject=subject, body_text="Hi", channel=channel),
                created_by=created_by,
            )

    open_one("From the widget", "widget")
    open_one("From the web form", "web")
    open_one("Logged by phone", "email", created_by=acme.agent)
    assert [parsed(m)["Subject"].split(" [")[0] for m in mail.outbox] == ["We received your request: From the widget"]

    save_email_template(
        actor=acme.admin,
        kind="acknowledgement",
        subject="Got it: {{ ticket.subject }}",
        body_text="We have your request {{ ticket.token }}.",
        body_html="",
        include_agent_created=True,
    )
    open_one("Logged by phone again", "email", created_by=acme.agent)
    assert parsed(mail.outbox[-1])["Subject"].startswith("Got it: Logged by phone again [ACME #")

    save_email_template(
        actor=acme.admin, kind="acknowledgement", subject="x", body_text="y", body_html="", is_active=False
    )
    open_one("Widget again", "widget")
    assert OutboundEmail.objects.order_by("-id").values_list("state", "skip_reason")[0] == ("skipped", "disabled")
    assert len(mail.outbox) == 2


@time_machine.travel(NOW, tick=False)
def test_a_workspace_template_is_rendered_in_both_bodies_restricted_and_sanitized(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    save_email_template(
        actor=acme.admin,
        kind="acknowledgement",
        subject="[{{ workspace.name }}] {{ ticket.subject }}",
        body_text="Hi {{ requester.name }}, ticket {{ ticket.number }} is open: {{ ticket.url }}",
        body_html=(
            '<h1>Hi {{ requester.name }}</h1><script>alert(1)</script><p onclick="x()">Ticket {{ ticket.number }}</p>'
            '<img src="https://cdn.acme.example/logo.png" alt="Acme">'
        ),
    )
    ticket = ingest(
        mailbox,
        raw_mail('"<b>Ana</b> Lima" <ana@lima.example>', "Refund please", "ana-r@lima.example"),
        django_capture_on_commit_callbacks,
    )
    assert ticket is not None
    sent = parsed(mail.outbox[0])
    assert sent["Subject"] == f"[Acme] Refund please [ACME #{ticket.number}]"
    assert bodies(sent) == (
        f"Hi <b>Ana</b> Lima, ticket {ticket.number} is open: http://127.0.0.1:8000/tickets/{ticket.number}/\n",
        f'<h1>Hi &lt;b&gt;Ana&lt;/b&gt; Lima</h1><p>Ticket {ticket.number}</p><img src="https://cdn.acme.example/logo.png" alt="Acme">\n',
    )

    reset_email_template(actor=acme.admin, kind="acknowledgement")
    ingest(
        mailbox,
        raw_mail("Ana Lima <ana@lima.example>", "Another", "ana-s@lima.example"),
        django_capture_on_commit_callbacks,
    )
    assert parsed(mail.outbox[1])["Subject"].startswith("We received your request: Another [ACME #")


@pytest.mark.parametrize(
    ("field", "source"),
    [
        ("body_text", '{% include "base.html" %}'),
        ("body_text", "{% load static %}{% static 'x' %}"),
        ("subject", "{% if %}"),
        ("body_html", "{{ ticket.subject|no_such_filter }}"),
    ],
)
def test_templates_that_reach_outside_or_do_not_render_are_refused(acme: Cast, field: str, source: str) -> None:
    values = {"subject": "Hello", "body_text": "Hello", "body_html": ""}
    values[field] = source
    with pytest.raises(ValidationFailed) as refused:
        save_email_template(actor=acme.admin, kind="assignment", **values)
    assert refused.value.field == field


def test_only_admins_edit_templates(acme: Cast) -> None:
    with pytest.raises(PermissionDenied):
        save_email_template(actor=acme.agent, kind="mention", subject="x", body_text="y", body_html="")
    with pytest.raises(ValidationFailed):
        save_email_template(actor=acme.admin, kind="reply", subject="x", body_text="y", body_html="")


@time_machine.travel(NOW, tick=False)
def test_assignment_mentions_and_customer_replies_reach_the_right_agents(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = acme.ticket
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket=ticket, changes=TicketChanges(assignee=acme.other_team_agent), agent=acme.agent)
    assignment = parsed(mail.outbox[-1])
    assert (assignment["From"], assignment["To"], assignment["Subject"], assignment["Auto-Submitted"]) == (
        "Acme Support <support@acme.example>",
        "Boris Billing <boris@acme.example>",
        f"Assigned to you: #{ticket.number} Invoice shows the wrong VAT number [ACME #{ticket.number}]",
        "auto-generated",
    )
    assert bodies(assignment) == (
        f"Hello Boris Billing,\n\nMaria Agent assigned ticket #{ticket.number} to you.\n\n"
        "Invoice shows the wrong VAT number\nRequester: Carmen Customer\n\n"
        f"http://127.0.0.1:8000/tickets/{ticket.number}/\n",
        f"<p>Hello Boris Billing,</p>\n<p>Maria Agent assigned ticket #{ticket.number} to you.</p>\n"
        "<p><strong>Invoice shows the wrong VAT number</strong><br>Requester: Carmen Customer</p>\n"
        f'<p><a href="http://127.0.0.1:8000/tickets/{ticket.number}/" rel="noopener noreferrer nofollow">'
        "Open the ticket</a></p>\n",
    )
    count = len(mail.outbox)
    # Taking a ticket yourself sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket=ticket, changes=TicketChanges(assignee=acme.agent), agent=acme.agent)
    assert len(mail.outbox) == count

    with django_capture_on_commit_callbacks(execute=True):
        add_internal_note(ticket=ticket, agent=acme.agent, body_text="@boris can you check the VAT id? @maria too")
    mention = parsed(mail.outbox[-1])
    assert (mention["To"], mention["Subject"]) == (
        "Boris Billing <boris@acme.example>",
        f"Maria Agent mentioned you on #{ticket.number} [ACME #{ticket.number}]",
    )
    assert bodies(mention)[0] == (
        f"Maria Agent mentioned you in a note on ticket #{ticket.number} (Invoice shows the wrong VAT number):\n\n"
        "@boris can you check the VAT id? @maria too\n\n"
        f"http://127.0.0.1:8000/tickets/{ticket.number}/\n"
    )
    assert len(mail.outbox) == count + 1  # not to Maria, who wrote the note

    from deskloop.tickets.services.messages import CustomerMessage, add_customer_message

    with django_capture_on_commit_callbacks(execute=True):
        add_customer_message(ticket=ticket, contact=acme.customer, message=CustomerMessage(body_text="Any news?"))
    notice = parsed(mail.outbox[-1])
    assert (notice["To"], notice["Subject"]) == (
        "Maria Agent <maria@acme.example>",
        f"Customer replied: #{ticket.number} Invoice shows the wrong VAT number [ACME #{ticket.number}]",
    )
    assert bodies(notice)[0] == (
        f"Carmen Customer replied on ticket #{ticket.number}:\n\nAny news?\n\n"
        f"http://127.0.0.1:8000/tickets/{ticket.number}/\n"
    )
    assert len(mail.outbox) == count + 2


def test_a_reply_without_a_mailbox_is_recorded_as_not_emailed(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_agent_reply(ticket=acme.ticket, agent=acme.agent, body_text="We are on it.")
    outbound = OutboundEmail.objects.get(message=reply)
    assert (outbound.state, outbound.skip_reason, outbound.recipient) == (
        "skipped",
        "no_mailbox",
        "carmen@globex-acme.example",
    )
    reply.refresh_from_db()
    assert reply.channel_meta["delivery"]["state"] == "skipped"
    assert reply.channel_meta["delivery"]["error"] == "the workspace has no active mailbox to send from"
    assert mail.outbox == []


def test_agent_notifications_without_a_mailbox_come_from_the_installation_sender(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    def assign(agent: Any) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=agent), agent=acme.admin)

    with override_settings(DEFAULT_FROM_EMAIL="Deskloop <help@deskloop.example>"):
        assign(acme.other_team_agent)
    sent = parsed(mail.outbox[0])
    assert (sent["From"], sent["Reply-To"], sent["To"]) == (
        "Deskloop <help@deskloop.example>",
        None,
        "Boris Billing <boris@acme.example>",
    )
    # The development default (deskloop@localhost) is no address a mail server accepts: recorded, not sent.
    with override_settings(DEFAULT_FROM_EMAIL="Deskloop <deskloop@localhost>"):
        assign(acme.agent)
    assert OutboundEmail.objects.order_by("-id").values_list("state", "skip_reason", "recipient")[0] == (
        "skipped",
        "no_sender",
        "maria@acme.example",
    )
    assert len(mail.outbox) == 1


def test_an_archive_import_emails_nobody(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    opening = raw_mail("Ana Lima <ana@lima.example>", "Old question", "old-1@lima.example")
    answer = raw_mail(
        "Ana Lima <ana@lima.example>", "Re: Old question", "old-2@lima.example", "In-Reply-To: <old-1@lima.example>"
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest_raw(mailbox=mailbox, raw=opening, via="import")
    # Maria follows the ticket, so a live reply would notify her; an imported one must not.
    Ticket.objects.get(pk=first.ticket_id).followers.add(acme.agent)
    with django_capture_on_commit_callbacks(execute=True):
        second = ingest_raw(mailbox=mailbox, raw=answer, via="import")

    assert (first.outcome, second.outcome, second.ticket_id) == ("new_ticket", "threaded", first.ticket_id)
    assert OutboundEmail.objects.count() == 0
    assert mail.outbox == []
