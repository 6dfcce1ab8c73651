"""Delivery reports: who bounced, why, and which of our messages it was."""

from __future__ import annotations

from deskloop.channels.email.dsn import DeliveryReport, FailedRecipient, parse_dsn
from deskloop.channels.email.parsing import parse_message

from .email_corpus import require_corpus

SISIMAI = "sisimai-set-of-emails/maildir/bsd/"


def test_an_rfc3464_report_names_the_recipient_status_and_our_message() -> None:
    raw = (require_corpus() / SISIMAI / "rfc3464-01.eml").read_bytes()
    report = parse_dsn(raw)
    assert report.source == "dsn"
    assert report.original_message_id == "E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org"
    assert [(r.address, r.action, r.status) for r in report.recipients] == [
        ("userunknown@bouncehammer.jp", "failed", "5.1.1")
    ]
    assert report.recipients[0].is_permanent is True


def test_a_hand_made_dsn_with_a_delayed_and_a_failed_recipient() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.acme.example\nSubject: Undelivered\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\n"
        b"Content-Type: text/plain\n\nSorry.\n--B\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.acme.example\n\n"
        b"Final-Recipient: rfc822; Bob@Customer.Example\nAction: failed\nStatus: 5.1.1\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <bob@customer.example>: Recipient address rejected\n\n"
        b"Final-Recipient: rfc822; carol@customer.example\nAction: delayed\nStatus: 4.4.1\n\n"
        b"--B\nContent-Type: text/rfc822-headers\n\nFrom: support@acme.example\nMessage-ID: <dl.5.ab.cd@acme.example>\n"
        b"--B--\n"
    )
    assert parse_dsn(parse_message(raw)) == DeliveryReport(
        recipients=(
            FailedRecipient(
                "bob@customer.example",
                "failed",
                "5.1.1",
                "550 5.1.1 <bob@customer.example>: Recipient address rejected",
            ),
            FailedRecipient("carol@customer.example", "delayed", "4.4.1", ""),
        ),
        original_message_id="dl.5.ab.cd@acme.example",
        source="dsn",
    )


def test_a_qmail_text_bounce_without_dsn_part() -> None:
    report = parse_dsn((require_corpus() / SISIMAI / "lhost-qmail-16.eml").read_bytes())
    assert report.source == "text"
    assert [(r.address, r.status) for r in report.recipients] == [("userunknown@libsisimai.net", "5.1.1")]


def test_a_normal_message_has_no_report() -> None:
    assert parse_dsn(b"From: a@b.example\nSubject: hi\n\nhello\n") == DeliveryReport((), "", "")
