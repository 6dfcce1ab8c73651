"""Stories of email leaving Acme's support mailbox: Carmen writes in, Maria answers, Carmen answers back.

Everything runs through the real pieces: ``pipeline.ingest_raw`` parses real RFC 822 bytes, the agent replies
through the ticket services, the outbox consumer queues the email, the task sends it through Django's mail
backend (locmem; a scripted-failure backend for retries), and the customer's answer is fed back in.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from deskloop.channels.email.bounce_address import tagged
from deskloop.channels.email.conversation_threads import verify_message_id
from deskloop.channels.email.models import Mailbox, OutboundEmail
from deskloop.channels.email.outbound import REPLY_MARKER_TOKEN
from deskloop.channels.email.outbound_sending import send_outbound_now
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.quotes import strip_reply
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.models import ContactEmail
from deskloop.tickets.attachments import IncomingFile
from deskloop.tickets.models import Message, Ticket
from deskloop.tickets.services.messages import add_agent_reply

from . import mail_backends
from .dovecot import free_port

NOW = dt.datetime(2026, 3, 3, 9, 15, tzinfo=dt.UTC)
Capture = Callable[..., Any]

CARMEN_WRITES = b"""\
From: Carmen Customer <carmen@globex-acme.example>
To: Acme Support <support@acme.example>
Cc: Dan Globex <dan@globex-acme.example>
Subject: Export to CSV drops the last row
Message-ID: <carmen-1@globex-acme.example>
Date: Tue, 03 Mar 2026 09:10:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello,

when I export the March report to CSV, the last row is missing.

