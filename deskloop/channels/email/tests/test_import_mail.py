"""`manage.py import_mail` over archives built from corpus files."""

from __future__ import annotations

import mailbox as stdlib_mailbox
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from deskloop.channels.email.models import InboundEmail, Mailbox
from deskloop.conftest import Cast
from deskloop.tickets.models import Ticket

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
    "Tickets created: 1\n"
    "Replies threaded: 1\n"
    "Duplicates: 1\n"
    "Refused: 2 (auto_reply: 1, bounce: 1)\n"
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
    assert again.splitlines()[3] == "Duplicates: 5"


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
        "Messages read: 5\nTickets created: 0\nReplies threaded: 0\nDuplicates: 5\nRefused: 0\nQuarantined: 0\n"
    )
    assert Ticket.objects.filter(workspace=acme.workspace, subject="Testing 123").count() == 1


def test_it_refuses_to_run_without_a_workspace_mailbox_or_path(acme: Cast, support: Mailbox, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        run(tmp_path, workspace="nope")
    with pytest.raises(CommandError, match=r"Workspace 'acme' has no mailbox 'sales@acme\.example'"):
        run(tmp_path, address="sales@acme.example")
    with pytest.raises(CommandError, match="does not exist"):
        run(tmp_path / "missing")
