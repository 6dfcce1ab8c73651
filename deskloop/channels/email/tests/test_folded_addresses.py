"""Display names with commas survive the round trip: folded in the customer's To/Cc, stored on the ticket's CC
contacts, and written into our reply's Cc, where each person must stay one address."""

from __future__ import annotations

import email
import email.policy
import email.utils
from collections.abc import Callable
from typing import Any

import pytest

from deskloop.channels.email.models import Mailbox
from deskloop.channels.email.outbound_mime import OutgoingMail, build_mime
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.messages import add_agent_reply

from .test_outbound import sending_through

Capture = Callable[..., Any]
# Longer than a header line: the stdlib's folder broke it inside the quotes and dropped them.
LONG_NAME = "Doe, John (Head of Procurement and Vendor Relations, Globex Corporation, EMEA)"


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))


class _RecordingMailServer:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(bytes(envelope.content))
        return "250 Message accepted"


FOLDED = (
    b"From: Carmen Customer <carmen@globex-acme.example>\r\n"
    b'To: "Acme,\r\n Support" <support@acme.example>\r\n'
    b'Cc: "Doe, John (Head of Procurement and Vendor Relations,\r\n Globex Corporation, EMEA)"\r\n'
    b" <john.doe@globex-acme.example>,\r\n"
    b'\t"Roe,\r\n\tJane" <jane.roe@globex-acme.example>, =?utf-8?q?M=C3=BCller=2C?=\r\n J\xc3\xbcrgen'
    b" <juergen@globex-acme.example>\r\n"
    b"Subject: Export drops the last row\r\nMessage-ID: <folded-1@globex-acme.example>\r\n"
    b"Date: Tue, 03 Mar 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
)


def addresses_in(raw: bytes, header: str) -> list[tuple[str, str]]:
    """The mailboxes a standard reader finds in the header (compat32: the raw text, as any client sees it)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    pairs = email.utils.getaddresses(message.get_all(header, []))
    return [(str(email.header.make_header(email.header.decode_header(name))), address) for name, address in pairs]


def test_folded_quoted_names_stay_one_address_each_from_the_customers_mail_to_our_reply(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    result = ingest_raw(mailbox=mailbox, raw=FOLDED, via="imap")
    ticket = Ticket.objects.get(pk=result.ticket_id)
    people = [(c.name, c.primary_email) for c in ticket.cc_contacts.order_by("id")]
    assert people == [
        (LONG_NAME, "john.doe@globex-acme.example"),
        ("Roe, Jane", "jane.roe@globex-acme.example"),
        ("Müller, Jürgen", "juergen@globex-acme.example"),
    ]

    server = _RecordingMailServer()
    with sending_through(server), django_capture_on_commit_callbacks(execute=True):
        add_agent_reply(ticket=ticket, agent=acme.agent, body_text="Fixed, thanks.")
    [sent] = server.messages
    assert addresses_in(sent, "Cc") == people
    assert addresses_in(sent, "To") == [("Carmen Customer", "carmen@globex-acme.example")]


def test_every_address_header_we_write_reads_back_as_the_same_mailboxes() -> None:
    names = [LONG_NAME, 'Quote "Q" Person, Esq.', "Иванов, Иван Иванович из отдела закупок и логистики", "Plain"]
    entries = [(name, f"p{i}@x.example") for i, name in enumerate(names)]
    raw = build_mime(
        OutgoingMail(
            from_name=LONG_NAME,
            from_address="support@acme.example",
            reply_to="support@acme.example",
            to=entries[:2],
            cc=entries[2:],
            subject="s",
            message_id="<a@acme.example>",
            body_text="x",
        )
    ).as_bytes()
    assert addresses_in(raw, "To") == entries[:2]
    assert addresses_in(raw, "Cc") == entries[2:]
    assert addresses_in(raw, "From") == addresses_in(raw, "Reply-To") == [(LONG_NAME, "support@acme.example")]
    assert max(len(line) for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n")) <= 78
