"""Reading header values: RFC 2047 text, Message-IDs, dates, addresses and Authentication-Results.

Every header is decoded here from its raw value (the parser's policy objects are not used: they raise, mangle,
and cost several times the parse). Adjacent encoded words are joined *before* decoding (a character split over
two words survives), and undeclared 8-bit bytes are tried as UTF-8, then the message's own charset, then
Windows-1252 (``charsets.decode_bytes``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import quopri
import re
from dataclasses import dataclass
from email.message import Message
from typing import Any

from .addresses import Address, parse_address_list
from .charsets import CharsetDecision, codecs_for, decode_bytes, to_bytes


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
            if decisions is not None and used not in codecs_for(charset):
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
    decoded, used = decode_bytes(to_bytes(text), "", hint=hint)
    if decisions is not None and used != "utf-8":
        decisions.append(CharsetDecision(where="header (undeclared 8-bit)", declared="", used=used))
    return decoded


# --- Message-IDs, dates, Authentication-Results ----------------------------------------------------------------


def normalize_message_id(value: str) -> str:
    """A Message-ID as stored and compared: the first ``<...>`` token (or the first word) without brackets.
    Control characters cannot be part of an id; dropping them also keeps a NUL away from PostgreSQL."""
    text = " ".join("".join(ch for ch in (value or "") if ch >= " " and ch != "\x7f").split())
    match = re.search(r"<([^<>\s]+)>", text)
    if match:
        return match.group(1)[:500]
    first = text.split(" ", 1)[0] if text else ""
    return first.strip("<>")[:500]


def message_id_list(value: str) -> tuple[str, ...]:
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


def parse_date(value: str) -> dt.datetime | None:
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


# --- raw header values and addresses -------------------------------------------------------------------


def raw_headers(message: Message[Any, Any]) -> list[tuple[str, str]]:
    # raw_items() gives the header text as it arrived (no policy decoding, which can raise or mangle).
    return [(str(name), value if isinstance(value, str) else str(value)) for name, value in message.raw_items()]


def first_raw(message: Message[Any, Any], name: str) -> str:
    key = name.lower()
    for header_name, value in raw_headers(message):
        if header_name.lower() == key:
            return value
    return ""


def read_addresses(fields: list[tuple[str, str]], name: str, hint: str) -> tuple[Address, ...]:
    key = name.lower()
    found: list[Address] = []
    for header_name, value in fields:
        if header_name.lower() == key:
            # Addresses are split on the raw value and names decoded afterwards (see parse_address_list).
            found.extend(parse_address_list(undo_surrogates(value), decode=lambda n: decode_header_text(n, hint=hint)))
    return tuple(found)


def undo_surrogates(value: str) -> str:
    if value.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(to_bytes(value), "")[0]