Carmen
"""


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(
        actor=acme.admin,
        values=MailboxSettings(address="support@acme.example", display_name="Acme Support", default_team=acme.support),
    )


def parsed(sent: Any) -> EmailMessage:
    """What the mail server received, parsed back the way a mail client would."""
    message = email.message_from_bytes(sent.message().as_bytes(linesep="\r\n"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def carmen_opens_a_ticket(acme: Cast, mailbox: Mailbox, capture: Capture) -> Ticket:
    with capture(execute=True):
        result = ingest_raw(mailbox=mailbox, raw=CARMEN_WRITES, via="imap")
    assert (result.state, result.outcome) == ("processed", "new_ticket")
    return Ticket.objects.get(pk=result.ticket_id)


def maria_replies(acme: Cast, ticket: Ticket, capture: Capture, **extra: Any) -> Message:
    with capture(execute=True):
        return add_agent_reply(
            ticket=ticket,
            agent=acme.agent,
            body_text="Hi Carmen,\n\nthanks for the report: it is fixed now. Please try the export again.",
            **extra,
        )


QUOTED_HISTORY = """\
On March 3, 2026, 9:15 a.m., Carmen Customer wrote:
> Hello,
>
> when I export the March report to CSV, the last row is missing.
>
> Carmen
"""


@time_machine.travel(NOW, tick=False)
def test_a_reply_goes_out_threaded_and_the_customers_answer_threads_back(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = carmen_opens_a_ticket(acme, mailbox, django_capture_on_commit_callbacks)
    acknowledgement = parsed(mail.outbox[0])
    assert len(mail.outbox) == 1

    reply = maria_replies(
        acme,
        ticket,
        django_capture_on_commit_callbacks,
        attachments=[IncomingFile(filename="steps.txt", content=b"1. Open Reports\n2. Export", content_type="")],
    )

    assert len(mail.outbox) == 2
    sent = parsed(mail.outbox[1])
    # The envelope sender: the mailbox address tagged with this email (bounce_address), so its bounces prove it.
    assert mail.outbox[1].from_email == tagged("support@acme.example", OutboundEmail.objects.get(message=reply).pk)
    assert mail.outbox[1].recipients() == ["carmen@globex-acme.example", "dan@globex-acme.example"]
    assert sorted(sent.keys()) == sorted(
        [
            "From",
            "To",
            "Cc",
            "Reply-To",
            "Subject",
            "Date",
            "Message-ID",
            "In-Reply-To",
            "References",
            "X-Loop",
            "MIME-Version",
            "Content-Type",
        ]
    )
    assert sent["From"] == "Maria Agent via Acme Support <support@acme.example>"
    assert sent["Reply-To"] == "Maria Agent via Acme Support <support@acme.example>"
    assert sent["To"] == "Carmen Customer <carmen@globex-acme.example>"
    assert sent["Cc"] == "Dan Globex <dan@globex-acme.example>"
    assert sent["Subject"] == f"Re: Export to CSV drops the last row [ACME #{ticket.number}]"
    assert sent["In-Reply-To"] == "<carmen-1@globex-acme.example>"
    assert sent["References"] == "<carmen-1@globex-acme.example>"
    assert sent["X-Loop"] == "deskloop; support@acme.example"
    assert sent["Auto-Submitted"] is None  # a person wrote this one
    assert sent["Date"] == "Tue, 03 Mar 2026 09:15:00 -0000"
    message_id = str(sent["Message-ID"])
    assert message_id.endswith("@acme.example>")
    assert verify_message_id(message_id) == ticket.pk
    assert text_body(sent) == (
        "Hi Carmen,\n\nthanks for the report: it is fixed now. Please try the export again.\n\n"
        "##- Please type your reply above this line -##\n\n" + QUOTED_HISTORY
    )
    assert html_body(sent) == (
        "<div><p>Hi Carmen,</p><p>thanks for the report: it is fixed now. Please try the export again.</p></div>\n"
        "<p>##- Please type your reply above this line -##</p>\n"
        "<p>On March 3, 2026, 9:15 a.m., Carmen Customer wrote:</p>\n"
        "<blockquote><p>Hello,</p><p>when I export the March report to CSV, the last row is missing.</p>"
        "<p>Carmen<br></p></blockquote>\n\n"
    )
    attachments = [(part.get_filename(), part.get_content()) for part in sent.iter_attachments()]
    assert attachments == [("steps.txt", "1. Open Reports\n2. Export")]

    # The acknowledgement was automatic, and says so.
    assert acknowledgement["Auto-Submitted"] == "auto-replied"
    assert acknowledgement["X-Auto-Response-Suppress"] == "All"
    assert acknowledgement["In-Reply-To"] == "<carmen-1@globex-acme.example>"
    assert acknowledgement["Subject"] == (
        f"We received your request: Export to CSV drops the last row [ACME #{ticket.number}]"
    )

    outbound = OutboundEmail.objects.get(message=reply, kind="reply")
    assert (outbound.state, outbound.attempts, outbound.last_error, outbound.header_message_id) == (
        "sent",
        1,
        "",
        # A long id is folded onto its own line ("Message-ID:\n <...>"), which is legal (CFWS before the "<").
        message_id.strip().strip("<>"),
    )
    reply.refresh_from_db()
    assert reply.channel_meta["delivery"]["state"] == "sent"
    page = signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert 'data-delivery-state="sent"' in page

    # Carmen answers from her mail client, which quotes our email under an attribution line.
    quoted = "\n".join(f"> {line}".rstrip() for line in text_body(sent).split("\n"))
    answer = (
        "From: Carmen Customer <carmen@globex-acme.example>\n"
        "To: Maria Agent via Acme Support <support@acme.example>\n"
        f"Subject: Re: {sent['Subject']}\n"
        "Message-ID: <carmen-2@globex-acme.example>\n"
        f"In-Reply-To: {message_id}\n"
        f"References: <carmen-1@globex-acme.example> {message_id}\n"
        "Date: Tue, 03 Mar 2026 10:02:00 +0000\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "\n"
        "That fixed it, thank you!\n"
        "\n"
        "On Tue, 3 Mar 2026 at 09:15, Maria Agent via Acme Support <support@acme.example> wrote:\n"
        f"{quoted}\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_raw(mailbox=mailbox, raw=answer, via="imap")

    assert (result.state, result.outcome, result.ticket_id) == ("processed", "threaded", ticket.pk)
    latest = Message.objects.filter(ticket=ticket).order_by("-id").first()
    assert latest is not None
    assert latest.author_contact_id == acme.customer.pk
    # The pipeline's own quote stripping shows only the new part; so does stripping at our marker token alone.
    assert latest.channel_meta["stripped_text"] == "That fixed it, thank you!"
    assert strip_reply(latest.body_text, marker=REPLY_MARKER_TOKEN).visible_text == "That fixed it, thank you!"
    # Maria follows the ticket since she answered; nobody is assigned, so she hears of the answer.
    notice = parsed(mail.outbox[2])
    assert (notice["To"], notice["Auto-Submitted"], notice["Subject"]) == (
        "Maria Agent <maria@acme.example>",
        "auto-generated",
        f"Customer replied: #{ticket.number} Export to CSV drops the last row [ACME #{ticket.number}]",
    )
    assert len(mail.outbox) == 3


@time_machine.travel(NOW, tick=False)
def test_the_quoted_history_holds_the_last_three_public_messages_newest_first(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = carmen_opens_a_ticket(acme, mailbox, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        add_agent_reply(ticket=ticket, agent=acme.agent, body_text="First answer.")
    from deskloop.tickets.services.messages import CustomerMessage, add_customer_message, add_internal_note

    with django_capture_on_commit_callbacks(execute=True):
        add_customer_message(ticket=ticket, contact=acme.customer, message=CustomerMessage(body_text="Still broken."))
        add_internal_note(ticket=ticket, agent=acme.agent, body_text="Internal: ask engineering.")
    maria_replies(acme, ticket, django_capture_on_commit_callbacks)

    body = text_body(parsed(mail.outbox[-1]))
    history = body.split("##- Please type your reply above this line -##\n\n", 1)[1]
    assert history == (
        "On March 3, 2026, 9:15 a.m., Carmen Customer wrote:\n> Still broken.\n\n"
        "On March 3, 2026, 9:15 a.m., Maria Agent wrote:\n> First answer.\n\n" + QUOTED_HISTORY
    )
    assert "Internal" not in body


@override_settings(EMAIL_BACKEND=mail_backends.BACKEND)
def test_a_lost_connection_is_retried_with_backoff_and_sent_once(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        mail_backends.script()
        ticket = carmen_opens_a_ticket(acme, mailbox, django_capture_on_commit_callbacks)
        mail_backends.script(mail_backends.disconnected())
        reply = maria_replies(acme, ticket, django_capture_on_commit_callbacks)

        outbound = OutboundEmail.objects.get(message=reply)
        assert (outbound.state, outbound.attempts, outbound.last_error, outbound.next_attempt_at) == (
            "queued",
            1,
            "The mail server closed the connection.",
            NOW + dt.timedelta(minutes=1),
        )
        reply.refresh_from_db()
        assert reply.channel_meta["delivery"]["state"] == "retrying"
        page = signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/")
        assert "Failed: The mail server closed the connection. (retrying)" in page.content.decode()

        # Not due yet: the sweep leaves it alone.
        call_command("send_due_emails", stdout=_Sink())
        assert mail_backends.ScriptedFailuresBackend.attempts == 1

        clock.shift(dt.timedelta(minutes=1, seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_due_emails", stdout=_Sink())

    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts, outbound.last_error) == ("sent", 2, "")
    assert mail_backends.ScriptedFailuresBackend.attempts == 2
    assert [parsed(m)["Subject"] for m in mail.outbox][
        -1
    ] == f"Re: Export to CSV drops the last row [ACME #{ticket.number}]"
    sent_count = len(mail.outbox)
    # Idempotent: a sent email is never sent again, however often the task runs.
    assert send_outbound_now(outbound.pk) is None
    assert len(mail.outbox) == sent_count
    reply.refresh_from_db()
    assert reply.channel_meta["delivery"]["state"] == "sent"


@override_settings(EMAIL_BACKEND=mail_backends.BACKEND)
def test_a_permanent_refusal_fails_marks_the_address_bouncing_and_shows_on_the_ticket(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    mail_backends.script()
    ticket = carmen_opens_a_ticket(acme, mailbox, django_capture_on_commit_callbacks)
    mail_backends.script(mail_backends.user_unknown("carmen@globex-acme.example"))
    reply = maria_replies(acme, ticket, django_capture_on_commit_callbacks)

    outbound = OutboundEmail.objects.get(message=reply)
    assert (outbound.state, outbound.attempts, outbound.last_error, outbound.next_attempt_at) == (
        "failed",
        1,
        "550 5.1.1 <carmen@globex-acme.example>: User unknown",
        None,
    )
    identity = ContactEmail.objects.get(email="carmen@globex-acme.example")
    assert identity.bouncing_since is not None
    page = signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert "Failed: 550 5.1.1 &lt;carmen@globex-acme.example&gt;: User unknown" in page
    assert 'data-delivery-state="failed"' in page


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


class _PickyMailServer:
    """A real SMTP server (aiosmtpd on loopback) whose recipient check refuses the addresses it is given."""

    def __init__(self, refuse: dict[str, str]) -> None:
        self.refuse = refuse
        self.delivered: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.delivered.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted"


@contextmanager
def sending_through(handler: object) -> Iterator[None]:
    """Outgoing mail goes through Django's SMTP backend to an aiosmtpd server on loopback run by ``handler``."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
        ):
            yield
    finally:
        controller.stop()


