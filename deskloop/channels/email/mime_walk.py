"""Walking one parsed MIME tree: the body text and HTML, attachments, report blocks and nested messages.

The walk is bounded (``MAX_PARTS`` parts, ``MAX_NESTING`` levels of message/rfc822) so a hostile tree cannot
stall a worker, and every problem it meets is a defect string rather than an exception. A nested message is
parsed by the function ``Extraction.parse_nested`` names (``parsing`` passes its own), which keeps this module
below ``parsing`` rather than beside it in a cycle.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from typing import TYPE_CHECKING, Any

from deskloop.core.html import html_to_text

from .charsets import CharsetDecision, codecs_for, decode_bytes, to_bytes
from .header_text import decode_header_text, first_raw, normalize_message_id

if TYPE_CHECKING:
    from .parsing import ParsedEmail

# How deep message/rfc822 parts are parsed into nested ParsedEmail objects (a bounce of a bounce of a forward
# is real; a thousand levels is an attack).
MAX_NESTING = 3
# Anything beyond this many MIME parts is ignored (and recorded): a zip-bomb-like tree must not stall a worker.
MAX_PARTS = 500


@dataclass(frozen=True)
class Attachment:
    """A MIME leaf that is not the message body, or a nested message (``message`` set, filename ``*.eml``)."""

    filename: str
    content_type: str
    content: bytes = field(repr=False)
    content_id: str = ""  # without angle brackets
    is_inline: bool = False
    message: ParsedEmail | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class Extraction:
    """Mutable state while one message tree is read; frozen into a ParsedEmail at the end."""

    hint: str
    depth: int
    # parse_nested(raw, depth, tree): a message/rfc822 part as a ParsedEmail (tree: the part as already split)
    parse_nested: Callable[[bytes, int, Message[Any, Any] | None], ParsedEmail]
    texts: list[str] = field(default_factory=list)
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    charsets: list[CharsetDecision] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    parts_seen: int = 0


def content_type_of(message: Message[Any, Any]) -> str:
    raw = first_raw(message, "Content-Type")
    match = re.match(r"\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)", raw)
    if match:
        return f"{match.group(1)}/{match.group(2)}".lower()
    try:
        return message.get_content_type()
    except Exception:  # the policy's own parse of a garbled Content-Type
        return "text/plain"


def param(message: Message[Any, Any], name: str, header: str = "content-type") -> str:
    if message.policy is policy.compat32:
        raw = first_raw(message, header)
        if raw.isascii() and name not in raw.lower():
            # compat32 reads parameters from this very text, so a name it does not contain is not there (most parts
            # have no charset, name or filename); skips parsing every parameter of the header to find that out.
            return ""
    try:
        value = message.get_param(name, header=header)
    except Exception:  # garbled parameters; handled by the regex below
        value = None
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        try:
            value = email.utils.collapse_rfc2231_value(value)
        except Exception:  # an unknown RFC 2231 charset; keep the raw value
            value = value[2]
    if value is None:
        raw = first_raw(message, header)
        match = re.search(rf"\b{re.escape(name)}\s*=\s*\"?([^\";]*)", raw, re.IGNORECASE)
        return match.group(1).strip() if match else ""
    return str(value)


def _raw_param(message: Message[Any, Any], header: str, name: str) -> str:
    match = re.search(rf"\b{name}\s*=\s*(\"([^\"]*)\"|([^;\s]+))", first_raw(message, header), re.IGNORECASE)
    if not match:
        return ""
    return match.group(2) if match.group(2) is not None else match.group(3)


def _filename(message: Message[Any, Any], hint: str) -> str:
    # Raw 8-bit file names (no RFC 2047/2231 at all) are common from Russian and Chinese mailers; the stdlib
    # turns them into U+FFFD, so read those from the raw header and decode them like 8-bit header text.
    name = _raw_param(message, "content-disposition", "filename") or _raw_param(message, "content-type", "name")
    if not any("\udc80" <= ch <= "\udcff" for ch in name):
        try:
            name = message.get_filename() or ""
        except Exception:  # broken RFC 2231 continuations
            name = ""
    if not name:
        name = param(message, "name")
    if not name:
        return ""
    # Outlook and many webmails put RFC 2047 words inside the quoted parameter, which RFC 2231 forbids but
    # every mail client accepts; RFC 2231 values with undeclared 8-bit come through as surrogate escapes.
    decoded = decode_header_text(name, hint=hint)
    # A file name must not carry a path (``..\\..\\evil.exe``) or control characters into storage.
    decoded = re.sub(r"[\x00-\x1f\x7f]", "", decoded).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return decoded[:255]


def _payload_bytes(part: Message[Any, Any], state: Extraction, where: str) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # a transfer encoding the stdlib cannot undo
        state.defects.append(f"{where}: payload not decodable ({type(exc).__name__})")
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return to_bytes(raw)
    return b""


def _decode_text_part(part: Message[Any, Any], state: Extraction, where: str) -> str:
    payload = _payload_bytes(part, state, where)
    declared = param(part, "charset")
    text, used = decode_bytes(payload, declared)
    if used not in codecs_for(declared) and not (not declared and used == "utf-8"):
        state.charsets.append(CharsetDecision(where=where, declared=declared, used=used))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_attachment(part: Message[Any, Any], content_type: str, filename: str) -> tuple[bool, bool]:
    """(is an attachment, is inline)."""
    disposition = first_raw(part, "Content-Disposition").split(";", 1)[0].strip().lower()
    if disposition == "attachment":
        return True, False
    if content_type in ("text/plain", "text/html") and not filename:
        return False, False
    if content_type.startswith("text/") and disposition == "inline" and not filename:
        return False, False
    return True, disposition == "inline" or bool(first_raw(part, "Content-ID"))


def walk(part: Message[Any, Any], state: Extraction, path: str, in_alternative: bool) -> None:
    state.parts_seen += 1
    if state.parts_seen > MAX_PARTS:
        if state.parts_seen == MAX_PARTS + 1:
            state.defects.append(f"more than {MAX_PARTS} MIME parts; the rest were ignored")
        return
    content_type = content_type_of(part)
    if part.is_multipart():
        children = part.get_payload()
        if content_type.startswith("message/") and content_type not in ("message/rfc822", "message/global"):
            # Reports (delivery-status, feedback-report, disposition-notification) are field blocks, not
            # messages; the parser splits them into header blocks, kept here as one readable file.
            _report_fields(part, state, path, content_type)
            return
        if content_type.startswith("message/"):
            _nested_message(part, state, path, content_type)
            return
        if not isinstance(children, list):
            return
        alternative = content_type == "multipart/alternative"
        for index, child in enumerate(children, start=1):
            if isinstance(child, Message):
                walk(child, state, f"{path}.{index}" if path else str(index), alternative or in_alternative)
        return
    if content_type in ("message/rfc822", "message/global"):
        _nested_message(part, state, path, content_type)
        return
    where = f"part {path or '1'} {content_type}"
    filename = _filename(part, state.hint)
    attached, inline = _is_attachment(part, content_type, filename)
    if not attached:
        text = _decode_text_part(part, state, where)
        if content_type == "text/html":
            # The first HTML part is the body; later inline HTML (rare: list footers) is appended as text.
            if not state.html:
                state.html = text
            elif not in_alternative:
                state.texts.append(html_to_text(text))
        elif content_type == "text/plain" or not in_alternative:
            # Other inline text/* (text/enriched ...) is body text unless a text/plain alternative exists.
            state.texts.append(text)
        return
    content_id = normalize_message_id(first_raw(part, "Content-ID"))
    state.attachments.append(
        Attachment(
            filename=filename or _default_name(content_type, len(state.attachments) + 1),
            content_type=content_type,
            content=_payload_bytes(part, state, where),
            content_id=content_id,
            is_inline=inline,
        )
    )


_EXTENSIONS = {
    "text/plain": "txt",
    "text/html": "html",
    "text/calendar": "ics",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "application/pdf": "pdf",
    "message/delivery-status": "txt",
    "message/feedback-report": "txt",
    "message/disposition-notification": "txt",
    "text/rfc822-headers": "txt",
}


def _default_name(content_type: str, number: int) -> str:
    return f"attachment-{number}.{_EXTENSIONS.get(content_type, 'bin')}"


# A header value Header.encode() gives back unchanged: printable ASCII, no line break, no tab, no whitespace at
# either end (the folder drops a trailing one).
_PLAIN_HEADER_VALUE = re.compile(r"[!-~](?:[ -~]*[!-~])?")


class _Compat32Writer(policy.Compat32):
    """``compat32`` for writing parts back to bytes (nested messages, report blocks), byte for byte the same.

    Writing is a quarter of the parse of a message with a nested one, and most of that is compat32 folding
    every header through ``email.header.Header``, which returns a short plain value unchanged; such a value is
    written directly, any other goes through the stdlib's folding."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        limit = self.max_line_length
        if (
            type(value) is str
            and limit
            and len(name) + 2 + len(value) <= limit
            and value.isascii()
            and _PLAIN_HEADER_VALUE.fullmatch(value)
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii", "surrogateescape")
        folded: bytes = super().fold_binary(name, value)
        return folded


_WRITER = _Compat32Writer()


def _report_fields(part: Message[Any, Any], state: Extraction, path: str, content_type: str) -> None:
    blocks = part.get_payload()
    chunks: list[bytes] = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Message):
            continue
        try:
            chunks.append(block.as_bytes(policy=_WRITER))
        except Exception:  # a block the generator cannot write back; the others still help a reader
            state.defects.append(f"part {path or '1'} {content_type}: a block is not serializable")
    state.attachments.append(
        Attachment(
            filename=_filename(part, state.hint) or _default_name(content_type, len(state.attachments) + 1),
            content_type=content_type,
            content=b"".join(chunks),
        )
    )


