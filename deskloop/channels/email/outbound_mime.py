"""Building the MIME message of an email we send. Pure: no database, so it can be tested on any input.

Header injection is stopped here, in one place: every header value that may carry anything from outside (a
subject, a display name, an address, a Message-ID we are answering) goes through ``header_text`` or
``mailbox_header`` before it reaches the message. They drop CR, LF and other control characters and leave the
encoding to the stdlib's header registry under ``policy.SMTP``, which writes RFC 2047 encoded words for
non-ASCII text and folds long lines with CRLF + space. Addresses must pass ``addresses.is_plausible_address``
and be ASCII (an internationalized domain is converted to IDNA); anything else is left out rather than guessed.
"""

from __future__ import annotations

import contextlib
import email.policy
import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from django.core.mail import EmailMessage as DjangoEmailMessage

from .addresses import is_plausible_address, sanitize_header_value

SUBJECT_MAX = 250
NAME_MAX = 120
# References are capped: a long conversation would otherwise grow the header without bound.
REFERENCES_MAX = 20
_MESSAGE_ID = re.compile(r"^<?([^<>\s@]{1,240}@[^<>\s@]{1,250})>?$")


class InvalidAddress(ValueError):
    """An address we will not write into a header."""


_SURROGATES = re.compile(r"[\ud800-\udfff]")
# U+2060 WORD JOINER: invisible, and being non-ASCII it makes the serializer encode the word it is in.
_ENCODED_WORD_START = "=\u2060?"


