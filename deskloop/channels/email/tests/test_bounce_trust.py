"""Bounces change an address only when they prove they are about an email we sent; automatic mail leaves with our
own (tagged) envelope sender, never the null sender; an address that writes to us again is no longer bouncing.

Outgoing mail goes through Django's SMTP backend to a real SMTP server on loopback that records the envelope; the
bounces come back through the inbound pipeline as the bytes an MTA would deliver."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine

from deskloop.channels.email.bounce_address import tagged
from deskloop.channels.email.conversation_threads import make_message_id
from deskloop.channels.email.models import InboundEmail, Mailbox, OutboundEmail
from deskloop.channels.email.pipeline import IngestResult, ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.customers.models import ContactEmail
from deskloop.tickets.models import Message, Ticket

from .email_corpus import CORPUS
from .test_outbound import sending_through

Capture = Callable[..., Any]
NOW = dt.datetime(2026, 3, 3, 9, 15, tzinfo=dt.UTC)
CARMEN = "carmen@globex-acme.example"
SUPPORT = "support@acme.example"


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(
        actor=acme.admin,
        values=MailboxSettings(address=SUPPORT, display_name="Acme Support", default_team=acme.support),
    )


class _RecordingMailServer:
    """Takes every message and records each SMTP transaction's MAIL FROM, RCPT TO and bytes."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted"


def customer_writes(sender: str, n: int) -> bytes:
    return (
        f"From: Carmen Customer <{sender}>\r\nTo: {SUPPORT}\r\nSubject: Export problem {n}\r\n"
        f"Message-ID: <carmen-{n}@globex-acme.example>\r\nDate: Tue, 03 Mar 2026 09:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nThe export drops the last row.\r\n"
    ).encode()


def dsn(
    *, to: str, failed: str, returned_headers: str = "", sender: str = "MAILER-DAEMON@mx.globex-acme.example"
) -> bytes:
    """An RFC 3464 report as Postfix writes it, addressed to ``to`` (the envelope sender of the bounced email)."""
    return (
        f"Return-Path: <>\r\nFrom: Mail Delivery System <{sender}>\r\nTo: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-" + failed.replace("@", ".") + ">\r\n"
        "Date: Tue, 03 Mar 2026 09:20:00 +0000\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be "
        "delivered.\r\n\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.globex-acme.example\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{failed}>: Recipient address rejected: User unknown\r\n\r\n"
        f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned_headers}\r\n--b1--\r\n"
    ).encode()


def ingest(mailbox: Mailbox, raw: bytes, capture: Capture) -> IngestResult:
    with capture(execute=True):
        return ingest_raw(mailbox=mailbox, raw=raw, via="smtp")


def bouncing(address: str) -> bool:
    return ContactEmail.objects.get(email=address).bouncing_since is not None


