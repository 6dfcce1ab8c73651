"""Raw RFC 5322 bytes -> ``ParsedEmail``, a typed, immutable picture of one message. Never raises.

Real mail is broken in every way a standard allows and several it does not: junk charset labels, raw 8-bit
headers, bad base64, missing boundaries, encoded words split inside a multi-byte character. So:

- Structure comes from ``BytesParser`` with ``compat32`` first and ``policy.default`` as the fallback (then the
  headers are split by hand). The order is deliberate: every header is decoded here from its raw value, so the
  modern policy's header objects add nothing we use, yet building them made parsing several times slower
  (BENCHMARKS.md, "Design history"), which the ingest benchmark cannot afford. Any fallback taken is recorded in
  ``ParsedEmail.defects``.
- Header text is decoded by ``header_text``, not by the policy; the MIME tree is read by ``mime_walk``; both
  decode bytes through ``charsets`` (one table for bodies and headers). Every fallback is listed in
  ``ParsedEmail.charsets``. This module joins them: the top-level headers, the walk, and the fallbacks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field, replace
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any

from deskloop.core.html import html_to_text, sanitize_html

from .addresses import Address, parse_address_list
from .charsets import CharsetDecision, codecs_for, decode_bytes, normalize_label
from .header_text import (
    AuthenticationResults,
    decode_header_text,
    message_id_list,
    normalize_message_id,
    parse_authentication_results,
    parse_date,
    raw_headers,
    read_addresses,
    undo_surrogates,
)
from .mime_walk import Attachment, Extraction, content_type_of, param, walk

__all__ = ["Attachment", "ParsedEmail", "parse_message"]

SYNTHETIC_ID_DOMAIN = "synthesized.deskloop.invalid"


@dataclass(frozen=True)
class ParsedEmail:
    """Everything the email channel needs from one message. Text is always ``str`` (decoded), never None.

    Lists are tuples so the whole value is immutable and hashable-safe to share between steps."""

    raw: bytes = field(repr=False, compare=False)
    message_id: str  # normalized, without <>; synthesized from the raw bytes when missing
    message_id_synthesized: bool
    in_reply_to: str
    references: tuple[str, ...]
    subject: str
    from_: Address | None
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: dt.datetime | None  # always timezone-aware
    headers: tuple[tuple[str, str], ...]  # every top-level header, decoded and unfolded, in order
    authentication: AuthenticationResults
    content_type: str  # of the top-level entity, lower-case ("text/plain" when unparseable)
    text: str  # plain text body; from HTML-only mail, a readable text made from the HTML
    text_from_html: bool
    html: str  # the raw HTML body; see ``sanitized_html``
    attachments: tuple[Attachment, ...]
    charsets: tuple[CharsetDecision, ...]
    defects: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.raw)

    def header(self, name: str) -> str:
        """The first value of header ``name`` (case-insensitive), decoded; "" when absent."""
        key = name.lower()
        for header_name, value in self.headers:
            if header_name.lower() == key:
                return value
        return ""

    def header_all(self, name: str) -> tuple[str, ...]:
        key = name.lower()
        return tuple(value for header_name, value in self.headers if header_name.lower() == key)

    # Headers noise classification and loop prevention look at (RFC 3834, RFC 2919, Microsoft's X- headers).
    @property
    def auto_submitted(self) -> str:
        return self.header("Auto-Submitted")

    @property
    def precedence(self) -> str:
        return self.header("Precedence")

    @property
    def x_autoreply(self) -> str:
        return self.header("X-Autoreply") or self.header("X-Autoreply-From") or self.header("X-Mail-Autoreply")

    @property
    def x_autorespond(self) -> str:
        return self.header("X-Autorespond")

    @property
    def x_auto_response_suppress(self) -> str:
        return self.header("X-Auto-Response-Suppress")

    @property
    def list_id(self) -> str:
        return self.header("List-Id")

    @property
    def list_unsubscribe(self) -> str:
        return self.header("List-Unsubscribe")

    @property
    def x_loop(self) -> tuple[str, ...]:
        return self.header_all("X-Loop")

    @property
    def report_type(self) -> str:
        """The report-type parameter of a top-level multipart/report ("delivery-status", "feedback-report" ...)."""
        if self.content_type != "multipart/report":
            return ""
        match = re.search(r"report-type\s*=\s*\"?([\w.-]+)", self.header("Content-Type"), re.IGNORECASE)
        return match.group(1).lower() if match else ""

    @property
    def sanitized_html(self) -> str:
        return sanitize_html(self.html)

    @property
    def inline_images(self) -> dict[str, Attachment]:
        """Attachments with a Content-ID, by that id: what ``cid:`` URLs in the HTML point at."""
        return {a.content_id: a for a in self.attachments if a.content_id}

    @property
    def nested_messages(self) -> tuple[ParsedEmail, ...]:
        return tuple(a.message for a in self.attachments if a.message is not None)


def _body_charset_hint(message: Message[Any, Any]) -> str:
    for part in message.walk():
        charset = param(part, "charset")
        if charset and codecs_for(charset) and normalize_label(charset) not in ("us-ascii", "ascii", "utf-8"):
            return charset
    return ""


def _extract(message: Message[Any, Any], raw: bytes, depth: int) -> ParsedEmail:
    hint = _body_charset_hint(message)
    state = Extraction(hint=hint, depth=depth, parse_nested=_parse)
    for defect in getattr(message, "defects", []):
        state.defects.append(f"top: {type(defect).__name__}")
    raw_fields = raw_headers(message)
    headers = tuple(
        (name, decode_header_text(value, hint=hint, decisions=state.charsets)) for name, value in raw_fields
    )
    walk(message, state, "", in_alternative=False)
    for part in message.walk():
        if part is not message:
            for defect in getattr(part, "defects", []):
                state.defects.append(f"part {content_type_of(part)}: {type(defect).__name__}")

    def first(name: str) -> str:
        key = name.lower()
        return next((value for header_name, value in headers if header_name.lower() == key), "")

    text = "\n".join(t for t in state.texts if t.strip()) if len(state.texts) > 1 else "".join(state.texts)
    text_from_html = False
    if not text.strip() and not state.html:
        # Text parts sent inline *with* a file name (RFC 2183: shown in place) are the only words of such mail;
        # mail clients display them as the body, so they are the text too (and stay listed as attachments).
        inline_texts = [a for a in state.attachments if a.is_inline and a.content_type == "text/plain" and a.content]
        if inline_texts:
            text = "\n".join(decode_bytes(a.content)[0].replace("\r\n", "\n").replace("\r", "\n") for a in inline_texts)
    if not text.strip() and state.html:
        text = html_to_text(state.html)
        text_from_html = True
    message_id = normalize_message_id(first("Message-ID"))
    synthesized = not message_id
    if synthesized:
        # Stable across re-imports of the same bytes, so dedupe and threading still work for id-less mail.
        message_id = f"{hashlib.sha256(raw).hexdigest()[:32]}@{SYNTHETIC_ID_DOMAIN}"
        state.defects.append("no Message-ID; synthesized from the raw bytes")
    senders = read_addresses(raw_fields, "From", hint)
    sender = read_addresses(raw_fields, "Sender", hint)
    if not senders and first("From"):
        state.defects.append("From header has no usable address")
    return ParsedEmail(
        raw=raw,
        message_id=message_id,
        message_id_synthesized=synthesized,
        in_reply_to=normalize_message_id(first("In-Reply-To")),
        references=message_id_list(first("References")),
        subject=first("Subject"),
        from_=senders[0] if senders else None,
        sender=sender[0] if sender else None,
        reply_to=read_addresses(raw_fields, "Reply-To", hint),
        to=read_addresses(raw_fields, "To", hint),
        cc=read_addresses(raw_fields, "Cc", hint),
        date=parse_date(first("Date")),
        headers=headers,
        authentication=parse_authentication_results(first("Authentication-Results")),
        content_type=content_type_of(message),
        text=text,
        text_from_html=text_from_html,
        html=state.html,
        attachments=tuple(state.attachments),
        charsets=tuple(state.charsets),
        defects=tuple(state.defects),
    )


def _parse(raw: bytes, depth: int = 0, tree: Message[Any, Any] | None = None) -> ParsedEmail:
    """``tree``: a nested message as the outer parse split it, whose bytes are ``raw``. It is read as it is: those
    bytes parse into the same tree again, and parsing them a second time was a fifth of a bounce's parse."""
    problems: list[str] = []
    if tree is not None:
        try:
            return _extract(tree, raw, depth)
        except Exception as exc:  # read it from its bytes instead, as any message
            problems.append(f"nested tree failed: {type(exc).__name__}: {str(exc)[:200]}")
    for name, chosen in (("compat32", policy.compat32), ("policy.default", policy.default)):
        try:
            message = BytesParser(policy=chosen).parsebytes(raw)
            parsed = _extract(message, raw, depth)
        except Exception as exc:  # any failure of one policy is a defect, then the next policy runs
            problems.append(f"{name} failed: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if problems:
            return _with_defects(parsed, problems)
        return parsed
    return _minimal(raw, problems)


def _with_defects(parsed: ParsedEmail, defects: list[str]) -> ParsedEmail:
    return replace(parsed, defects=(*defects, *parsed.defects))


def _minimal(raw: bytes, problems: list[str]) -> ParsedEmail:
    """Both policies failed: split the header block by hand so at least subject and sender survive."""
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    headers: list[tuple[str, str]] = []
    for line in head.decode("utf-8", "surrogateescape").split("\n"):
        if line[:1] in (" ", "\t") and headers:
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
        elif ":" in line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    decoded = tuple((name, decode_header_text(value)) for name, value in headers)

    def first(name: str) -> str:
        return next((value for header_name, value in headers if header_name.lower() == name.lower()), "")

    senders = parse_address_list(undo_surrogates(first("From")), decode=decode_header_text)
    message_id = normalize_message_id(first("Message-ID"))
    synthesized = not message_id
    if synthesized:
        message_id = f"{hashlib.sha256(raw).hexdigest()[:32]}@{SYNTHETIC_ID_DOMAIN}"
    return ParsedEmail(
        raw=raw,
        message_id=message_id,
        message_id_synthesized=synthesized,
        in_reply_to=normalize_message_id(first("In-Reply-To")),
        references=message_id_list(first("References")),
        subject=decode_header_text(first("Subject")),
        from_=senders[0] if senders else None,
        sender=None,
        reply_to=(),
        to=tuple(parse_address_list(undo_surrogates(first("To")), decode=decode_header_text)),
        cc=tuple(parse_address_list(undo_surrogates(first("Cc")), decode=decode_header_text)),
        date=parse_date(first("Date")),
        headers=decoded,
        authentication=parse_authentication_results(first("Authentication-Results")),
        content_type="text/plain",
        text=decode_bytes(body)[0],
        text_from_html=False,
        html="",
        attachments=(),
        charsets=(),
        defects=(*problems, "parsed by hand: headers and raw body only"),
    )


def parse_message(raw: bytes) -> ParsedEmail:
    """Parse one raw message. Never raises: problems are listed in ``ParsedEmail.defects``."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raw = str(raw).encode("utf-8", "surrogateescape")
    return _parse(bytes(raw))
