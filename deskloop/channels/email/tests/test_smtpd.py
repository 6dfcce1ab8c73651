"""The SMTP/LMTP listener an MTA delivers to: a real aiosmtpd server on a loopback port, smtplib as the MTA."""

from __future__ import annotations

import select
import shutil
import signal
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from deskloop.channels.email.bounce_address import tagged
from deskloop.channels.email.models import InboundEmail, Mailbox
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.channels.email.smtpd import DeskloopController, with_return_path
from deskloop.conftest import Cast
from deskloop.tickets.attachments import read_blob
from deskloop.tickets.models import Ticket

from .corpus import BASIC, BOUNCE, real
from .dovecot import free_port
from .shared_db import ROOT, SharedDatabase

pytestmark = pytest.mark.django_db(transaction=True)  # the listener stores from its own thread

SUPPORT = "support@acme.example"


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(actor=acme.admin, values=MailboxSettings(address=SUPPORT))


def listen(*, lmtp: bool) -> DeskloopController:
    controller = DeskloopController(host="127.0.0.1", port=free_port(), lmtp=lmtp)
    controller.start()
    return controller


@pytest.fixture
def smtp_listener() -> Iterator[DeskloopController]:
    controller = listen(lmtp=False)
    yield controller
    controller.stop()


@pytest.fixture
def lmtp_listener() -> Iterator[DeskloopController]:
    controller = listen(lmtp=True)
    yield controller
    controller.stop()


def question(n: int, **headers: str) -> bytes:
    """A customer's mail as an MTA sends it: CRLF line ends."""
    raw = real(BASIC, Message_Id=f"<smtp-{n}@globex.example>", Subject=f"Question {n}", Return_Path="", **headers)
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_accepted_mail_is_committed_before_the_250(
    acme: Cast, mailbox: Mailbox, smtp_listener: DeskloopController
) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as client:
        refused = client.sendmail("carmen@globex.example", [SUPPORT.upper()], question(1))
        # The MTA retries after a lost answer: the same bytes again are a duplicate, answered 250 too.
        again = client.sendmail("carmen@globex.example", [SUPPORT], question(1))
    inbound = InboundEmail.objects.get()
    assert (refused, again) == ({}, {})
    assert (inbound.mailbox, inbound.received_via, inbound.state, inbound.outcome) == (
        mailbox,
        "smtp",
        "processed",
        "new_ticket",
    )
    assert Ticket.objects.filter(workspace=acme.workspace, subject="Question 1").count() == 1
    # Final delivery records the envelope sender (RFC 5321 4.4); the rest is the message as it came.
    assert read_blob(inbound.raw) == b"Return-Path: <carmen@globex.example>\r\n" + question(1)


def test_unknown_recipients_are_refused_with_550(mailbox: Mailbox, smtp_listener: DeskloopController) -> None:
    Mailbox.objects.create(workspace=mailbox.workspace, address="old@acme.example", is_active=False)
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as nobody:
            client.sendmail("carmen@globex.example", ["nobody@acme.example", "old@acme.example"], question(1))
        partly = client.sendmail("carmen@globex.example", ["nobody@acme.example", SUPPORT], question(2))
    assert nobody.value.recipients == {
        "nobody@acme.example": (550, b"5.1.1 No such mailbox here"),
        "old@acme.example": (550, b"5.1.1 No such mailbox here"),
    }
    assert partly == {"nobody@acme.example": (550, b"5.1.1 No such mailbox here")}
    assert list(InboundEmail.objects.values_list("subject", flat=True)) == ["Question 2"]


def test_mail_over_the_mailbox_limit_is_refused_with_552(mailbox: Mailbox, smtp_listener: DeskloopController) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(max_message_bytes=500)
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as client:
        # smtplib declares SIZE in MAIL FROM (the server offers it), so RCPT already refuses.
        with pytest.raises(smtplib.SMTPRecipientsRefused) as declared:
            client.sendmail("carmen@globex.example", [SUPPORT], question(1))
        # A client that does not declare the size is refused after DATA.
        client.ehlo()
        client.mail("carmen@globex.example")
        client.rcpt(SUPPORT)
        undeclared = client.data(question(2))
    assert declared.value.recipients == {SUPPORT: (552, b"5.3.4 Message too big for this mailbox")}
    assert undeclared == (552, b"5.3.4 Message too big for this mailbox")
    assert InboundEmail.objects.count() == 0


def test_a_database_error_answers_451_and_the_retry_is_stored(
    mailbox: Mailbox, smtp_listener: DeskloopController
) -> None:
    table = InboundEmail._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        with (
            smtplib.SMTP("127.0.0.1", smtp_listener.port) as client,
            pytest.raises(smtplib.SMTPDataError) as unavailable,
        ):
            client.sendmail("carmen@globex.example", [SUPPORT], question(1))
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as client:
        retried = client.sendmail("carmen@globex.example", [SUPPORT], question(1))
    assert (unavailable.value.smtp_code, unavailable.value.smtp_error) == (
        451,
        b"4.3.0 Temporary failure storing the message; try again later",
    )
    assert (retried, InboundEmail.objects.count()) == ({}, 1)


