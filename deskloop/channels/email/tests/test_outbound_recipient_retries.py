"""Stories of a reply the mail server takes for some recipients and refuses for others *for now* (greylisting,
a full mailbox): the refused ones get the very same email alone, later, on the retry schedule.

A real SMTP server (aiosmtpd on loopback) answers RCPT TO from a script, one answer per SMTP transaction; Django's
SMTP backend talks to it; time moves with time-machine and the ``send_due_emails`` sweep runs the retries (the
inline task backend of the tests cannot defer, so the sweep is what picks them up, as after a lost task).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from deskloop.channels.email.models import Mailbox, OutboundEmail
from deskloop.channels.email.outbound_sending import send_outbound_now
from deskloop.channels.email.outbound_tasks import send_outbound_email
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.models import ContactEmail
from deskloop.tickets.models import Message, Ticket

from .test_outbound import Capture, carmen_opens_a_ticket, maria_replies, sending_through

NOW = dt.datetime(2026, 3, 3, 9, 15, tzinfo=dt.UTC)
CARMEN = "carmen@globex-acme.example"
DAN = "dan@globex-acme.example"
ERIN = "erin@globex-acme.example"
GREYLISTED = "451 4.7.1 Greylisted, try again later"
DAN_UNKNOWN = "550 5.1.1 <dan@globex-acme.example>: User unknown"
ACCEPTED = "250 OK"


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(
        actor=acme.admin,
        values=MailboxSettings(address="support@acme.example", display_name="Acme Support", default_team=acme.support),
    )


@dataclass
class Transaction:
    """One SMTP transaction as the server saw it: every RCPT TO asked for, whom it took the message for, the bytes."""

    rcpt_to: list[str] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    content: bytes = b""


class _ScriptedMailServer:
    """Answers RCPT TO for the scripted addresses with the next answer of their script (the last one repeats),
    takes every other address, and records each transaction."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = {address: list(script) for address, script in answers.items()}
        self.transactions: list[Transaction] = []

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.transactions.append(Transaction())
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.transactions[-1].rcpt_to.append(address)
        script = self.answers.get(address)
        answer = (script.pop(0) if len(script) > 1 else script[0]) if script else ACCEPTED
        if answer == ACCEPTED:
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.transactions[-1].delivered_to = list(envelope.rcpt_tos)
        self.transactions[-1].content = bytes(envelope.content)
        return "250 Message accepted"

    def seen(self) -> list[tuple[list[str], list[str]]]:
        return [(t.rcpt_to, t.delivered_to) for t in self.transactions]


@contextmanager
def mail_server(answers: dict[str, list[str]]) -> Iterator[_ScriptedMailServer]:
    server = _ScriptedMailServer(answers)
    with sending_through(server):
        yield server


