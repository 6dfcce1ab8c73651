"""Header injection: whatever a subject, a name or an address holds, the message we send has exactly the headers
we set, each value survives as text, and nothing but ``InvalidAddress`` (an address we refuse) is raised."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from django.core import mail
from hypothesis import given, settings
from hypothesis import strategies as st

from deskloop.channels.email.outbound_mime import (
    NAME_MAX,
    SUBJECT_MAX,
    InvalidAddress,
    OutgoingFile,
    OutgoingMail,
    build_mime,
    header_text,
)
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.messages import add_agent_reply

# Text with the characters injection needs: CR, LF, NUL, other controls, Unicode line separators, quotes,
# encoded-word look-alikes and non-ASCII.
HOSTILE = st.lists(
    st.one_of(
        st.sampled_from(["\r", "\n", "\r\n", "\x00", "\x0b", "\x1c", "\x85", "\u2028", '"', "\\", "<", ">", ",", ";"]),
        st.sampled_from(
            ["=?utf-8?q?", "=?utf-8?b?", "=0D=0A", "DQo", "?=", "Bcc: evil@example.com", ":", " ", "\t", "@"]
        ),
        st.characters(),
    ),
    max_size=120,
).map("".join)
EXPECTED_HEADERS = [
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "X-Loop",
    "MIME-Version",
    "Content-Type",
]


def parse_back(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(linesep="\r\n"), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@settings(max_examples=200, deadline=None)
@given(subject=HOSTILE, from_name=HOSTILE, to_name=HOSTILE, cc_name=HOSTILE, filename=HOSTILE, reference=HOSTILE)
def test_any_subject_and_names_give_exactly_our_headers(
    subject: str, from_name: str, to_name: str, cc_name: str, filename: str, reference: str
) -> None:
    message = build_mime(
        OutgoingMail(
            from_name=from_name,
            from_address="support@acme.example",
            to=[(to_name, "carmen@globex.example")],
            cc=[(cc_name, "dan@globex.example")],
            reply_to="support@acme.example",
            subject=subject,
            message_id="<dl.1.reply0123456789abcdef.0123456789abcdef01234567@acme.example>",
            in_reply_to="<carmen-1@globex.example>",
            references=["<carmen-1@globex.example>", reference],
            body_text="Hello",
            body_html="<p>Hello</p>",
            auto_submitted="auto-replied",
            loop_marker="deskloop; support@acme.example",
            attachments=[OutgoingFile(filename=filename, content_type="text/plain", content=b"x")],
        )
    )
    parsed = parse_back(message)

    assert list(parsed.keys()) == EXPECTED_HEADERS
    # RFC 2047 readers drop the whitespace between two adjacent encoded words, so a space next to one can vanish
    # in the round trip; the characters themselves must all arrive, and nothing may leave the Subject header.
    assert "".join(str(parsed["Subject"]).split()) == "".join(header_text(subject, max_length=SUBJECT_MAX).split())
    to = parsed["To"].addresses
    assert [a.addr_spec for a in to] == ["carmen@globex.example"]
    # Folding a long display name into encoded words may add a space where it splits the name; nothing else.
    assert "".join(to[0].display_name.split()) == "".join(header_text(to_name, max_length=NAME_MAX).split())
    assert [a.addr_spec for a in parsed["From"].addresses] == ["support@acme.example"]
    assert [a.addr_spec for a in parsed["Cc"].addresses] == ["dan@globex.example"]
    assert parsed["In-Reply-To"] == "<carmen-1@globex.example>"
    assert str(parsed["References"]).split()[0] == "<carmen-1@globex.example>"
    # The attachment's part carries only its own MIME headers.
    parts = list(parsed.iter_attachments())
    assert len(parts) == 1
    assert sorted(parts[0].keys()) == [
        "Content-Disposition",
        "Content-Transfer-Encoding",
        "Content-Type",
        "MIME-Version",
    ]


@settings(max_examples=200, deadline=None)
@given(address=HOSTILE, name=HOSTILE)
def test_any_address_is_used_as_is_or_refused_never_anything_else(address: str, name: str) -> None:
    try:
        message = build_mime(
            OutgoingMail(
                from_name=name,
                from_address=address,
                to=[(name, address), (name, "carmen@globex.example")],
                subject="Hello",
                message_id="<x1@acme.example>",
                body_text="Hello",
            )
        )
    except InvalidAddress:
        return
    parsed = parse_back(message)
    assert list(parsed.keys()) == [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
    ]
    assert len(parsed["From"].addresses) == 1
    assert parsed["To"].addresses[-1].addr_spec == "carmen@globex.example"
    assert len(parsed["To"].addresses) in (1, 2)


def test_an_injected_name_from_an_incoming_mail_cannot_add_headers_to_our_reply(
    acme: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    mailbox = create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    raw = (
        b"From: =?utf-8?q?Eve=0D=0ABcc=3A_spy=40evil=2Eexample=0D=0A?= <eve@evil.example>\r\n"
        b"To: support@acme.example\r\n"
        b"Subject: =?utf-8?q?Hi=0D=0ABcc=3A_spy=40evil=2Eexample?=\r\n"
        b"Message-ID: <eve-1@evil.example>\r\n"
        b"Content-Type: text/plain\r\n\r\nHello\r\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_raw(mailbox=mailbox, raw=raw, via="http")
    ticket = Ticket.objects.get(pk=result.ticket_id)
    with django_capture_on_commit_callbacks(execute=True):
        add_agent_reply(ticket=ticket, agent=acme.agent, body_text="Hello Eve")

    sent = [
        email.message_from_bytes(m.message().as_bytes(linesep="\r\n"), policy=email.policy.default) for m in mail.outbox
    ]
    assert [m["Bcc"] for m in sent] == [None, None]
    assert [sorted({*m.keys()} - {"Auto-Submitted", "X-Auto-Response-Suppress"}) for m in sent] == [
        sorted(
            [
                "From",
                "To",
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
    ] * 2
    assert [m.recipients() for m in mail.outbox] == [["eve@evil.example"], ["eve@evil.example"]]
    assert sent[1]["To"].addresses[0].display_name == "Eve Bcc: spy@evil.example"


@pytest.mark.parametrize(
    "address", ["a@b", "two@@at.example", "spa ce@x.example", "ünï@x.example", "<>", "x@y.example\r\nBcc: z@z.z"]
)
def test_addresses_we_refuse(address: str) -> None:
    with pytest.raises(InvalidAddress):
        build_mime(
            OutgoingMail(
                from_name="",
                from_address="support@acme.example",
                to=[("", address)],
                subject="s",
                message_id="<a@b.c>",
                body_text="x",
            )
        )
