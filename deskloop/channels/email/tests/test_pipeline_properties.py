"""Nothing raises out of the pipeline, whatever bytes arrive; our Message-IDs verify and forgeries do not."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskloop.channels.email.models import InboundEmail, Mailbox
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.threading import base_subject, make_message_id, verify_message_id
from deskloop.conftest import Cast

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