@time_machine.travel(NOW, tick=False)
def test_the_acknowledgement_leaves_from_the_tagged_mailbox_address_and_its_bounce_marks_the_customer(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    server = _RecordingMailServer()
    with sending_through(server):
        opened = ingest(mailbox, customer_writes(CARMEN, 1), django_capture_on_commit_callbacks)
    acknowledgement = OutboundEmail.objects.get(kind="acknowledgement")
    [(mail_from, rcpt_to, content)] = server.envelopes
    # RFC 3834 allows the null sender for automatic answers; we use our own address on our own domain, tagged.
    assert (mail_from, rcpt_to) == (tagged(SUPPORT, acknowledgement.pk), [CARMEN])
    assert mail_from == f"support+dlb.{acknowledgement.pk}.{mail_from.split('.')[2].split('@')[0]}@acme.example"
    assert b"\r\nAuto-Submitted: auto-replied\r\n" in content

    # Carmen's mailbox is gone: her MTA returns the acknowledgement to its envelope sender, without its headers.
    bounce = ingest(mailbox, dsn(to=mail_from, failed=CARMEN), django_capture_on_commit_callbacks)
    note = Message.objects.get(ticket_id=opened.ticket_id, kind="system")
    assert (bounce.state, bounce.refusal_reason, bounce.ticket_id, bouncing(CARMEN)) == (
        "refused",
        "bounce",
        opened.ticket_id,
        True,
    )
    assert note.body_text == (
        f"An email about this ticket could not be delivered to {CARMEN}: "
        f"550 5.1.1 <{CARMEN}>: Recipient address rejected: User unknown"
    )
    assert InboundEmail.objects.get(pk=bounce.inbound_id).detail.endswith(f"\nMarked as bouncing: {CARMEN}")


@time_machine.travel(NOW, tick=False)
def test_made_up_bounces_mark_nobody_and_the_customer_still_gets_acknowledgements(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    ingest(mailbox, customer_writes(CARMEN, 1), django_capture_on_commit_callbacks)
    sent = OutboundEmail.objects.get(kind="acknowledgement")
    forged_tag = tagged(SUPPORT, sent.pk).replace(tagged(SUPPORT, sent.pk).split(".")[2].split("@")[0], "0" * 16)
    unsigned_id = f"Message-ID: <dl.{acme.ticket.pk}.ackabcdef0123456789.000000000000000000000000@acme.example>"
    postmaster_text = (
        "From: postmaster@evil.example\r\nTo: support@acme.example\r\nSubject: Returned mail: see transcript\r\n"
        "Message-ID: <pm-1@evil.example>\r\n\r\nThe following addresses had permanent fatal errors:\r\n"
        f"<{CARMEN}>\r\n    (reason: 550 5.1.1 User unknown)\r\n"
    ).encode()
    forgeries = [
        dsn(to=SUPPORT, failed=CARMEN),  # from anyone, about nothing of ours
        dsn(to=forged_tag, failed=CARMEN),  # a tag with a made-up signature
        dsn(to=SUPPORT, failed=CARMEN, returned_headers=unsigned_id),  # our id format, unsigned
        postmaster_text,  # a system-looking sender, the "failed" address read from free text
    ]
    results = [ingest(mailbox, raw, django_capture_on_commit_callbacks) for raw in forgeries]

    assert [(r.state, r.refusal_reason, r.ticket_id) for r in results] == [("refused", "bounce", None)] * 4
    assert bouncing(CARMEN) is False
    assert Message.objects.filter(kind="system").count() == 0
    details = [InboundEmail.objects.get(pk=r.inbound_id).detail.splitlines()[-1] for r in results]
    assert (
        details
        == ["Not about an email we sent (no bounce address or signed Message-ID of ours): nobody is marked."] * 4
    )
    ingest(mailbox, customer_writes(CARMEN, 2), django_capture_on_commit_callbacks)
    assert list(OutboundEmail.objects.filter(kind="acknowledgement").values_list("state", flat=True)) == [
        "sent",
        "sent",
    ]


@time_machine.travel(NOW, tick=False)
def test_a_bounce_returning_our_signed_message_id_marks_only_recipients_of_that_email(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    ingest(mailbox, customer_writes(CARMEN, 1), django_capture_on_commit_callbacks)
    ingest(mailbox, customer_writes("dan@globex-acme.example", 2), django_capture_on_commit_callbacks)
    to_carmen = OutboundEmail.objects.get(kind="acknowledgement", recipient=CARMEN)
    returned = f"From: {SUPPORT}\r\nTo: {CARMEN}\r\nMessage-ID: <{to_carmen.header_message_id}>\r\n"
    about_dan = ingest(
        mailbox,
        dsn(to=SUPPORT, failed="dan@globex-acme.example", returned_headers=returned),
        django_capture_on_commit_callbacks,
    )
    about_carmen = ingest(
        mailbox, dsn(to=SUPPORT, failed=CARMEN, returned_headers=returned), django_capture_on_commit_callbacks
    )

    assert (bouncing("dan@globex-acme.example"), bouncing(CARMEN)) == (False, True)
    assert InboundEmail.objects.get(pk=about_dan.inbound_id).detail.endswith(
        "\nNot recipients of the bounced email, so not marked: dan@globex-acme.example"
    )
    assert about_carmen.ticket_id == to_carmen.ticket_id


@time_machine.travel(NOW, tick=False)
def test_an_abuse_complaint_about_our_email_never_marks_the_complainer(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    """arf-21 (sisimai): a feedback report whose free text names kijitora@example.org, who complained about our
    message <20120831225410.3E5F95A1@example.com>; it used to mark them as bouncing."""
    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    ContactEmail.objects.filter(contact=acme.customer).update(email="kijitora@example.org")
    OutboundEmail.objects.create(
        workspace=acme.workspace,
        mailbox=mailbox,
        ticket=ticket,
        kind="reply",
        to=[["", "kijitora@example.org"]],
        recipient="kijitora@example.org",
        subject="Re: VAT",
        header_message_id="20120831225410.3E5F95A1@example.com",
    )
    raw = (CORPUS / "sisimai-set-of-emails/maildir/bsd/arf-21.eml").read_bytes()
    result = ingest(mailbox, raw, django_capture_on_commit_callbacks)

    assert (result.state, result.refusal_reason, bouncing("kijitora@example.org")) == ("refused", "bounce", False)
    assert InboundEmail.objects.get(pk=result.inbound_id).detail.splitlines()[-1] == (
        "An abuse complaint (feedback report), not a bounce: nobody is marked as bouncing."
    )


@time_machine.travel(NOW, tick=False)
def test_a_bouncing_address_recovers_when_mail_from_it_arrives_again(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    ingest(mailbox, customer_writes(CARMEN, 1), django_capture_on_commit_callbacks)
    first = OutboundEmail.objects.get(kind="acknowledgement")
    ingest(mailbox, dsn(to=tagged(SUPPORT, first.pk), failed=CARMEN), django_capture_on_commit_callbacks)
    assert bouncing(CARMEN) is True

    ingest(mailbox, customer_writes(CARMEN, 2), django_capture_on_commit_callbacks)

    assert bouncing(CARMEN) is False
    second = OutboundEmail.objects.exclude(pk=first.pk).get(kind="acknowledgement")
    assert (second.state, second.skip_reason) == ("sent", "")


def test_an_unbound_signed_message_id_is_still_ours_for_bounces(acme: Cast, mailbox: Mailbox) -> None:
    """Emails sent before recipients were bound into Message-IDs keep working for bounces and threading."""
    legacy = make_message_id(acme.ticket, "reply", domain="acme.example").strip("<>")
    OutboundEmail.objects.create(
        workspace=acme.workspace,
        mailbox=mailbox,
        ticket=acme.ticket,
        kind="reply",
        to=[["Carmen Customer", CARMEN]],
        recipient=CARMEN,
        subject="Re: VAT",
        header_message_id=legacy,
    )
    ContactEmail.objects.filter(contact=acme.customer).update(email=CARMEN)
    result = ingest_raw(
        mailbox=mailbox, raw=dsn(to=SUPPORT, failed=CARMEN, returned_headers=f"Message-ID: <{legacy}>"), via="imap"
    )
    assert (result.ticket_id, bouncing(CARMEN)) == (acme.ticket.pk, True)
