"""The whole email corpus (testdata/email) through the real entry points: `manage.py import_mail` over the tree (every
message accounted for, none lost, none crashing the run), and the 629 sisimai bounces against a workspace that
really sent the bounced messages (addresses marked bouncing, notes on the tickets, no ticket opened)."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from deskloop.channels.email.dsn import parse_dsn
from deskloop.channels.email.models import InboundEmail, InboundState, OutboundEmail
from deskloop.channels.email.noise import classify
from deskloop.channels.email.parsing import parse_message
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import ContactEmail
from deskloop.customers.services import find_or_create_contact
from deskloop.tickets.models import Message, Ticket
from deskloop.tickets.services.tickets import NewTicket, open_ticket

from .email_corpus import CORPUS

SISIMAI = CORPUS / "sisimai-set-of-emails" / "maildir" / "bsd"
# Contacts marked bouncing by the 592 bounces: the permanently failed recipients of bounces returning our Message-ID.
EXPECTED_BOUNCING = 202

# import_mail's summary for the whole tree (date order; dotfiles skipped). It agrees with the per-file outcomes
# in golden_pipeline/outcomes.json: 1,354 files less the two dotfiles (.gitattributes, .gitignore: no_sender).
WHOLE_TREE_SUMMARY = (
    "Messages read: 1352\n"
    "New tickets: 264\n"
    "Follow-up tickets: 0\n"
    "Replies threaded: 2\n"
    "Duplicates: 88\n"
    "Refused: 998 (auto_reply: 8, bounce: 614, list: 12, no_sender: 364)\n"
    "Left unprocessed: 0\n"
    "Quarantined: 0\n"
)


def test_import_mail_over_the_whole_corpus_accounts_for_every_message(acme: Cast) -> None:
    create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    tickets_before = Ticket.objects.filter(workspace=acme.workspace).count()
    out, err = StringIO(), StringIO()
    call_command(
        "import_mail", "--workspace", "acme", "--mailbox", "support@acme.example", str(CORPUS), stdout=out, stderr=err
    )
    summary = out.getvalue()
    numbers = {key: int(value) for key, value in re.findall(r"^([A-Z][\w -]+): (\d+)", summary, re.MULTILINE)}
    # read == the sum of every other line: nothing lost, nothing counted twice.
    read = numbers.pop("Messages read")
    assert read == sum(numbers.values())
    assert summary == WHOLE_TREE_SUMMARY
    assert "import: 100%" in err.getvalue()
    rows = InboundEmail.objects.filter(workspace=acme.workspace)
    assert rows.count() == read - numbers["Duplicates"]
    assert rows.filter(state=InboundState.REFUSED).count() == numbers["Refused"]
    assert rows.filter(state=InboundState.RECEIVED).count() == 0
    created = Ticket.objects.filter(workspace=acme.workspace).count() - tickets_before
    assert created == numbers["New tickets"] + numbers["Follow-up tickets"]


def _sisimai_files() -> list[Path]:
    return sorted(p for p in SISIMAI.iterdir() if p.is_file())


def test_all_629_sisimai_bounces_open_no_ticket_mark_recipients_and_note_our_tickets(acme: Cast) -> None:
    mailbox = create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    files = _sisimai_files()
    assert len(files) == 629
    # The workspace as it would be had it sent every bounced message: each failed recipient is a contact, and
    # each returned Message-ID is an email we sent about a ticket of our own (one ticket per original).
    # (Only mails classified as bounces: an auto-reply quoting addresses, like rfc3834-05's, marks nobody.)
    parsed = [parse_message(path.read_bytes()) for path in files]
    reports = [parse_dsn(p) for p in parsed if classify(p).kind == "bounce"]
    recipients = sorted({r.address for report in reports for r in report.recipients})
    permanent = sorted({r.address for report in reports for r in report.recipients if r.is_permanent})
    contacts = 0
    for address in recipients:
        try:
            find_or_create_contact(workspace=acme.workspace, email=address)
            contacts += 1
        except ValidationFailed:  # a DSN may name what is no valid address ("neko....nyaan....@libsisimai.org")
            continue
    originals = sorted({report.original_message_id for report in reports if report.original_message_id})
    # Each email we sent went to the recipients its bounces name: a bounce marks only recipients of our email.
    sent_to: dict[str, set[str]] = {original: set() for original in originals}
    for report in reports:
        if report.original_message_id:
            sent_to[report.original_message_id] |= {r.address for r in report.recipients}
    for index, original in enumerate(originals):
        ticket = open_ticket(
            workspace=acme.workspace, ticket=NewTicket(requester=acme.customer, subject=f"Sent mail {index}")
        )[0]
        OutboundEmail.objects.create(
            workspace=acme.workspace,
            mailbox=mailbox,
            ticket=ticket,
            kind="reply",
            to=[["", address] for address in sorted(sent_to[original])],
            subject=f"Re: Sent mail {index}",
            header_message_id=original,
        )
    # Checked numbers: the recipients the DSNs name (permanent ones are marked), the distinct returned ids.
    contact_addresses = set(ContactEmail.objects.filter(workspace=acme.workspace).values_list("email", flat=True))
    # 271, 270, 238 before abuse reports were read as complaints only: arf-01 and arf-21 named their complainers
    # (redacted@example.net, kijitora@example.org) as failed recipients, from free text.
    assert (len(recipients), contacts, len(permanent), len(originals)) == (270, 269, 237, 457)
    tickets_before = Ticket.objects.count()
    notes_before = Message.objects.filter(kind="system").count()

    results = [ingest_raw(mailbox=mailbox, raw=path.read_bytes(), via="imap") for path in files]

    assert Ticket.objects.count() == tickets_before
    outcomes = sorted({(r.state, r.refusal_reason, r.outcome, r.duplicate) for r in results})
    assert outcomes == [
        ("refused", "auto_reply", "", False),
        ("refused", "bounce", "", False),
        ("refused", "bounce", "", True),
    ]
    bounces = [r for r in results if r.refusal_reason == "bounce" and not r.duplicate]
    assert (len(bounces), sum(r.refusal_reason == "auto_reply" for r in results)) == (592, 7)
    bouncing = sorted(
        ContactEmail.objects.filter(workspace=acme.workspace, bouncing_since__isnull=False).values_list(
            "email", flat=True
        )
    )
    # Only bounces that name the email of ours they are about (the returned Message-ID) mark anybody.
    proven = {r.address for report in reports if report.original_message_id for r in report.recipients}
    assert bouncing == [address for address in permanent if address in contact_addresses and address in proven]
    assert len(bouncing) == EXPECTED_BOUNCING
    # Every bounce that returned one of our Message-IDs noted the ticket it was about, and linked it.
    noted = [r for r in bounces if r.ticket_id is not None]
    with_original = sum(
        1
        for path, result in zip(files, results, strict=True)
        if result in bounces and parse_dsn(parse_message(path.read_bytes())).original_message_id
    )
    assert len(noted) == Message.objects.filter(kind="system").count() - notes_before == with_original == 503
    assert all(
        Message.objects.filter(ticket_id=r.ticket_id, kind="system").exists() and r.ticket_number is not None
        for r in noted
    )


def test_a_sisimai_bounce_notes_exactly_the_ticket_whose_email_bounced(acme: Cast) -> None:
    """One DSN read by a person: Postfix returned our message <20140701000000.000000000000@e1.example.ne.jp> to
    kijitora@example.net with status 5.0.0, "550 Unknown user kijitora@example.net"."""
    mailbox = create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    contact = find_or_create_contact(workspace=acme.workspace, email="kijitora@example.net")
    OutboundEmail.objects.create(
        workspace=acme.workspace,
        mailbox=mailbox,
        ticket=acme.ticket,
        kind="reply",
        to=["kijitora@example.net"],
        subject="Re: VAT",
        header_message_id="20140701000000.000000000000@e1.example.ne.jp",
    )
    result = ingest_raw(mailbox=mailbox, raw=(SISIMAI / "lhost-postfix-03.eml").read_bytes(), via="imap")
    note = Message.objects.get(ticket=acme.ticket, kind="system")
    assert (result.state, result.refusal_reason, result.ticket_id, Ticket.objects.count()) == (
        "refused",
        "bounce",
        acme.ticket.pk,
        1,
    )
    assert contact.emails.get().bouncing_since is not None
    assert note.body_text == (
        "An email about this ticket could not be delivered to kijitora@example.net: "
        "550 Unknown user kijitora@example.net"
    )


def _outcomes(cast: Cast) -> dict[str, tuple[str, str, str]]:
    return {
        row.raw_sha256: (row.state, row.refusal_reason, row.outcome)
        for row in InboundEmail.objects.filter(workspace=cast.workspace)
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="several importing processes need PostgreSQL")
def test_import_mail_with_two_processes_gives_every_message_the_outcome_of_a_one_process_import(
    transactional_db: None, acme: Cast, umbrella: Cast
) -> None:
    for cast in (acme, umbrella):
        create_mailbox(actor=cast.admin, values=MailboxSettings(address=f"support@{cast.workspace.slug}.example"))
    parallel, sequential = StringIO(), StringIO()
    call_command(
        "import_mail", "--workspace", "acme", "--mailbox", "support@acme.example", "--jobs", "2", str(CORPUS),
        stdout=parallel, stderr=StringIO(),
    )  # fmt: skip
    call_command(
        "import_mail", "--workspace", "umbrella", "--mailbox", "support@umbrella.example", "--jobs", "1", str(CORPUS),
        stdout=sequential, stderr=StringIO(),
    )  # fmt: skip
    assert parallel.getvalue() == sequential.getvalue() == WHOLE_TREE_SUMMARY
    # Exactly once, each message the same outcome as when imported by one process.
    assert _outcomes(acme) == _outcomes(umbrella)
    assert len(_outcomes(acme)) == 1352 - 88

    def made_by_email(cast: Cast) -> tuple[int, int]:
        tickets = Ticket.objects.filter(workspace=cast.workspace).exclude(pk=cast.ticket.pk)
        return tickets.count(), Message.objects.filter(ticket__in=tickets).count()

    assert made_by_email(acme) == made_by_email(umbrella) == (264, 266)


def test_import_mail_refuses_several_processes_on_sqlite_or_inside_a_transaction(acme: Cast) -> None:
    create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    with pytest.raises(CommandError, match="--jobs above 1 needs PostgreSQL"):
        call_command("import_mail", "--workspace", "acme", "--mailbox", "support@acme.example", "--jobs", "2", ".")
    with pytest.raises(CommandError, match="--jobs must be 1 or more"):
        call_command("import_mail", "--workspace", "acme", "--mailbox", "support@acme.example", "--jobs", "0", ".")
    assert InboundEmail.objects.filter(workspace=acme.workspace).count() == 0
