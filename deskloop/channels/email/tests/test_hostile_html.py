"""HTML built to make the parser work forever (issue #9): 100,000 nested elements arrive by email, become a ticket
with the message's text and a note saying why the formatting is not shown, and never tie up the worker."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from deskloop.channels.email.models import Mailbox
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import Message

NESTED_DIVS = "<div>" * 100_000 + "Where is my invoice &amp; receipt?" + "</div>" * 100_000


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))


def hostile_mail(*, text_part: str | None, html: str = NESTED_DIVS, message_id: str = "nested@globex.example") -> bytes:
    message = EmailMessage()
    message["From"] = "Mallory <mallory@globex.example>"
    message["To"] = "support@acme.example"
    message["Subject"] = "Nested"
    message["Message-ID"] = f"<{message_id}>"
    if text_part is None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(text_part)
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def test_deeply_nested_html_becomes_a_ticket_showing_the_text_part_with_a_note(acme: Cast, mailbox: Mailbox) -> None:
    raw = hostile_mail(text_part="Where is my invoice? (text part)")
    assert len(raw) > 1_000_000  # the quoted-printable HTML part of 1.1 MB

    result = ingest_raw(mailbox=mailbox, raw=raw, via="smtp")

    assert result.state == "processed"
    message = Message.objects.get(ticket_id=result.ticket_id)
    assert message.html_fallback_reason == "too_deep"
    assert message.body_text == "Where is my invoice? (text part)\n"
    assert message.body_html == "<p>Where is my invoice? (text part)</p>"
    page = signed_in_client(acme.agent).get(f"/tickets/{result.ticket_number}/")
    assert page.status_code == 200
    assert (
        '<p class="banner banner-warning" role="note" data-html-fallback="too_deep">The formatted version was nested '
        "too deeply to show safely. It is shown as plain text.</p>"
    ) in page.text


def test_html_only_mail_too_deep_to_parse_keeps_the_text_read_from_its_html(acme: Cast, mailbox: Mailbox) -> None:
    result = ingest_raw(mailbox=mailbox, raw=hostile_mail(text_part=None), via="smtp")

    message = Message.objects.get(ticket_id=result.ticket_id)
    assert message.html_fallback_reason == "too_deep"
    assert message.body_text == "Where is my invoice & receipt?"
    assert message.body_html == "<p>Where is my invoice &amp; receipt?</p>"


def test_ordinary_html_mail_is_kept_formatted_without_a_note(acme: Cast, mailbox: Mailbox) -> None:
    html = "<div>" * 40 + "<p>Hello <b>there</b></p>" + "</div>" * 40
    result = ingest_raw(mailbox=mailbox, raw=hostile_mail(text_part="Hello there", html=html), via="smtp")

    message = Message.objects.get(ticket_id=result.ticket_id)
    assert message.html_fallback_reason == ""
    assert message.body_html == html + "\n"  # the line end of the MIME part
    page = signed_in_client(acme.agent).get(f"/tickets/{result.ticket_number}/")
    assert "data-html-fallback" not in page.text
