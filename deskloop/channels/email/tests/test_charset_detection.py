"""Mail whose 8-bit text is undeclared or mislabelled reads as the customer wrote it: the detector
(charset-normalizer) picks the charset before the Windows-1252 fallback, and a part labelled us-ascii never
turns its accented letters into U+FFFD."""

from __future__ import annotations

import pytest

from deskloop.channels.email.charsets import DETECT_SAMPLE_BYTES, decode_bytes
from deskloop.channels.email.models import Mailbox
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.tickets.models import Message

RUSSIAN = "Здравствуйте! У нас не работает выгрузка отчёта в CSV, последняя строка пропадает.\n"
THAI = "สวัสดีครับ การส่งออกรายงานเป็น CSV ไม่ทำงาน แถวสุดท้ายหายไป ช่วยตรวจสอบด้วยครับ\n"


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))


def customer_mail(content_type: str, body: bytes, n: int) -> bytes:
    """A plain mail as a badly configured client sends it: 8-bit body, charset missing or wrong."""
    return (
        b"From: Customer <customer@example.net>\r\nTo: support@acme.example\r\n"
        + f"Subject: Export {n}\r\nMessage-ID: <export-{n}@example.net>\r\n".encode()
        + b"Date: Tue, 03 Mar 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".encode()
        + body.replace(b"\n", b"\r\n")
    )


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/plain", RUSSIAN.encode("koi8_r"), RUSSIAN),
        ("text/plain; charset=us-ascii", RUSSIAN.encode("koi8_r"), RUSSIAN),
        ("text/plain", THAI.encode("tis_620"), THAI),
        ('text/plain; charset="x-unknown"', THAI.encode("cp874"), THAI),
        ("text/plain; charset=us-ascii", "Grüße aus Köln — Jürgen\n".encode(), "Grüße aus Köln — Jürgen\n"),
        ("text/plain; charset=us-ascii", "Danke, Jürgen\n".encode("cp1252"), "Danke, Jürgen\n"),
        ("text/plain", "Grüße aus Köln, déjà vu, Jürgen Müller, Straße 5\n".encode("cp1252"), None),
    ],
    ids=["koi8-r-undeclared", "koi8-r-as-us-ascii", "tis-620-undeclared", "windows-874-as-junk", "utf-8-as-us-ascii",
         "windows-1252-as-us-ascii", "windows-1252-undeclared"],
)  # fmt: skip
def test_the_ticket_shows_the_text_the_customer_wrote(
    acme: Cast, mailbox: Mailbox, content_type: str, body: bytes, expected: str | None
) -> None:
    result = ingest_raw(mailbox=mailbox, raw=customer_mail(content_type, body, 1), via="imap")
    message = Message.objects.get(ticket_id=result.ticket_id)
    wanted = expected if expected is not None else "Grüße aus Köln, déjà vu, Jürgen Müller, Straße 5\n"
    assert (result.outcome, message.body_text) == ("new_ticket", wanted)


def test_the_detector_sees_a_bounded_sample_of_a_huge_body() -> None:
    # Megabytes of KOI8-R: the guess is made on the first DETECT_SAMPLE_BYTES, the whole text decoded with it.
    huge = RUSSIAN.encode("koi8_r") * (4 * DETECT_SAMPLE_BYTES // len(RUSSIAN.encode("koi8_r")))
    assert decode_bytes(huge, "") == (RUSSIAN * (len(huge) // len(RUSSIAN.encode("koi8_r"))), "koi8_r")
