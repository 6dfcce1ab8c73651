"""Raw RFC 5322 bytes -> ``ParsedEmail``, a typed, immutable picture of one message. Never raises.

Real mail is broken in every way a standard allows and several it does not: junk charset labels, raw 8-bit
headers, bad base64, missing boundaries, encoded words split inside a multi-byte character. So:

- Structure comes from ``BytesParser`` with ``compat32`` first and ``policy.default`` as the fallback (then the
  headers are split by hand). The order is deliberate: every header is decoded here from its raw value, so the
  modern policy's header objects add nothing we use, yet building them made parsing several times slower
  (BENCHMARKS.md, "Design history"), which the ingest benchmark cannot afford. Any fallback taken is recorded in
  ``ParsedEmail.defects``.
- Header text is decoded here, not by the policy: RFC 2047 words go through the same charset table as bodies,
  adjacent words are joined *before* decoding (a character split over two words survives), and undeclared
  8-bit header bytes are tried as UTF-8, then the message's own charset, then Windows-1252.
- Body bytes are decoded with the declared charset through ``CHARSET_ALIASES`` and, when that fails, UTF-8
  then Windows-1252 then Latin-1 (which cannot fail). Every fallback is listed in ``ParsedEmail.charsets``.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime as dt
import email.utils
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any

from deskloop.core.html import html_to_text, sanitize_html

from .addresses import Address, parse_address_list

__all__ = [
    "CHARSET_ALIASES",
    "Address",
    "Attachment",
    "AuthenticationResults",
    "CharsetDecision",
    "ParsedEmail",
    "decode_bytes",
    "decode_header_text",
    "normalize_message_id",
    "parse_message",
]

# How deep message/rfc822 parts are parsed into nested ParsedEmail objects (a bounce of a bounce of a forward
# is real; a thousand levels is an attack).
MAX_NESTING = 3
# Anything beyond this many MIME parts is ignored (and recorded): a zip-bomb-like tree must not stall a worker.
MAX_PARTS = 500
SYNTHETIC_ID_DOMAIN = "synthesized.deskloop.invalid"

# Charset labels seen in real mail that Python does not know, or knows as a narrower charset than senders
# actually use. Each maps to the codecs to try, in order; an empty tuple means "no information": go straight
# to the fallbacks (UTF-8, then Windows-1252).
CHARSET_ALIASES: dict[str, tuple[str, ...]] = {
    # Junk labels written by broken webmails and list software; Python raises LookupError on all of them.
    "default": (),
    "default_charset": (),
    "x-unknown": (),
    "unknown": (),
    "unknown-8bit": (),
    "x-user-defined": (),
    "none": (),
    "charset": (),
    "3d": (),  # a quoted-printable "=3D" left in front of an empty value
    # Typos and vendor spellings of UTF-8 / UTF-7.
    "utf8": ("utf-8",),
    "uft-8": ("utf-8",),
    "utf-8-sig": ("utf-8-sig",),
    "x-utf-8": ("utf-8",),
    "unicode-1-1-utf-7": ("utf-7",),
    "x-unicode-2-0-utf-7": ("utf-7",),
    # Senders that declare Latin-1/ASCII very often write Windows-1252 (curly quotes, euro sign at 0x80-0x9f);
    # browsers decode these labels as Windows-1252 for the same reason (WHATWG Encoding Standard).
    "us-ascii": ("ascii",),
    "ascii": ("ascii",),
    "iso-8859-1": ("cp1252",),
    "latin1": ("cp1252",),
    "latin-1": ("cp1252",),
    "iso8859-1": ("cp1252",),
    "iso_8859-1": ("cp1252",),
    "windows-1252": ("cp1252",),
    # Chinese: GB2312/GBK mail routinely contains characters only GB18030 (their superset) defines.
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "euc-cn": ("gb18030",),
    "cp936": ("gb18030",),
    "chinesebig5": ("big5hkscs", "cp950"),  # Outlook Express's name for Big5
    "big5": ("big5hkscs", "cp950"),
    "x-x-big5": ("big5hkscs", "cp950"),
    "big5-hkscs": ("big5hkscs",),
    # Korean: the registered name is a character set, not an encoding; everyone means Windows code page 949.
    "ks_c_5601-1987": ("cp949",),
    "ks_c_5601": ("cp949",),
    "ksc5601": ("cp949",),
    "euc-kr": ("cp949",),
    # Japanese: Shift_JIS mail uses Microsoft's extensions; ISO-2022-JP mail uses JIS X 0212 and half-width
    # katakana that the strict codec rejects, so widen step by step.
    "shift_jis": ("cp932", "shift_jis_2004"),
    "shift-jis": ("cp932", "shift_jis_2004"),
    "sjis": ("cp932",),
    "x-sjis": ("cp932",),
    "windows-31j": ("cp932",),
    # Japanese mobile carriers' gateways label Shift_JIS bodies as ISO-2022-JP; try it before Windows-1252.
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_3", "cp932"),
    "csiso2022jp": ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext"),
    "euc-jp": ("euc_jp", "euc_jis_2004"),
    "x-euc-jp": ("euc_jp", "euc_jis_2004"),
    # Thai and Hebrew labels whose common usage is the Windows superset / a Python-unknown variant.
    "tis-620": ("cp874",),
    "iso-8859-11": ("cp874",),
    "windows-874": ("cp874",),
    "iso-8859-8-i": ("iso8859_8",),
    "iso-8859-6-i": ("iso8859_6",),
    # Cyrillic labels seen in the wild.
    "koi8-r": ("koi8_r",),
    "koi8-u": ("koi8_u", "koi8_r"),
    "x-mac-cyrillic": ("mac_cyrillic",),
    "cp-1251": ("cp1251",),
}
_FALLBACKS = ("utf-8", "cp1252")


@dataclass(frozen=True)
class CharsetDecision:
    """How one piece of text was decoded: where, the label it declared, and the codec that worked."""

    where: str
    declared: str
    used: str

    @property
    def fell_back(self) -> bool:
        return self.used not in _candidates(self.declared)


@dataclass(frozen=True)
class AuthenticationResults:
    """The verdicts of the topmost Authentication-Results header (RFC 8601), lower-cased ("" when absent).

    Only the topmost header was added by the receiving MTA nearest to us; callers that can should still check
    ``authserv_id`` against the MTA they trust, since a sender can forge headers further down or even on top
    when mail reaches us without passing such an MTA."""

    authserv_id: str = ""
    spf: str = ""
    dkim: str = ""
    dmarc: str = ""
    header_from: str = ""  # the domain DMARC was evaluated for (header.from=)


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


# --- charsets ---------------------------------------------------------------------------------------------


def _normalize_label(label: str) -> str:
    return (label or "").strip().strip("\"'").strip().lower()


def _candidates(label: str) -> tuple[str, ...]:
    """The codecs to try for a declared charset label, before the generic fallbacks."""
    key = _normalize_label(label)
    if not key:
        return ()
    if key in CHARSET_ALIASES:
        return CHARSET_ALIASES[key]
    # RFC 2231 charset*language ("utf-8*en") and stray parameters ("utf-8; format=flowed") in broken headers.
    key = re.split(r"[*;\s]", key, maxsplit=1)[0]
    if key in CHARSET_ALIASES:
        return CHARSET_ALIASES[key]
    try:
        return (codecs.lookup(key).name,)
    except (LookupError, ValueError):
        return ()


def decode_bytes(data: bytes, declared: str = "", *, hint: str = "") -> tuple[str, str]:
    """Decode ``data`` declared as ``declared``; returns (text, codec used). Never raises.

    Order: the declared charset (through ``CHARSET_ALIASES``), UTF-8, the ``hint`` charset (for headers: the
    body's charset, the best guess for raw 8-bit in a header), Windows-1252, and Latin-1, which accepts any byte.
    """
    tried: set[str] = set()
    for codec in (*_candidates(declared), "utf-8", *_candidates(hint)):
        if codec in tried:
            continue
        tried.add(codec)
        try:
            return data.decode(codec), codec
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
    # Valid UTF-8 cut off inside its last character (a file name or subject truncated by the sender's client)
    # is still UTF-8: keep it, with the broken tail replaced, rather than turning it into Latin-1 mojibake.
    truncated = _utf8_cut_at_end(data)
    if truncated is not None:
        return truncated, "utf-8+replace"
    # A truncated multi-byte sequence or one stray byte should not throw a whole CJK/Cyrillic text into
    # Windows-1252 mojibake: accept the declared (or hinted) charset when only a few bytes fail.
    for codec in (*_candidates(declared)[:1], *_candidates(hint)[:1]):
        try:
            text = data.decode(codec, "replace")
        except (LookupError, ValueError):
            continue
        if text.count("\ufffd") <= max(2, len(text) // 100):
            return text, f"{codec}+replace"
    for codec in _FALLBACKS[1:]:
        try:
            return data.decode(codec), codec
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
    return data.decode("latin-1"), "latin-1"


def _utf8_cut_at_end(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        if exc.reason == "unexpected end of data" and not head.isascii() and len(data) - exc.start < 4:
            return head.decode("utf-8") + "\ufffd"
    return None


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            # A length of 4n+1 cannot be valid base64; drop the dangling character rather than the word.
            return base64.b64decode(cleaned[: len(cleaned) - len(cleaned) % 4 - 4] or "")
    return quopri.decodestring(text.replace("_", " ").encode("ascii", "surrogateescape"), header=False)


def _to_bytes(text: str) -> bytes:
    # The parser keeps undeclared 8-bit header bytes as surrogate escapes; other non-ASCII comes from callers.
    return text.encode("utf-8", "surrogateescape")


def decode_header_text(value: str, *, hint: str = "", decisions: list[CharsetDecision] | None = None) -> str:
    """A header value as readable text: RFC 2047 words decoded, raw 8-bit decoded, whitespace unfolded.

    Adjacent encoded words in the same charset are joined before decoding, because senders split multi-byte
    characters across them. Never raises."""
    if not value:
        return ""
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # encoded words waiting to be joined

    def flush() -> None:
        while pending:
            charset = pending[0][0]
            chunk = b""
            while pending and pending[0][0] == charset:
                chunk += pending.pop(0)[1]
            text, used = decode_bytes(chunk, charset, hint=hint)
            if decisions is not None and used not in _candidates(charset):
                decisions.append(CharsetDecision(where="header", declared=charset, used=used))
            out.append(text)

    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (pending and between.isspace()):
            flush()
            out.append(_decode_literal(between, hint, decisions))
        charset = match.group(1).split("*", 1)[0]
        pending.append((charset.lower(), _word_bytes(match.group(2), match.group(3))))
        position = match.end()
    flush()
    out.append(_decode_literal(value[position:], hint, decisions))
    # Control characters (NUL above all, which PostgreSQL refuses in text) are never part of a header's meaning.
    return " ".join(_HEADER_CONTROLS.sub(" ", "".join(out)).split())


_HEADER_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def _decode_literal(text: str, hint: str, decisions: list[CharsetDecision] | None) -> str:
    if text.isascii():
        return text
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text  # already real text (a caller's str, or a header the policy decoded)
    decoded, used = decode_bytes(_to_bytes(text), "", hint=hint)
    if decisions is not None and used != "utf-8":
        decisions.append(CharsetDecision(where="header (undeclared 8-bit)", declared="", used=used))
    return decoded


# --- header helpers ---------------------------------------------------------------------------------------


def normalize_message_id(value: str) -> str:
    """A Message-ID as stored and compared: the first ``<...>`` token (or the first word) without brackets.
    Control characters cannot be part of an id; dropping them also keeps a NUL away from PostgreSQL."""
    text = " ".join("".join(ch for ch in (value or "") if ch >= " " and ch != "\x7f").split())
    match = re.search(r"<([^<>\s]+)>", text)
    if match:
        return match.group(1)[:500]
    first = text.split(" ", 1)[0] if text else ""
    return first.strip("<>")[:500]


def _message_id_list(value: str) -> tuple[str, ...]:
    ids = re.findall(r"<([^<>\s]+)>", value)
    if not ids:
        ids = [token.strip("<>,") for token in value.split() if "@" in token]
    seen: set[str] = set()
    unique: list[str] = []
    for message_id in ids:
        if message_id and message_id not in seen:
            seen.add(message_id)
            unique.append(message_id[:500])
    return tuple(unique)


def _parse_date(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        # RFC 5322 "-0000" means "UTC, local zone unknown"; Python returns a naive datetime for it.
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        parsed.utcoffset()
        parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):  # year 1 with a positive offset, and similar edge dates
        return None
    return parsed


_AUTH_METHOD = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_HEADER_FROM = re.compile(r"header\.from\s*=\s*\"?([^\s;\"()]+)", re.IGNORECASE)


def parse_authentication_results(value: str) -> AuthenticationResults:
    """The first result per method of one Authentication-Results value. Never raises."""
    if not value:
        return AuthenticationResults()
    authserv_id = value.split(";", 1)[0].strip().split(" ", 1)[0] if ";" in value else ""
    results: dict[str, str] = {}
    for method, result in _AUTH_METHOD.findall(value):
        results.setdefault(method.lower(), result.lower())
    header_from = _HEADER_FROM.search(value)
    domain = header_from.group(1).lower().rpartition("@")[2] if header_from else ""
    return AuthenticationResults(
        authserv_id=authserv_id.lower(),
        spf=results.get("spf", ""),
        dkim=results.get("dkim", ""),
        dmarc=results.get("dmarc", ""),
        header_from=domain,
    )


# --- the walk ---------------------------------------------------------------------------------------------


@dataclass
class _Extraction:
    """Mutable state while one message tree is read; frozen into a ParsedEmail at the end."""

    hint: str
    depth: int
    texts: list[str] = field(default_factory=list)
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    charsets: list[CharsetDecision] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    parts_seen: int = 0


def _raw_headers(message: Message[Any, Any]) -> list[tuple[str, str]]:
    # raw_items() gives the header text as it arrived (no policy decoding, which can raise or mangle).
    return [(str(name), value if isinstance(value, str) else str(value)) for name, value in message.raw_items()]


def _first_raw(message: Message[Any, Any], name: str) -> str:
    key = name.lower()
    for header_name, value in _raw_headers(message):
        if header_name.lower() == key:
            return value
    return ""


def _content_type(message: Message[Any, Any]) -> str:
    raw = _first_raw(message, "Content-Type")
    match = re.match(r"\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)", raw)
    if match:
        return f"{match.group(1)}/{match.group(2)}".lower()
    try:
        return message.get_content_type()
    except Exception:  # the policy's own parse of a garbled Content-Type
        return "text/plain"


def _param(message: Message[Any, Any], name: str, header: str = "content-type") -> str:
    if message.policy is policy.compat32:
        raw = _first_raw(message, header)
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
        raw = _first_raw(message, header)
        match = re.search(rf"\b{re.escape(name)}\s*=\s*\"?([^\";]*)", raw, re.IGNORECASE)
        return match.group(1).strip() if match else ""
    return str(value)


def _raw_param(message: Message[Any, Any], header: str, name: str) -> str:
    match = re.search(rf"\b{name}\s*=\s*(\"([^\"]*)\"|([^;\s]+))", _first_raw(message, header), re.IGNORECASE)
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
        name = _param(message, "name")
    if not name:
        return ""
    # Outlook and many webmails put RFC 2047 words inside the quoted parameter, which RFC 2231 forbids but
    # every mail client accepts; RFC 2231 values with undeclared 8-bit come through as surrogate escapes.
    decoded = decode_header_text(name, hint=hint)
    # A file name must not carry a path (``..\\..\\evil.exe``) or control characters into storage.
    decoded = re.sub(r"[\x00-\x1f\x7f]", "", decoded).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return decoded[:255]


def _payload_bytes(part: Message[Any, Any], state: _Extraction, where: str) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # a transfer encoding the stdlib cannot undo
        state.defects.append(f"{where}: payload not decodable ({type(exc).__name__})")
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return _to_bytes(raw)
    return b""


def _decode_text_part(part: Message[Any, Any], state: _Extraction, where: str) -> str:
    payload = _payload_bytes(part, state, where)
    declared = _param(part, "charset")
    text, used = decode_bytes(payload, declared)
    if used not in _candidates(declared) and not (not declared and used == "utf-8"):
        state.charsets.append(CharsetDecision(where=where, declared=declared, used=used))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_attachment(part: Message[Any, Any], content_type: str, filename: str) -> tuple[bool, bool]:
    """(is an attachment, is inline)."""
    disposition = _first_raw(part, "Content-Disposition").split(";", 1)[0].strip().lower()
    if disposition == "attachment":
        return True, False
    if content_type in ("text/plain", "text/html") and not filename:
        return False, False
    if content_type.startswith("text/") and disposition == "inline" and not filename:
        return False, False
    return True, disposition == "inline" or bool(_first_raw(part, "Content-ID"))


def _walk(part: Message[Any, Any], state: _Extraction, path: str, in_alternative: bool) -> None:
    state.parts_seen += 1
    if state.parts_seen > MAX_PARTS:
        if state.parts_seen == MAX_PARTS + 1:
            state.defects.append(f"more than {MAX_PARTS} MIME parts; the rest were ignored")
        return
    content_type = _content_type(part)
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
                _walk(child, state, f"{path}.{index}" if path else str(index), alternative or in_alternative)
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
    content_id = normalize_message_id(_first_raw(part, "Content-ID"))
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


def _report_fields(part: Message[Any, Any], state: _Extraction, path: str, content_type: str) -> None:
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


def _nested_message(part: Message[Any, Any], state: _Extraction, path: str, content_type: str) -> None:
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
        nested = _parse(inner_bytes, depth=state.depth + 1, tree=inner)
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
            content_id=normalize_message_id(_first_raw(part, "Content-ID")),
            is_inline=False,
            message=nested,
        )
    )


def _addresses(raw_headers: list[tuple[str, str]], name: str, hint: str) -> tuple[Address, ...]:
    key = name.lower()
    found: list[Address] = []
    for header_name, value in raw_headers:
        if header_name.lower() == key:
            # Addresses are split on the raw value and names decoded afterwards (see parse_address_list).
            found.extend(parse_address_list(_undo_surrogates(value), decode=lambda n: decode_header_text(n, hint=hint)))
    return tuple(found)


def _undo_surrogates(value: str) -> str:
    if value.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(_to_bytes(value), "")[0]


def _body_charset_hint(message: Message[Any, Any]) -> str:
    for part in message.walk():
        charset = _param(part, "charset")
        if charset and _candidates(charset) and _normalize_label(charset) not in ("us-ascii", "ascii", "utf-8"):
            return charset
    return ""


def _extract(message: Message[Any, Any], raw: bytes, depth: int) -> ParsedEmail:
    hint = _body_charset_hint(message)
    state = _Extraction(hint=hint, depth=depth)
    for defect in getattr(message, "defects", []):
        state.defects.append(f"top: {type(defect).__name__}")
    raw_headers = _raw_headers(message)
    headers = tuple(
        (name, decode_header_text(value, hint=hint, decisions=state.charsets)) for name, value in raw_headers
    )
    _walk(message, state, "", in_alternative=False)
    for part in message.walk():
        if part is not message:
            for defect in getattr(part, "defects", []):
                state.defects.append(f"part {_content_type(part)}: {type(defect).__name__}")

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
    senders = _addresses(raw_headers, "From", hint)
    sender = _addresses(raw_headers, "Sender", hint)
    if not senders and first("From"):
        state.defects.append("From header has no usable address")
    return ParsedEmail(
        raw=raw,
        message_id=message_id,
        message_id_synthesized=synthesized,
        in_reply_to=normalize_message_id(first("In-Reply-To")),
        references=_message_id_list(first("References")),
        subject=first("Subject"),
        from_=senders[0] if senders else None,
        sender=sender[0] if sender else None,
        reply_to=_addresses(raw_headers, "Reply-To", hint),
        to=_addresses(raw_headers, "To", hint),
        cc=_addresses(raw_headers, "Cc", hint),
        date=_parse_date(first("Date")),
        headers=headers,
        authentication=parse_authentication_results(first("Authentication-Results")),
        content_type=_content_type(message),
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
    from dataclasses import replace

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

    senders = parse_address_list(_undo_surrogates(first("From")), decode=decode_header_text)
    message_id = normalize_message_id(first("Message-ID"))
    synthesized = not message_id
    if synthesized:
        message_id = f"{hashlib.sha256(raw).hexdigest()[:32]}@{SYNTHETIC_ID_DOMAIN}"
    return ParsedEmail(
        raw=raw,
        message_id=message_id,
        message_id_synthesized=synthesized,
        in_reply_to=normalize_message_id(first("In-Reply-To")),
        references=_message_id_list(first("References")),
        subject=decode_header_text(first("Subject")),
        from_=senders[0] if senders else None,
        sender=None,
        reply_to=(),
        to=tuple(parse_address_list(_undo_surrogates(first("To")), decode=decode_header_text)),
        cc=tuple(parse_address_list(_undo_surrogates(first("Cc")), decode=decode_header_text)),
        date=_parse_date(first("Date")),
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
