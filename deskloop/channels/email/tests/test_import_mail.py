"""`manage.py import_mail` over archives built from corpus files."""

from __future__ import annotations

import mailbox as stdlib_mailbox
import re
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from deskloop.channels.email.management.commands.import_mail import summary
from deskloop.channels.email.models import InboundEmail, InboundState, Mailbox
from deskloop.conftest import Cast
from deskloop.tickets.models import ProductArea, Status, StatusCategory, Ticket

from .corpus import AUTO_REPLY, BASIC, BOUNCE, real

ORIGINAL_ID = "<6B7EC235-5B17-4CA8-B2B8-39290DEB43A3@test.lindsaar.net>"


def archive_messages() -> list[bytes]:
    """Reply first on purpose: the import must sort by date so it still threads onto the original's ticket."""
    reply = real(
        BASIC,
        Message_Id="<reply-1@test.lindsaar.net>",
        In_Reply_To=ORIGINAL_ID,
        Subject="Re: Testing 123",
        Date="Sun, 23 Nov 2008 09:00:00 +1100",
    )
    return [reply, real(BASIC), real(BOUNCE), real(AUTO_REPLY), real(BASIC)]


EXPECTED = (
    "Messages read: 5\n"
    "New tickets: 1\n"
    "Follow-up tickets: 0\n"
    "Replies threaded: 1\n"
    "Duplicates: 1\n"
    "Refused: 2 (auto_reply: 1, bounce: 1)\n"
    "Left unprocessed: 0\n"
    "Quarantined: 0\n"
)


@pytest.fixture
def support(acme: Cast) -> Mailbox:
    return Mailbox.objects.create(workspace=acme.workspace, address="support@acme.example")


def run(path: Path, workspace: str = "acme", address: str = "Support@acme.example") -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_mail", "--workspace", workspace, "--mailbox", address, str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_maildir_is_imported_in_date_order_with_a_summary(acme: Cast, support: Mailbox, tmp_path: Path) -> None:
    maildir = stdlib_mailbox.Maildir(str(tmp_path / "Mail"), create=True)
    for raw in archive_messages():
        maildir.add(raw)
    out, err = run(tmp_path / "Mail")
    ticket = Ticket.objects.get(workspace=acme.workspace, subject="Testing 123")
    assert out == EXPECTED
    assert "import: 100%" in err
    assert (ticket.message_count, InboundEmail.objects.filter(received_via="import").count()) == (2, 4)
    # Twice is harmless: everything is a duplicate the second time.
    again, _err = run(tmp_path / "Mail")
    assert again.splitlines()[4] == "Duplicates: 5"


def test_an_mbox_and_a_folder_of_eml_files_are_imported(acme: Cast, support: Mailbox, tmp_path: Path) -> None:
    box = stdlib_mailbox.mbox(str(tmp_path / "archive.mbox"))
    for raw in archive_messages():
        box.add(raw)
    box.flush()
    out, _err = run(tmp_path / "archive.mbox")
    assert out == EXPECTED
    folder = tmp_path / "eml" / "nested"
    folder.mkdir(parents=True)
    for index, raw in enumerate(archive_messages()):
        (folder / f"{index}.eml").write_bytes(raw)
    again, _err = run(tmp_path / "eml")
    # The same messages as the mbox, byte for byte: all duplicates, nothing created twice.
    assert again == (
        "Messages read: 5\nNew tickets: 0\nFollow-up tickets: 0\nReplies threaded: 0\nDuplicates: 5\nRefused: 0\n"
        "Left unprocessed: 0\nQuarantined: 0\n"
    )
    assert Ticket.objects.filter(workspace=acme.workspace, subject="Testing 123").count() == 1


def test_it_refuses_to_run_without_a_workspace_mailbox_or_path(acme: Cast, support: Mailbox, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        run(tmp_path, workspace="nope")
    with pytest.raises(CommandError, match=r"Workspace 'acme' has no mailbox 'sales@acme\.example'"):
        run(tmp_path, address="sales@acme.example")
    with pytest.raises(CommandError, match="does not exist"):
        run(tmp_path / "missing")


def _maildir_of(path: Path, messages: list[bytes]) -> Path:
    maildir = stdlib_mailbox.Maildir(str(path), create=True)
    for raw in messages:
        maildir.add(raw)
    return path


def test_the_summary_counts_every_outcome_and_follow_ups_apart(
    acme: Cast, umbrella: Cast, support: Mailbox, tmp_path: Path
) -> None:
    reply = archive_messages()[0]
    out, _err = run(_maildir_of(tmp_path / "first", archive_messages()))
    assert out == EXPECTED
    # The conversation is closed; the customer writes again: a follow-up ticket, not a new conversation.
    first = Ticket.objects.get(workspace=acme.workspace, subject="Testing 123")
    closed = Status.objects.get(workspace=acme.workspace, category=StatusCategory.CLOSED, is_default=True)
    Ticket.objects.filter(pk=first.pk).update(status=closed)
    again = real(
        BASIC,
        Message_Id="<reply-2@test.lindsaar.net>",
        In_Reply_To=ORIGINAL_ID,
        Subject="Re: Testing 123",
        Date="Mon, 24 Nov 2008 09:00:00 +1100",
    )
    out, _err = run(_maildir_of(tmp_path / "second", [again, reply]))
    assert out == (
        "Messages read: 2\nNew tickets: 0\nFollow-up tickets: 1\nReplies threaded: 0\nDuplicates: 1\nRefused: 0\n"
        "Left unprocessed: 0\nQuarantined: 0\n"
    )
    follow_up = InboundEmail.objects.get(header_message_id="reply-2@test.lindsaar.net")
    assert (follow_up.outcome, follow_up.ticket_id != first.pk) == ("follow_up", True)
    # A broken configuration quarantines the message: it still has its line.
    foreign_area = ProductArea.objects.create(workspace=umbrella.workspace, name="Elsewhere", path="Elsewhere")
    Mailbox.objects.filter(pk=support.pk).update(default_product_area=foreign_area)
    out, _err = run(_maildir_of(tmp_path / "third", [real(BASIC, Message_Id="<new-3@test.lindsaar.net>")]))
    assert out.splitlines()[1:] == [
        "New tickets: 0",
        "Follow-up tickets: 0",
        "Replies threaded: 0",
        "Duplicates: 0",
        "Refused: 0",
        "Left unprocessed: 0",
        "Quarantined: 1",
    ]


def test_every_state_and_outcome_has_a_line_that_adds_up() -> None:
    counts = Counter({f"processed:{o}": 1 for o in ("new_ticket", "follow_up", "threaded", "merged")})
    counts.update({state: 2 for state in InboundState.values if state not in ("processed", "refused")})
    counts.update({"refused:list": 3, "duplicate": 1, "parked": 1})
    lines = summary(sum(counts.values()), counts).splitlines()
    numbers = [int(re.sub(r" \(.*\)$", "", line).rsplit(": ", 1)[1]) for line in lines]
    assert numbers[0] == sum(numbers[1:]) == 13
    assert "Processed otherwise (merged): 1" in lines
    assert "Other (parked): 1" in lines
