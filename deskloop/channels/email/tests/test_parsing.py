"""parse_message on hand-made messages that each break one rule, and on random bytes: it never raises."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from deskloop.channels.email.addresses import Address
from deskloop.channels.email.header_text import AuthenticationResults, decode_header_text
from deskloop.channels.email.parsing import SYNTHETIC_ID_DOMAIN, parse_message

from .email_corpus import require_corpus


def test_a_plain_message_gives_its_typed_picture() -> None:
    parsed = parse_message(
        b"From: =?utf-8?q?Ren=C3=A9e?= <Renee@Customer.Example>\r\n"
        b"To: support@acme.example, Bob <bob@acme.example>\r\n"
        b"Cc: carol@customer.example\r\n"
        b"Reply-To: billing@customer.example\r\n"
        b"Subject: =?utf-8?b?w4dh?=\r\n =?utf-8?b?IHZhPw==?=   again\r\n"
        b"Date: Mon, 02 Jun 2025 10:00:00 +0200\r\n"
        b"Message-ID: <abc@customer.example>\r\n"
        b"In-Reply-To: <dl.1.x.y@acme.example>\r\n"
        b"References: <one@x.example> <dl.1.x.y@acme.example>\r\n"
        b"Authentication-Results: mx.acme.example; spf=pass smtp.mailfrom=customer.example;"
        b" dkim=pass header.d=customer.example; dmarc=fail (p=reject) header.from=customer.example\r\n"
        b"\r\nHello!\r\n"
    )
    assert parsed.message_id == "abc@customer.example"
    assert parsed.message_id_synthesized is False
    assert parsed.in_reply_to == "dl.1.x.y@acme.example"
    assert parsed.references == ("one@x.example", "dl.1.x.y@acme.example")
    assert parsed.subject == "Ça va? again"
    assert parsed.from_ == Address(name="Renée", address="Renee@Customer.Example")
    assert parsed.from_.normalized == "renee@customer.example"
    assert parsed.to == (Address("", "support@acme.example"), Address("Bob", "bob@acme.example"))
    assert parsed.cc == (Address("", "carol@customer.example"),)
    assert parsed.reply_to == (Address("", "billing@customer.example"),)
    assert parsed.date == dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
    assert parsed.authentication == AuthenticationResults(
        authserv_id="mx.acme.example", spf="pass", dkim="pass", dmarc="fail", header_from="customer.example"
    )
    assert parsed.text == "Hello!\n"
    assert parsed.defects == ()


def test_junk_charset_labels_fall_back_and_say_so() -> None:
    parsed = parse_message(
        b"From: a@b.example\nSubject: x\nMessage-ID: <1@b.example>\n"
        b"Content-Type: text/plain; charset=X-UNKNOWN\n\nCaf\xc3\xa9 cr\xe8me\n"
    )
    # Not UTF-8 as a whole (\xe8 alone), so Windows-1252 decodes it; the decision is recorded.
    assert parsed.text == "CafÃ© crème\n"
    assert [(c.declared, c.used, c.fell_back) for c in parsed.charsets] == [("X-UNKNOWN", "cp1252", True)]


def test_charset_aliases_decode_what_python_does_not_know() -> None:
    big5 = "客服".encode("big5")
    parsed = parse_message(
        b"From: a@b.example\nMessage-ID: <1@b.example>\nSubject: =?CHINESEBIG5?B?"
        + __import__("base64").b64encode(big5)
        + b"?=\nContent-Type: text/plain; charset=ks_c_5601-1987\n\n"
        + "안녕하세요".encode("cp949")
    )
    assert parsed.subject == "客服"
    assert parsed.text == "안녕하세요"
    assert parsed.charsets == ()


def test_undeclared_8bit_headers_and_bodies_are_read_as_utf8_then_windows_1252() -> None:
    parsed = parse_message(b"From: J\xfcrgen <j@b.example>\nSubject: Gr\xc3\xbc\xc3\x9fe\n\nna\xefve\n")
    assert parsed.subject == "Grüße"
    assert parsed.from_ == Address("Jürgen", "j@b.example")
    assert parsed.text == "naïve\n"


def test_utf7_and_iso_2022_jp_bodies() -> None:
    parsed = parse_message(
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=X\n\n--X\n"
        b"Content-Type: text/plain; charset=unicode-1-1-utf-7\n\nHi +AOk-\n--X\n"
        b"Content-Type: text/plain; charset=iso-2022-jp\n\n" + "こんにちは".encode("iso2022_jp") + b"\n--X--\n"
    )
    assert parsed.text == "Hi é\nこんにちは"


def test_missing_message_id_is_synthesized_stably_and_flagged() -> None:
    raw = b"From: a@b.example\nSubject: no id\n\nbody\n"
    first, second = parse_message(raw), parse_message(raw)
    assert first.message_id == second.message_id
    assert first.message_id.endswith("@" + SYNTHETIC_ID_DOMAIN)
    assert first.message_id_synthesized is True
    assert "no Message-ID; synthesized from the raw bytes" in first.defects


def test_html_only_mail_gets_readable_text_and_sanitized_html() -> None:
    parsed = parse_message(
        b"From: a@b.example\nMessage-ID: <1@b>\nContent-Type: text/html; charset=utf-8\n\n"
        b'<p>Hello <b>there</b></p><script>alert(1)</script><img src="https://t.example/p.gif">'
    )
    assert parsed.text == "Hello there"
    assert parsed.text_from_html is True
    assert "<script" not in parsed.sanitized_html
    assert 'data-remote-src="https://t.example/p.gif"' in parsed.sanitized_html


def test_attachments_inline_images_and_nested_messages() -> None:
    parsed = parse_message(
        b"From: a@b.example\nMessage-ID: <1@b>\nContent-Type: multipart/mixed; boundary=OUT\n\n--OUT\n"
        b"Content-Type: multipart/related; boundary=REL\n\n--REL\nContent-Type: text/html\n\n"
        b'<img src="cid:logo@b">\n--REL\nContent-Type: image/png\nContent-ID: <logo@b>\n'
        b"Content-Transfer-Encoding: base64\n\niVBORw==\n--REL--\n--OUT\n"
        b"Content-Type: application/pdf\nContent-Disposition: attachment;\n"
        b" filename*=utf-8''Re%C3%A7u%20n%C2%B01.pdf\n\n%PDF\n--OUT\n"
        b'Content-Type: text/plain; name="=?utf-8?q?R=C3=A9sum=C3=A9.txt?="\nContent-Disposition: attachment\n\nCV\n--OUT\n'
        b"Content-Type: message/rfc822\n\nFrom: c@d.example\nSubject: Inner note\nMessage-ID: <in@d>\n\nInner body\n--OUT--\n"
    )
    assert [(a.filename, a.content_type, a.is_inline) for a in parsed.attachments] == [
        ("attachment-1.png", "image/png", True),
        ("Reçu n°1.pdf", "application/pdf", False),
        ("Résumé.txt", "text/plain", False),
        ("Inner note.eml", "message/rfc822", False),
    ]
    assert parsed.inline_images["logo@b"].content == b"\x89PNG"
    nested = parsed.nested_messages[0]
    assert (nested.subject, nested.message_id, nested.text) == ("Inner note", "in@d", "Inner body")


def test_a_real_corpus_message_with_a_junk_label_and_nested_parts() -> None:
    corpus = require_corpus()
    parsed = parse_message((corpus / "mikel-mail/spec/fixtures/emails/plain_emails/raw_email10.eml").read_bytes())
    assert parsed.text.startswith("Test test. Hi. Waving. m")
    assert [(c.declared, c.used) for c in parsed.charsets] == [("X-UNKNOWN", "utf-8")]


def test_header_decoding_joins_words_split_inside_a_character() -> None:
    # "é" is C3 A9 in UTF-8; a sender split it across two encoded words.
    assert decode_header_text("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=") == "café"
    assert decode_header_text("=?bogus-charset?q?caf=E9?=") == "café"
    assert decode_header_text("=?utf-8?b?broken!!base64?=") == decode_header_text("=?utf-8?b?broken!!base64?=")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_parse_message_never_raises_on_random_bytes(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert parsed.message_id
    assert isinstance(parsed.text, str)


HEADER_NAMES = st.sampled_from(
    [
        "From",
        "To",
        "Cc",
        "Subject",
        "Date",
        "Message-ID",
        "References",
        "Content-Type",
        "Content-Disposition",
        "Content-Transfer-Encoding",
        "Authentication-Results",
        "Reply-To",
        "In-Reply-To",
    ]
)
HEADER_VALUES = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.sampled_from(
        [
            "=?utf-8?q?",
            "=?x-unknown?b?////?=",
            "multipart/mixed; boundary=",
            "text/plain; charset=DEFAULT",
            "base64",
            "quoted-printable",
            "<<<>>>",
            '"unterminated',
            "attachment; filename*0*=utf-8''%FF",
            "multipart/report; report-type=delivery-status",
            "message/rfc822",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12), st.binary(max_size=500))
def test_parse_message_never_raises_on_mutated_headers(headers: list[tuple[str, str]], body: bytes) -> None:
    raw = b"".join(
        f"{name}: {value}".encode("utf-8", "surrogateescape").replace(b"\n", b"\n ") + b"\r\n"
        for name, value in headers
    )
    parsed = parse_message(raw + b"\r\n" + body)
    assert isinstance(parsed.subject, str)
    assert "\n" not in parsed.subject