def _nested_message(part: Message[Any, Any], state: Extraction, path: str, content_type: str) -> None:
    where = f"part {path or '1'} {content_type}"
    payload = part.get_payload()
    inner_bytes = b""
    inner: Message[Any, Any] | None = None  # the nested message as the parser already split it
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        try:
            inner_bytes = payload[0].as_bytes(policy=_WRITER)
            inner = payload[0]
        except Exception as exc:  # the generator cannot re-serialize some broken trees
            state.defects.append(f"{where}: nested message not serializable ({type(exc).__name__})")
    elif isinstance(payload, (str, bytes)):
        inner_bytes = _payload_bytes(part, state, where)
    nested: ParsedEmail | None = None
    if inner_bytes and state.depth < MAX_NESTING:
        nested = state.parse_nested(inner_bytes, state.depth + 1, inner)
    elif inner_bytes:
        state.defects.append(f"{where}: nested deeper than {MAX_NESTING} levels; kept as a file only")
    filename = _filename(part, state.hint)
    if not filename:
        subject = nested.subject if nested is not None else ""
        stem = re.sub(r"[^\w .,()-]+", "", subject).strip()[:80] or "message"
        filename = f"{stem}.eml"
    elif not filename.lower().endswith(".eml"):
        filename = f"{filename}.eml"
    state.attachments.append(
        Attachment(
            filename=filename,
            content_type=content_type,
            content=inner_bytes,
            content_id=normalize_message_id(first_raw(part, "Content-ID")),
            is_inline=False,
            message=nested,
        )
    )