def test_a_bounce_from_the_null_sender_is_stored_and_refused_as_a_bounce(
    mailbox: Mailbox, smtp_listener: DeskloopController
) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as client:
        bounce = real(BOUNCE, Return_Path="").replace(b"\n", b"\r\n")
        assert client.sendmail("<>", [SUPPORT], bounce) == {}
    inbound = InboundEmail.objects.get()
    assert (inbound.state, inbound.refusal_reason) == ("refused", "bounce")
    assert read_blob(inbound.raw).startswith(b"Return-Path: <>\r\n")


def test_a_bounce_to_the_tagged_envelope_sender_of_our_email_reaches_the_mailbox(
    mailbox: Mailbox, smtp_listener: DeskloopController
) -> None:
    # Our outgoing mail's envelope sender is the mailbox address tagged with the email (bounce_address); a forged
    # tag still reaches the mailbox (nothing is dropped) but proves nothing there.
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as client:
        bounce = real(BOUNCE, Return_Path="").replace(b"\n", b"\r\n")
        assert client.sendmail("<>", [tagged(SUPPORT, 7)], bounce) == {}
        client.mail("<>")
        refused = client.rcpt("support+other@acme.example")
    inbound = InboundEmail.objects.get()
    assert (inbound.mailbox, inbound.state, inbound.refusal_reason) == (mailbox, "refused", "bounce")
    assert refused == (550, b"5.1.1 No such mailbox here")


def test_lmtp_answers_each_recipient(acme: Cast, mailbox: Mailbox, lmtp_listener: DeskloopController) -> None:
    billing = create_mailbox(actor=acme.admin, values=MailboxSettings(address="billing@acme.example"))
    Mailbox.objects.filter(pk=billing.pk).update(max_message_bytes=500)
    client = smtplib.LMTP("127.0.0.1", lmtp_listener.port)
    try:
        client.ehlo()  # LHLO
        client.mail("carmen@globex.example")
        answers = [client.rcpt(SUPPORT), client.rcpt("billing@acme.example"), client.rcpt("nobody@acme.example")]
        first = client.data(question(1))
        second = client.getreply()
    finally:
        client.quit()
    assert answers == [(250, b"2.1.5 OK"), (250, b"2.1.5 OK"), (550, b"5.1.1 No such mailbox here")]
    assert (first, second) == ((250, b"2.0.0 OK: stored"), (552, b"5.3.4 Message too big for this mailbox"))
    assert list(InboundEmail.objects.values_list("mailbox__address", "state")) == [(SUPPORT, "processed")]


def test_return_path_is_added_only_when_the_message_has_none() -> None:
    assert with_return_path(b"Return-Path: <a@b>\r\nSubject: x\r\n\r\nhi", "c@d") == (
        b"Return-Path: <a@b>\r\nSubject: x\r\n\r\nhi"
    )
    assert with_return_path(b"Subject: x\r\n\r\nReturn-Path: <in body>", "c\r\nX-Injected: 1@d") == (
        b"Return-Path: <cX-Injected:1@d>\r\nSubject: x\r\n\r\nReturn-Path: <in body>"
    )


def test_the_deskloop_console_script_runs_the_lmtp_listener(mailbox: Mailbox, tmp_path: Path) -> None:
    script = shutil.which("deskloop", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.fail("The `deskloop` console script is not installed: run `pip install -e .` (make does).")
    shared = SharedDatabase(tmp_path)
    shared.push()
    port = free_port()
    log_file = (tmp_path / "smtpd.log").open("wb")
    listener = subprocess.Popen(  # noqa: S603 (our own console script)
        [script, "smtpd", "--host", "127.0.0.1", "--port", str(port), "--lmtp"],
        cwd=ROOT,
        env=shared.env,
        stdout=subprocess.PIPE,
        stderr=log_file,
    )
    try:
        assert listener.stdout is not None
        ready, _, _ = select.select([listener.stdout], [], [], 60)
        banner = listener.stdout.readline() if ready else b""
        assert banner == f"Deskloop LMTP listener on 127.0.0.1:{port}\n".encode()
        client = smtplib.LMTP("127.0.0.1", port)
        try:
            delivered = client.sendmail("carmen@globex.example", [SUPPORT], question(1))
        finally:
            client.quit()
    finally:
        listener.send_signal(signal.SIGTERM)
        output = listener.communicate(timeout=30)[0]
        log_file.close()
    shared.pull()
    assert (delivered, listener.returncode, output) == ({}, 0, b"Stopped.\n")
    assert list(InboundEmail.objects.values_list("received_via", "subject", "state")) == [
        ("smtp", "Question 1", "processed")
    ]
