"""Nothing raises out of the pipeline, whatever bytes or header values arrive (the real pipeline: parse_message,
classify, parse_dsn, strip_reply, threading, storing); what is stored is storable on PostgreSQL; header decoding,
address parsing and the threading lookup never raise; our Message-IDs verify and forgeries do not."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskloop.channels.email.addresses import format_address, is_plausible_address, parse_address_list
from deskloop.channels.email.conversation_threads import base_subject, find_ticket, make_message_id, verify_message_id
from deskloop.channels.email.header_text import decode_header_text
from deskloop.channels.email.models import InboundEmail, Mailbox
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.conftest import Cast
from deskloop.tickets.models import Message

HEADER_LINES = st.sampled_from(
    [
        b"From: =?utf-8?q?Z=C3=BC?= <z@example.org>\r\n",
        b"From: <>\r\n",
        b"Subject: =?x-unknown?b?////?=\r\n",
        b"Subject: Re: [ACME #1] hi\r\n",
        b"In-Reply-To: <dl.1.abcdefgh.000@x>\r\n",
        b"Content-Type: multipart/mixed; boundary=b\r\n",
        b"Content-Type: text/plain; charset=unknown-8bit\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Auto-Submitted: auto-replied\r\n",
        b"Message-ID: <same@x>\r\n",
        b"\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n",
    ]
)
MESSAGES = st.one_of(
    st.binary(max_size=400),
    st.tuples(st.lists(HEADER_LINES, max_size=6), st.binary(max_size=200)).map(
        lambda parts: b"".join(parts[0]) + b"\r\n" + parts[1]
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=MESSAGES)
def test_ingest_raw_never_raises_and_always_stores(acme: Cast, raw: bytes) -> None:
    mailbox, _created = Mailbox.objects.get_or_create(workspace=acme.workspace, address="support@acme.example")
    result = ingest_raw(mailbox=mailbox, raw=raw, via="smtp")
    stored = InboundEmail.objects.get(pk=result.inbound_id)
    assert stored.state in ("processed", "refused", "quarantined")
    assert stored.raw_sha256 == hashlib.sha256(raw).hexdigest()


@given(value=st.text(max_size=200))
def test_verify_message_id_never_raises_and_accepts_no_random_text(value: str) -> None:
    assert verify_message_id(value) is None
    assert isinstance(base_subject(value), str)


def test_our_message_ids_verify_and_tampering_breaks_them(acme: Cast) -> None:
    signed = make_message_id(acme.ticket, "acknowledgement", domain="acme.example")
    other_ticket = signed.replace(f"<dl.{acme.ticket.pk}.", f"<dl.{acme.ticket.pk + 1}.")
    assert (verify_message_id(signed), verify_message_id(other_ticket)) == (acme.ticket.pk, None)
    assert signed.startswith(f"<dl.{acme.ticket.pk}.acknowledgem")
    assert signed.endswith("@acme.example>")


# --- the real pipeline under arbitrary header values ---------------------------------------------------------------

PIPELINE_HEADERS = st.sampled_from(
    [
        "From",
        "To",
        "Cc",
        "Reply-To",
        "Sender",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Content-Disposition",
        "Authentication-Results",
        "Auto-Submitted",
        "Precedence",
        "X-Loop",
        "List-Id",
    ]
)
HEADER_TEXT = st.one_of(
    st.text(max_size=120),
    st.binary(max_size=120).map(lambda b: b.decode("latin-1")),
    st.sampled_from(
        [
            "Carmen <carmen@globex-acme.example>",
            "=?utf-8?b?w6k=?= <e@example.org>, =?x-unknown?q?=FF?= <f@example.org>",
            "support@acme.example",
            "<dl.1.abcdefgh.000000000000000000000000@acme.example>",
            "Re: [ACME #1] VAT",
            "multipart/alternative; boundary=zz",
            "text/html; charset=unknown-8bit",
            "mx.acme.example; dmarc=fail header.from=globex-acme.example",
            "attachment; filename*=utf-8''%E2%80%AE%00evil.exe",
            "deskloop",
            "bulk",
        ]
    ),
)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"--zz\r\nContent-Type: text/html\r\n\r\n<p onclick=x()>hi<img src=http://t.example/p.gif></p>\r\n--zz--\r\n",
            b"Thanks!\r\n\r\nOn Mon, Ann <ann@acme.example> wrote:\r\n> old\r\n",
            b"\xff\xfe\x00bad\r\n",
        ]
    ),
)


def _raw(headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = b"".join(
        f"{name}: {value}".encode("utf-8", "surrogateescape").replace(b"\n", b"\n ") + b"\r\n"
        for name, value in headers
    )
    return head + b"\r\n" + body


def _storable(text: str) -> bool:
    """PostgreSQL refuses NUL and lone surrogates in text; what we store must have neither."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(headers=st.lists(st.tuples(PIPELINE_HEADERS, HEADER_TEXT), max_size=10), body=BODIES)
def test_arbitrary_header_values_go_through_the_real_pipeline_without_raising_or_quarantine(
    acme: Cast, headers: list[tuple[str, str]], body: bytes
) -> None:
    mailbox, _created = Mailbox.objects.get_or_create(workspace=acme.workspace, address="support@acme.example")
    result = ingest_raw(mailbox=mailbox, raw=_raw(headers, body), via="smtp")
    # Refused on purpose or processed; quarantine is for failures (a bug or an outage), never for odd input.
    assert (result.state, result.detail if result.state == "quarantined" else "") in (
        ("processed", ""),
        ("refused", ""),
    )
    stored = InboundEmail.objects.get(pk=result.inbound_id)
    assert _storable(stored.subject)
    assert _storable(stored.sender)
    if result.state == "processed":
        message = Message.objects.get(pk=stored.message_id)
        assert all(_storable(value) for value in (message.body_text, message.body_html, str(message.channel_meta)))
        assert message.ticket.workspace_id == acme.workspace.pk


@given(value=HEADER_TEXT)
def test_decoded_header_text_is_always_storable_single_line_text(value: str) -> None:
    decoded = decode_header_text(value)
    assert _storable(decoded)
    assert "\n" not in decoded
    assert "\r" not in decoded


@given(value=HEADER_TEXT)
def test_address_parsing_never_raises_and_gives_storable_plausible_addresses(value: str) -> None:
    for address in parse_address_list(value, decode=decode_header_text):
        assert is_plausible_address(address.address)
        assert _storable(address.name)
        assert _storable(address.address)
        assert "\n" not in format_address(address)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    in_reply_to=HEADER_TEXT,
    references=st.lists(HEADER_TEXT, max_size=5),
    subject=HEADER_TEXT,
)
def test_threading_lookup_never_raises_and_stays_in_the_workspace(
    acme: Cast, umbrella: Cast, in_reply_to: str, references: list[str], subject: str
) -> None:
    mailbox, _created = Mailbox.objects.get_or_create(
        workspace=acme.workspace, address="support@acme.example", defaults={"subject_threading_days": 30}
    )
    match = find_ticket(
        mailbox=mailbox,
        workspace=acme.workspace,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        requester_id=acme.customer.pk,
    )
    assert match is None or match.ticket.workspace_id == acme.workspace.pk
    # The other workspace's ticket is never found, whatever the headers say.
    assert match is None or match.ticket.pk != umbrella.ticket.pk