def received(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def headers_but_the_boundary(message: EmailMessage) -> list[tuple[str, str]]:
    """Every header in order; the multipart boundary is the one thing a rebuilt message may pick anew."""
    return [(name, str(value)) for name, value in message.items() if name != "Content-Type"]


def sweep(capture: Capture) -> None:
    with capture(execute=True):
        call_command("send_due_emails", stdout=_Sink())


def delivery_on_the_page(acme: Cast, ticket: Ticket, reply: Message) -> str:
    """The delivery line under the reply on the ticket page, as the agent reads it."""
    page = signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/").content.decode()
    start = page.index("data-delivery-state=", page.index(f'id="message-{reply.pk}"'))
    line = page[page.index(">", start) + 1 : page.index("</span>", start)]
    state = page[start:].split('"', 2)[1]
    return f"{state}: {' '.join(line.split())}"


def outbound_state(outbound: OutboundEmail) -> tuple[Any, ...]:
    outbound.refresh_from_db()
    return (
        outbound.state,
        outbound.attempts,
        outbound.recipient_retries,
        outbound.next_attempt_at,
        outbound.last_error,
        outbound.refused_recipients,
    )


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def test_a_cc_greylisted_on_the_first_try_gets_the_same_reply_alone_a_minute_later(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        ticket = carmen_opens_a_ticket(acme, mailbox, django_capture_on_commit_callbacks)  # Dan is on CC
        with mail_server({DAN: [GREYLISTED, ACCEPTED]}) as server:
            reply = maria_replies(acme, ticket, django_capture_on_commit_callbacks)

            assert server.seen() == [([CARMEN, DAN], [CARMEN])]
            outbound = OutboundEmail.objects.get(message=reply)
            retrying = f"Retrying delivery to {DAN} ({GREYLISTED})"
            assert outbound_state(outbound) == (
                "sent",
                1,
                0,
                NOW + dt.timedelta(minutes=1),
                retrying,
                [{"address": DAN, "reply": GREYLISTED, "outcome": "retrying"}],
            )
            assert outbound.sent_at == NOW
            reply.refresh_from_db()
            assert reply.channel_meta["delivery"]["state"] == "sent"
            assert reply.channel_meta["delivery"]["error"] == retrying
            assert delivery_on_the_page(acme, ticket, reply) == f"sent: Sent. {retrying}"

            # Not due yet: neither the sweep nor a stray task touches it.
            sweep(django_capture_on_commit_callbacks)
            assert send_outbound_now(outbound.pk) is None
            assert len(server.transactions) == 1

            clock.shift(dt.timedelta(minutes=1, seconds=1))
            sweep(django_capture_on_commit_callbacks)

            assert server.seen() == [([CARMEN, DAN], [CARMEN]), ([DAN], [DAN])]
            first, second = (received(t.content) for t in server.transactions)
            assert headers_but_the_boundary(second) == headers_but_the_boundary(first)
            assert (second["Message-ID"], second["To"], second["Cc"]) == (
                first["Message-ID"],
                f"Carmen Customer <{CARMEN}>",
                f"Dan Globex <{DAN}>",
            )
            assert str(second["Message-ID"]).strip() == f"<{outbound.header_message_id}>"
            assert [p.get_content() for p in second.walk() if not p.is_multipart()] == [
                p.get_content() for p in first.walk() if not p.is_multipart()
            ]
            assert outbound_state(outbound) == ("sent", 2, 1, None, "", [])
            assert outbound.sent_at == NOW  # when it first went out
            assert delivery_on_the_page(acme, ticket, reply) == "sent: Sent"

            # Done: later sweeps send nothing more, to anyone.
            clock.shift(dt.timedelta(days=1))
            sweep(django_capture_on_commit_callbacks)
            assert send_outbound_now(outbound.pk) is None
            assert len(server.transactions) == 2
    assert ContactEmail.objects.get(email=DAN).bouncing_since is None


def test_a_cc_greylisted_then_refused_for_good_is_marked_bouncing_and_shown_as_not_delivered(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        ticket = carmen_opens_a_ticket(acme, mailbox, django_capture_on_commit_callbacks)
        with mail_server({DAN: [GREYLISTED, DAN_UNKNOWN]}) as server:
            reply = maria_replies(acme, ticket, django_capture_on_commit_callbacks)
            outbound = OutboundEmail.objects.get(message=reply)
            assert ContactEmail.objects.get(email=DAN).bouncing_since is None

            clock.shift(dt.timedelta(minutes=1, seconds=1))
            sweep(django_capture_on_commit_callbacks)

    # The retry asked for Dan alone; the server refused him, so it took the message for nobody.
    assert server.seen() == [([CARMEN, DAN], [CARMEN]), ([DAN], [])]
    not_delivered = f"Not delivered to {DAN} ({DAN_UNKNOWN})"
    assert outbound_state(outbound) == (
        "sent",
        2,
        1,
        None,
        not_delivered,
        [{"address": DAN, "reply": DAN_UNKNOWN, "outcome": "refused"}],
    )
    assert ContactEmail.objects.get(email=DAN).bouncing_since == NOW + dt.timedelta(minutes=1, seconds=1)
    assert ContactEmail.objects.get(email=CARMEN).bouncing_since is None
    assert delivery_on_the_page(acme, ticket, reply) == (
        "sent: Sent. Not delivered to dan@globex-acme.example (550 5.1.1 &lt;dan@globex-acme.example&gt;: User unknown)"
    )


def test_a_cc_greylisted_every_time_is_given_up_after_the_last_retry_and_that_shows(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    retrying = f"Retrying delivery to {DAN} ({GREYLISTED})"
    with time_machine.travel(NOW, tick=False) as clock:
        ticket = carmen_opens_a_ticket(acme, mailbox, django_capture_on_commit_callbacks)
        with mail_server({DAN: [GREYLISTED]}) as server:
            reply = maria_replies(acme, ticket, django_capture_on_commit_callbacks)
            outbound = OutboundEmail.objects.get(message=reply)
            schedule = [dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30)]
            schedule += [dt.timedelta(hours=2), dt.timedelta(hours=12)]
            due = NOW
            for retry, delay in enumerate(schedule, start=1):
                due += delay
                assert outbound_state(outbound)[2:5] == (retry - 1, due, retrying)
                assert delivery_on_the_page(acme, ticket, reply) == f"sent: Sent. {retrying}"
                clock.move_to(due)
                sweep(django_capture_on_commit_callbacks)
                assert len(server.transactions) == retry + 1

            # Six tries in all (the first and five retries, 14 h 36 min after the first), then Dan is given up.
            assert due == NOW + dt.timedelta(hours=14, minutes=36)
            given_up = f"Not delivered to {DAN} ({GREYLISTED}; gave up after 6 attempts)"
            assert outbound_state(outbound) == (
                "sent",
                6,
                5,
                None,
                given_up,
                [{"address": DAN, "reply": GREYLISTED, "outcome": "given_up"}],
            )
            assert delivery_on_the_page(acme, ticket, reply) == f"sent: Sent. {given_up}"
            clock.shift(dt.timedelta(days=2))
            sweep(django_capture_on_commit_callbacks)

    assert server.seen() == [([CARMEN, DAN], [CARMEN])] + [([DAN], [])] * 5
    # A temporary refusal says nothing bad about the address.
    assert ContactEmail.objects.get(email=DAN).bouncing_since is None


def test_a_retry_task_that_runs_twice_sends_once(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        ticket = carmen_opens_a_ticket(acme, mailbox, django_capture_on_commit_callbacks)
        with mail_server({DAN: [GREYLISTED, GREYLISTED, ACCEPTED]}) as server:
            reply = maria_replies(acme, ticket, django_capture_on_commit_callbacks)
            outbound = OutboundEmail.objects.get(message=reply)
            clock.shift(dt.timedelta(minutes=1, seconds=1))

            # Greylisted again: the second run of the same task finds the next retry not due and does nothing.
            with django_capture_on_commit_callbacks(execute=True):
                send_outbound_email.enqueue(outbound.pk)
                send_outbound_email.enqueue(outbound.pk)
            assert server.seen() == [([CARMEN, DAN], [CARMEN]), ([DAN], [])]
            assert outbound_state(outbound)[:4] == ("sent", 2, 1, NOW + dt.timedelta(minutes=6, seconds=1))

            # Accepted: the second run finds nobody left to send to.
            clock.shift(dt.timedelta(minutes=5))
            with django_capture_on_commit_callbacks(execute=True):
                send_outbound_email.enqueue(outbound.pk)
                send_outbound_email.enqueue(outbound.pk)
            sweep(django_capture_on_commit_callbacks)

    assert server.seen() == [([CARMEN, DAN], [CARMEN]), ([DAN], []), ([DAN], [DAN])]
    assert outbound_state(outbound) == ("sent", 3, 2, None, "", [])
    assert delivery_on_the_page(acme, ticket, reply) == "sent: Sent"


CARMEN_WRITES_TO_TWO_COLLEAGUES = b"""\
From: Carmen Customer <carmen@globex-acme.example>
To: Acme Support <support@acme.example>
Cc: Dan Globex <dan@globex-acme.example>, Erin Globex <erin@globex-acme.example>
Subject: Invoices show the wrong VAT number
Message-ID: <carmen-vat@globex-acme.example>
Date: Tue, 03 Mar 2026 09:10:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, our invoices show last year's VAT number.

Carmen
"""


def test_one_cc_refused_for_good_and_one_for_now_the_first_is_shown_at_once_the_second_retried_alone(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    erin_full = "452 4.2.2 Mailbox full"
    with time_machine.travel(NOW, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest_raw(mailbox=mailbox, raw=CARMEN_WRITES_TO_TWO_COLLEAGUES, via="imap")
        ticket = Ticket.objects.get(pk=result.ticket_id)
        with mail_server({DAN: [DAN_UNKNOWN], ERIN: [erin_full, ACCEPTED]}) as server:
            reply = maria_replies(acme, ticket, django_capture_on_commit_callbacks)
            outbound = OutboundEmail.objects.get(message=reply)
            both = f"Not delivered to {DAN} ({DAN_UNKNOWN}). Retrying delivery to {ERIN} ({erin_full})"
            assert outbound_state(outbound)[4:] == (
                both,
                [
                    {"address": DAN, "reply": DAN_UNKNOWN, "outcome": "refused"},
                    {"address": ERIN, "reply": erin_full, "outcome": "retrying"},
                ],
            )
            assert ContactEmail.objects.get(email=DAN).bouncing_since == NOW

            clock.shift(dt.timedelta(minutes=1, seconds=1))
            sweep(django_capture_on_commit_callbacks)

    assert server.seen() == [([CARMEN, DAN, ERIN], [CARMEN]), ([ERIN], [ERIN])]
    assert outbound_state(outbound) == (
        "sent",
        2,
        1,
        None,
        f"Not delivered to {DAN} ({DAN_UNKNOWN})",
        [{"address": DAN, "reply": DAN_UNKNOWN, "outcome": "refused"}],
    )
    assert ContactEmail.objects.get(email=ERIN).bouncing_since is None
    assert delivery_on_the_page(acme, ticket, reply) == (
        "sent: Sent. Not delivered to dan@globex-acme.example (550 5.1.1 &lt;dan@globex-acme.example&gt;: User unknown)"
    )
