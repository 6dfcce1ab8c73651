"""Noise classification: each rule on a small hand-made message, then the real bounce corpus."""

from __future__ import annotations

import pytest

from deskloop.channels.email.noise import Verdict, classify
from deskloop.channels.email.parsing import parse_message

from .email_corpus import require_corpus


def _mail(headers: str, body: str = "Hello\n", to: str = "support@acme.example") -> Verdict:
    raw = f"From: Ann <ann@customer.example>\nTo: {to}\nMessage-ID: <1@c>\n{headers}\n\n{body}"
    return classify(
        parse_message(raw.encode()), loop_marker="support@acme.example", own_addresses=["support@acme.example"]
    )


def test_a_person_writing_is_normal() -> None:
    assert _mail("Subject: My invoice is wrong") == Verdict("normal", "")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("Subject: Hi\nAuto-Submitted: auto-replied", Verdict("auto_reply", "Auto-Submitted: auto-replied")),
        ("Subject: Hi\nAuto-Submitted: no", Verdict("normal", "")),
        ("Subject: Hi\nX-Autoreply: yes", Verdict("auto_reply", "X-Autoreply header")),
        ("Subject: Hi\nX-Autorespond: yes", Verdict("auto_reply", "X-Autorespond header")),
        ("Subject: Hi\nPrecedence: bulk", Verdict("list", "Precedence: bulk")),
        ("Subject: Hi\nPrecedence: junk", Verdict("list", "Precedence: junk")),
        ("Subject: Hi\nList-Id: <news.customer.example>", Verdict("list", "List-Id header")),
        # A CRM or helpdesk widget adds List-Unsubscribe to one-to-one mail: written to the mailbox, it is a person.
        ("Subject: Hi\nList-Unsubscribe: <mailto:u@c>", Verdict("normal", "")),
        (
            "Subject: Hi\nList-Unsubscribe: <https://u.example/1>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click",
            Verdict("list", "List-Unsubscribe with one-click unsubscribe (bulk mail)"),
        ),
        ("Subject: Hi\nPrecedence: list", Verdict("list", "Precedence: list")),
        ("Subject: Re: [ACME #7]\nX-Loop: support@acme.example", Verdict("loop", "X-Loop: support@acme.example")),
        ("Subject: Hi\nX-Loop: other-helpdesk", Verdict("normal", "")),
        ("Subject: Out of Office: Re: [ACME #7]", Verdict("auto_reply", "automatic-reply subject")),
        ("Subject: Automatic reply: invoice", Verdict("auto_reply", "automatic-reply subject")),
        ("Subject: Abwesenheitsnotiz: Rechnung", Verdict("auto_reply", "automatic-reply subject")),
        ("Subject: Respuesta automática: factura", Verdict("auto_reply", "automatic-reply subject")),
        ("Subject: Réponse automatique : facture", Verdict("auto_reply", "automatic-reply subject")),
        ("Subject: Автоответ: счёт", Verdict("auto_reply", "automatic-reply subject")),
        ("Subject: Thanks for your automatic reply, but I need a human", Verdict("normal", "")),
        (
            "Subject: We received your message\nX-Auto-Response-Suppress: All",
            Verdict("auto_reply", "X-Auto-Response-Suppress with an acknowledgement subject"),
        ),
        ("Subject: My question\nX-Auto-Response-Suppress: All", Verdict("normal", "")),
    ],
)
def test_header_and_subject_rules(headers: str, expected: Verdict) -> None:
    assert _mail(headers) == expected


def test_list_unsubscribe_on_mail_not_written_to_a_mailbox_is_bulk() -> None:
    headers = "Subject: Our spring sale\nList-Unsubscribe: <mailto:u@c>"
    assert _mail(headers, to="everyone@news.example") == Verdict(
        "list", "List-Unsubscribe on mail not addressed to this mailbox"
    )
    assert _mail(headers, to="Ann <ann@customer.example>, Support <SUPPORT@acme.example>") == Verdict("normal", "")


def test_mail_system_senders_and_plain_text_bounces() -> None:
    raw = b"From: MAILER-DAEMON@mx.customer.example\nSubject: Undelivered Mail\n\nsorry\n"
    assert classify(parse_message(raw)) == Verdict("bounce", "from a mail system (mailer-daemon)")
    text_bounce = (
        b"From: Mail Delivery System <mx@customer.example>\nReturn-Path: <>\nSubject: Delivery failure\n\n"
        b"Delivery to the following recipient failed permanently:\n\n  bob@customer.example\n"
    )
    assert classify(parse_message(text_bounce)) == Verdict("bounce", "bounce subject from the null sender")
    quoted = b"From: Ann <ann@customer.example>\nSubject: why?\n\nI got 'user unknown' when I wrote to Bob.\n"
    assert classify(parse_message(quoted)) == Verdict("normal", "")


def test_our_own_address_as_sender_is_a_loop() -> None:
    raw = b"From: Support <SUPPORT@acme.example>\nSubject: Re: [ACME #1]\n\nhi\n"
    assert classify(parse_message(raw), own_addresses=["support@acme.example"]) == Verdict(
        "loop", "sent from our own address"
    )


def test_all_629_sisimai_messages_are_bounces_or_true_auto_replies() -> None:
    folder = require_corpus() / "sisimai-set-of-emails" / "maildir" / "bsd"
    verdicts = {path.name: classify(parse_message(path.read_bytes())) for path in sorted(folder.glob("*.eml"))}
    assert len(verdicts) == 629
    auto_replies = sorted(name for name, verdict in verdicts.items() if verdict.kind == "auto_reply")
    # Read by hand: six RFC 3834 vacation replies and Apple Mail's automatic unsubscribe request.
    assert auto_replies == [
        "arf-26.eml",
        "rfc3834-01.eml",
        "rfc3834-02.eml",
        "rfc3834-03.eml",
        "rfc3834-04.eml",
        "rfc3834-05.eml",
        "rfc3834-06.eml",
    ]
    assert sum(verdict.kind == "bounce" for verdict in verdicts.values()) == 622


def test_the_bounce_text_lookahead_names_the_first_letter_of_every_alternative() -> None:
    """The lookahead that speeds up the bounce-text search must let every alternative through."""
    import importlib
    import re

    parser = importlib.import_module("re._parser")  # the stdlib's own reading of the pattern

    from deskloop.channels.email.noise import _BOUNCE_BODY, _BOUNCE_BODY_ALTERNATIVES, _BOUNCE_BODY_STARTS

    ((operation, (_none, branches)),) = parser.parse(_BOUNCE_BODY_ALTERNATIVES, re.IGNORECASE).data
    assert str(operation) == "BRANCH"
    firsts = {chr(branch[0][1]).lower() for branch in branches if str(branch[0][0]) == "LITERAL"}
    assert (len(firsts), "".join(sorted(firsts))) == (17, _BOUNCE_BODY_STARTS)
    assert all(str(branch[0][0]) == "LITERAL" for branch in branches)
    unguarded = re.compile(_BOUNCE_BODY_ALTERNATIVES, re.IGNORECASE)
    text = "Hello,\nYOUR MESSAGE COULD NOT BE DELIVERED to Ann.\nStatus: 550 5.1.1 User Unknown\n"
    assert (
        [m.span() for m in _BOUNCE_BODY.finditer(text)]
        == [m.span() for m in unguarded.finditer(text)]
        == [
            (7, 42),
            (59, 68),
            (69, 81),
        ]
    )
