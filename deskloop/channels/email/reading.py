"""How a parsed email reads on a ticket: its full text, what the ticket page shows first, its attachments."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from deskloop.tickets.attachments import IncomingFile, safe_filename

from .parsing import ParsedEmail
from .quotes import DEFAULT_MARKER, strip_reply


@dataclass(frozen=True)
class MailReading:
    """What the pipeline read from one message, whatever became of it (a refused message has one too)."""

    subject: str
    sender: str  # the From address as written ("" when the mail has none)
    full_text: str  # the whole text body; stored as Message.body_text
    stripped_text: str  # what the ticket page shows first (== full_text when nothing was hidden)
    attachment_names: tuple[str, ...]  # as stored (safe file names), in MIME order
    dmarc_failed: bool

    @property
    def quote_hidden(self) -> bool:
        return self.stripped_text != self.full_text


NO_READING = MailReading("", "", "", "", (), False)


@dataclass(frozen=True)
class Mail:
    """One parsed message as it becomes a ticket message."""

    parsed: ParsedEmail
    reading: MailReading
    html: str  # the HTML body as received (sanitized by the message services when stored)
    attachments: list[IncomingFile]
    too_large: list[str]  # names of the attachments left out for their size (the raw email keeps them)


def read_mail(parsed: ParsedEmail, *, shown: bool = True) -> Mail:
    """``shown``: work out what the ticket page shows first. Refused noise is never shown, so it is not
    quote-stripped (its stripped_text is its full text): stripping costs more CPU than parsing, and bounces are long."""
    # NUL bytes carry no meaning in mail text and PostgreSQL refuses them in text columns.
    text = parsed.text.replace("\x00", "")
    html = parsed.html.replace("\x00", "")
    full_text = text if text.strip() else ""  # whitespace alone is no text (a placeholder is stored)
    stripped_text = full_text
    if shown:
        stripped = strip_reply(text, html or None, marker=DEFAULT_MARKER)
        hidden = bool(stripped.quoted_text.strip() or stripped.signature.strip())
        # Show the stripped reply only when stripping hid something and left something: a mail that is all quote
        # (a forward without a word) is shown whole.
        if hidden and stripped.visible_text.strip():
            stripped_text = stripped.visible_text
    limit = settings.DESKLOOP_ATTACHMENT_MAX_BYTES
    attachments: list[IncomingFile] = []
    too_large: list[str] = []
    for part in parsed.attachments:
        name = safe_filename(part.filename)
        if part.size > limit:
            too_large.append(name)
            continue
        attachments.append(
            IncomingFile(
                filename=name, content=part.content, content_type=part.content_type, content_id=part.content_id
            )
        )
    reading = MailReading(
        subject=parsed.subject,
        sender=parsed.from_.address if parsed.from_ is not None else "",
        full_text=full_text,
        stripped_text=stripped_text,
        attachment_names=tuple(a.filename for a in attachments),
        dmarc_failed=_dmarc_failed(parsed),
    )
    return Mail(parsed=parsed, reading=reading, html=html, attachments=attachments, too_large=too_large)


def _dmarc_failed(parsed: ParsedEmail) -> bool:
    """DMARC failed for the domain the From header claims (a verdict about another domain says nothing)."""
    auth = parsed.authentication
    if auth.dmarc != "fail":
        return False
    claimed = parsed.from_.domain if parsed.from_ is not None else ""
    checked = auth.header_from.strip().lower().rstrip(".")
    return not checked or not claimed or claimed == checked or claimed.endswith("." + checked)