def test_a_reply_the_server_takes_for_one_recipient_but_not_another_shows_who_did_not_get_it(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    carmen_opens_a_ticket(acme, mailbox, django_capture_on_commit_callbacks)  # Dan is on CC
    ticket = Ticket.objects.get(workspace=acme.workspace, subject="Export to CSV drops the last row")
    server = _PickyMailServer({"dan@globex-acme.example": "550 5.1.1 <dan@globex-acme.example>: User unknown"})
    with sending_through(server):
        reply = maria_replies(acme, ticket, django_capture_on_commit_callbacks)

    # Carmen got it; the server refused Dan's mailbox, and nobody gets a second copy.
    assert [recipients for recipients, _raw in server.delivered] == [["carmen@globex-acme.example"]]
    outbound = OutboundEmail.objects.get(message=reply)
    note = "Not delivered to dan@globex-acme.example (550 5.1.1 <dan@globex-acme.example>: User unknown)"
    assert (outbound.state, outbound.attempts, outbound.last_error) == ("sent", 1, note)
    reply.refresh_from_db()
    assert (reply.channel_meta["delivery"]["state"], reply.channel_meta["delivery"]["error"]) == ("sent", note)
    assert ContactEmail.objects.get(email="dan@globex-acme.example").bouncing_since is not None
    assert ContactEmail.objects.get(email="carmen@globex-acme.example").bouncing_since is None
    page = signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert (
        "Sent. Not delivered to dan@globex-acme.example (550 5.1.1 &lt;dan@globex-acme.example&gt;: User unknown)"
        in page
    )