def plain_text(value: str) -> str:
    """Text that can be encoded: lone surrogates (from undecodable bytes upstream) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", str(value or ""))


def header_text(value: str, *, max_length: int = 900) -> str:
    """The one sanitizer for header text (Subject, display names, file names): no CR/LF or control characters,
    whitespace collapsed, bounded length. Encoding happens when the message is serialized (policy.SMTP).

    Literal "=?" is broken with an invisible word joiner: the stdlib writes ASCII text as it is, so a subject
    that merely contains "=?utf-8?q?...?=" would otherwise be decoded by the reader as an encoded word (and
    could smuggle text the sanitizer never saw, such as an encoded CR LF)."""
    text = sanitize_header_value(plain_text(value), max_length=max_length)
    return text.replace("=?", _ENCODED_WORD_START)


def ascii_address(address: str) -> str:
    """``address`` ready for a header and an SMTP envelope, or InvalidAddress. The domain of an internationalized
    address is IDNA-encoded; a non-ASCII local part is refused (it needs SMTPUTF8, which we do not assume)."""
    value = header_text(address, max_length=254).strip().strip("<>").strip()
    if not is_plausible_address(value):
        raise InvalidAddress(value)
    local, _sep, domain = value.rpartition("@")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidAddress(value) from exc
    if not local.isascii():
        raise InvalidAddress(value)
    value = f"{local}@{domain}"
    try:
        # The header registry is stricter than our plausibility check (quoted local parts, odd dots).
        Address(addr_spec=value)
    except (ValueError, IndexError, TypeError) as exc:
        raise InvalidAddress(value) from exc
    return value


def mailbox_header(name: str, address: str) -> Address:
    """A From/To/Cc/Reply-To entry: sanitized display name, checked address."""
    return Address(display_name=header_text(name, max_length=NAME_MAX), addr_spec=ascii_address(address))


def message_id_header(value: str) -> str:
    """A Message-ID for In-Reply-To/References, with angle brackets, or "" when it is not a usable id."""
    match = _MESSAGE_ID.match(header_text(value, max_length=500).strip())
    if match is None:
        return ""
    inner = match.group(1)
    if not inner.isascii() or any(ch in inner for ch in '"\\,;()[]'):
        return ""
    return f"<{inner}>"


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingMail:
    """Everything that makes one message; every value may come from outside and is sanitized when built."""

    from_name: str
    from_address: str
    to: Sequence[tuple[str, str]]
    subject: str
    message_id: str
    body_text: str
    body_html: str = ""
    cc: Sequence[tuple[str, str]] = ()
    reply_to: str = ""
    in_reply_to: str = ""
    references: Sequence[str] = ()
    auto_submitted: str = ""
    loop_marker: str = ""
    date: float | None = None  # a timestamp; now when None
    attachments: Sequence[OutgoingFile] = field(default_factory=tuple)


# Each mailbox of an address header on lines of its own, short enough that the serializer never refolds them.
_ADDRESS_LINE = 60


def address_header_value(entries: Sequence[Address]) -> str:
    """An address header's value, folded by us: one mailbox per line, a display name quoted when it is short and
    ASCII, RFC 2047-encoded (which leaves no comma or quote to misread) otherwise.

    The stdlib's folder drops the quotes of a display name it has to break ("Doe, John" came out as Doe, John,
    which every reader takes for two addresses), so address headers are not left to it: ``set_raw`` keeps lines
    that fit as they are."""
    mailboxes: list[str] = []
    for entry in entries:
        name, addr_spec = entry.display_name, entry.addr_spec
        quoted = email.utils.formataddr((name, addr_spec)) if name else addr_spec
        if not name or (name.isascii() and len(quoted) <= _ADDRESS_LINE):
            mailboxes.append(quoted)
            continue
        encoded = "\r\n ".join(_encoded_words(name))
        last_line = encoded.rpartition("\n")[2]
        joint = " " if len(last_line) + len(addr_spec) + 3 <= _ADDRESS_LINE else "\r\n "
        mailboxes.append(f"{encoded}{joint}<{addr_spec}>")
    return ",\r\n ".join(mailboxes)


def _encoded_words(name: str) -> list[str]:
    """``name`` as RFC 2047 encoded words of at most 36 UTF-8 bytes each (under 64 characters encoded), broken
    after a space where one is near: a reader that puts a space between adjacent encoded words (RFC 2047 says
    not to; Python's own parser does) still reads the words whole."""
    chunks: list[str] = []
    chunk = ""
    for ch in name:
        while chunk and len((chunk + ch).encode("utf-8")) > 36:
            cut = chunk.rfind(" ") + 1
            if 0 < cut < len(chunk):
                chunks.append(chunk[:cut])
                chunk = chunk[cut:]
            else:
                chunks.append(chunk)
                chunk = ""
        chunk += ch
    chunks.append(chunk)
    return [Header(piece, "utf-8").encode(maxlinelen=998) for piece in chunks if piece]


def recipient_headers(entries: Sequence[tuple[str, str]]) -> list[Address]:
    """The entries that can be written, in order, without duplicates; invalid ones are dropped."""
    found: list[Address] = []
    seen: set[str] = set()
    for name, address in entries:
        try:
            entry = mailbox_header(name, address)
        except InvalidAddress:
            continue
        if entry.addr_spec.lower() in seen:
            continue
        seen.add(entry.addr_spec.lower())
        found.append(entry)
    return found


class SmtpMessage(EmailMessage):
    """A stdlib message that also takes the ``linesep`` argument Django's SMTP backend passes to ``as_bytes``."""

    def as_bytes(self, unixfrom: bool = False, policy: Any = None, linesep: str | None = None) -> bytes:
        chosen = policy or self.policy
        if linesep is not None:
            chosen = chosen.clone(linesep=linesep)
        return super().as_bytes(unixfrom=unixfrom, policy=chosen)


def build_mime(mail: OutgoingMail) -> SmtpMessage:
    """The message to send. Raises InvalidAddress when the sender or every To address is unusable."""
    message = SmtpMessage(policy=email.policy.SMTP)
    sender = mailbox_header(mail.from_name, mail.from_address)
    to = recipient_headers(mail.to)
    if not to:
        raise InvalidAddress("no usable recipient")
    to_keys = {a.addr_spec.lower() for a in to}
    cc = [a for a in recipient_headers(mail.cc) if a.addr_spec.lower() not in to_keys]
    message.set_raw("From", address_header_value([sender]))
    message.set_raw("To", address_header_value(to))
    if cc:
        message.set_raw("Cc", address_header_value(cc))
    if mail.reply_to:
        with contextlib.suppress(InvalidAddress):  # a broken Reply-To is left out; replies then go to From
            message.set_raw("Reply-To", address_header_value([mailbox_header(mail.from_name, mail.reply_to)]))
    message["Subject"] = header_text(mail.subject, max_length=SUBJECT_MAX)
    message["Date"] = email.utils.formatdate(mail.date, localtime=False)
    own_id = message_id_header(mail.message_id)
    if not own_id:
        raise InvalidAddress("no usable Message-ID")
    message["Message-ID"] = own_id
    in_reply_to = message_id_header(mail.in_reply_to)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    references = [ref for ref in (message_id_header(r) for r in mail.references) if ref]
    references = list(dict.fromkeys(references))[-REFERENCES_MAX:]
    if references:
        message["References"] = " ".join(references)
    if mail.auto_submitted:
        message["Auto-Submitted"] = header_text(mail.auto_submitted, max_length=40)
        # Exchange/Outlook: no out-of-office or other automatic answers to an automatic mail.
        message["X-Auto-Response-Suppress"] = "All"
    if mail.loop_marker:
        message["X-Loop"] = header_text(mail.loop_marker, max_length=300)
    message.set_content(plain_text(mail.body_text) or "\n", charset="utf-8")
    if mail.body_html:
        message.add_alternative(plain_text(mail.body_html), subtype="html", charset="utf-8")
    for attachment in mail.attachments:
        maintype, _sep, subtype = (attachment.content_type or "application/octet-stream").partition("/")
        if not maintype or not subtype or not re.fullmatch(r"[\w.+-]+", maintype + subtype):
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=header_text(attachment.filename, max_length=200) or "attachment",
        )
    return message


class PreparedEmail(DjangoEmailMessage):
    """Hands a message built by ``build_mime`` to any Django mail backend (SMTP, console, locmem, file ...):
    the backends call ``message()`` for the bytes, ``from_email`` and ``recipients()`` for the envelope."""

    def __init__(self, mime: SmtpMessage, *, envelope_from: str, recipients: Sequence[str]) -> None:
        super().__init__(from_email=envelope_from, to=list(recipients))
        self.mime = mime

    def message(self, *args: Any, **kwargs: Any) -> Any:
        return self.mime
