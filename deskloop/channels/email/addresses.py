"""Email addresses: tolerant parsing of address headers, normalization for matching, and sanitizing anything
that may end up in a header we send.

Incoming address headers are hostile or broken often enough (unbalanced quotes, ``;`` separators, bare
names, encoded words around commas) that parsing never raises here: what cannot be understood is dropped.
Values that flow from an incoming message into an outgoing header (a subject, a display name) go through
``sanitize_header_value`` first, so CR/LF can never inject a header.
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Address",
    "format_address",
    "is_plausible_address",
    "normalize_address",
    "parse_address_list",
    "sanitize_header_value",
]

# RFC 5322 caps a line at 998 octets; an outgoing header value has to leave room for its name.
MAX_HEADER_VALUE = 900
# RFC 5321: local part <= 64, whole path <= 254.
_MAX_ADDRESS = 254

_ADDR_SPEC = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"'@]+\.[^\s<>()\[\],;:\"'@]+")
_ANGLE = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class Address:
    """One mailbox from an address header: the display name (decoded) and the addr-spec as written."""

    name: str
    address: str

    @property
    def normalized(self) -> str:
        return normalize_address(self.address)

    @property
    def domain(self) -> str:
        return self.normalized.rpartition("@")[2]

    def __str__(self) -> str:
        return format_address(self)


def _identity(value: str) -> str:
    return value


def normalize_address(address: str) -> str:
    """The form used to match a sender against stored contacts: trimmed, without angle brackets, lower-cased.

    The local part is lower-cased too: RFC 5321 lets it be case-sensitive, but no mail system people write to
    from a helpdesk treats ``Ann@`` and ``ann@`` as two people, and matching them apart would split a customer.
    """
    value = (address or "").strip().strip("<>").strip().strip("'\"").strip()
    # A trailing dot on the domain is legal DNS but never meant as a different address.
    return value.rstrip(".").lower()


def is_plausible_address(address: str) -> bool:
    """An addr-spec we could send to: one ``@``, a non-empty local part, a dotted domain, no spaces/controls."""
    value = address.strip()
    if not value or len(value) > _MAX_ADDRESS or value.count("@") != 1:
        return False
    local, _, domain = value.partition("@")
    if not local or len(local) > 64 or "." not in domain.strip(".") or domain.startswith("."):
        return False
    return not any(ch.isspace() or unicodedata.category(ch).startswith("C") or ch in '<>(),;:"[]\\' for ch in value)


def parse_address_list(value: str, *, decode: Callable[[str], str] = _identity) -> list[Address]:
    """Every plausible mailbox in an address header value (To, Cc, From, Reply-To ...). Never raises.

    ``decode`` turns a raw display name into text (``header_text.decode_header_text`` for RFC 2047 names); names
    are decoded *after* splitting so that an encoded ``Doe, John`` cannot split one mailbox into two.
    Entries without a usable addr-spec (``undisclosed-recipients:;``, bare names) are dropped; when the stdlib
    parser finds nothing at all, addr-specs are picked out of the text so that a garbled header still yields
    the addresses a human can see in it.
    """
    if not value or not value.strip():
        return []
    # Outlook and some webmails separate with ";" — outside quotes that never means anything else here
    # except the end of a group, which getaddresses handles the same way as a comma.
    text = value.replace("\r", " ").replace("\n", " ")
    found: list[Address] = []
    seen: set[str] = set()
    try:
        pairs = email.utils.getaddresses([_semicolons_to_commas(text)])
    except Exception:  # the stdlib parser has raised on pathological input in past releases; fall back below
        pairs = []
    for raw_name, raw_address in pairs:
        address = raw_address.strip().strip("<>").strip()
        if not is_plausible_address(address):
            continue
        key = normalize_address(address)
        if key in seen:
            continue
        seen.add(key)
        found.append(Address(name=_clean_name(raw_name, decode), address=address))
    if found:
        return found
    for match in _ADDR_SPEC.finditer(text):
        address = match.group(0).strip(".")
        key = normalize_address(address)
        if is_plausible_address(address) and key not in seen:
            seen.add(key)
            found.append(Address(name="", address=address))
    return found


def _semicolons_to_commas(value: str) -> str:
    out: list[str] = []
    quoted = False
    escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            ch = ","
        out.append(ch)
    return "".join(out)


def _clean_name(raw_name: str, decode: Callable[[str], str]) -> str:
    try:
        name = decode(raw_name)
    except Exception:  # a decoder is supplied by the caller; a broken name must not lose the address
        name = raw_name
    name = " ".join(name.split()).strip().strip("'\"").strip()
    return sanitize_header_value(name, max_length=200)


# C0/C1 controls, DEL, and the Unicode line/paragraph separators that some header writers treat as line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def sanitize_header_value(value: str, *, max_length: int = MAX_HEADER_VALUE) -> str:
    """A value safe for any outgoing header: no CR, LF or other control characters, runs of whitespace collapsed,
    at most ``max_length`` characters (cut at a word boundary when one is near). Folding long lines is left to
    the mail library that writes the message, which folds with CRLF + space as RFC 5322 allows; what we
    guarantee here is that nothing from outside can end a header line early."""
    if not value:
        return ""
    text = _CONTROL.sub(" ", value)
    # Python's str.splitlines() also breaks on \x1c-\x1e and \x85, all caught above; collapse what remains.
    text = " ".join(text.split())
    if len(text) > max_length:
        cut = text[:max_length]
        space = cut.rfind(" ")
        text = (cut[:space] if space > max_length * 0.8 else cut).rstrip()
    return text


def format_address(address: Address) -> str:
    """``Name <addr>`` for an outgoing header, with the name sanitized and RFC 2047-encoded when needed.
    An implausible addr-spec gives "" rather than something an MTA might misread."""
    addr = address.address.strip().strip("<>").strip()
    if not is_plausible_address(addr):
        return ""
    name = sanitize_header_value(address.name, max_length=200)
    try:
        formatted = email.utils.formataddr((name, addr))
    except Exception:  # formataddr raises on a non-ASCII local part; the bare address is still usable
        formatted = addr
    return sanitize_header_value(formatted)
