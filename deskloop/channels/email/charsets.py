"""Bytes of unknown charset -> text, the way real mail needs it. Never raises.

Declared labels go through ``CHARSET_ALIASES`` (junk labels, typos, and the supersets senders actually write),
then UTF-8, then (for undeclared or mislabelled 8-bit text) charset-normalizer's guess among ``DETECTABLE``, then
Windows-1252, then Latin-1 (which cannot fail). Bodies (``mime_walk``) and headers
(``header_text``) use this one table, so a charset is read the same wherever it appears; every fallback taken is
a ``CharsetDecision`` the parsed message lists.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

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
        return self.used not in codecs_for(self.declared)


def normalize_label(label: str) -> str:
    return (label or "").strip().strip("\"'").strip().lower()


def codecs_for(label: str) -> tuple[str, ...]:
    """The codecs to try for a declared charset label, before the generic fallbacks."""
    key = normalize_label(label)
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
    for codec in (*codecs_for(declared), "utf-8", *codecs_for(hint)):
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
    # Windows-1252 mojibake: accept the declared (or hinted) charset when only a few bytes fail. Not ASCII: a part
    # labelled us-ascii with 8-bit bytes is mislabelled, and its few accented letters must not become U+FFFD.
    for codec in (*codecs_for(declared)[:1], *codecs_for(hint)[:1]):
        if codec == "ascii":
            continue
        text = _mostly(data, codec)
        if text is not None:
            return text, f"{codec}+replace"
    detected = _detect(data)
    if detected is not None:
        return detected
    for codec in _FALLBACKS[1:]:
        try:
            return data.decode(codec), codec
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
    return data.decode("latin-1"), "latin-1"


# Undeclared or mislabelled 8-bit text that is not UTF-8 is given to charset-normalizer before the Windows-1252
# fallback, limited to the charsets mail in other scripts really uses plus Windows-1252 itself: among Latin
# code pages (1250, 1254, 1257 ...) the detector confuses German with Baltic, while Windows-1252 was right.
DETECTABLE = (
    "cp1252",
    "koi8_r",
    "koi8_u",
    "cp1251",
    "iso8859_5",
    "mac_cyrillic",
    "cp874",
    "cp1253",
    "cp1255",
    "cp1256",
    "gb18030",
    "big5",
    "cp932",
    "euc_jp",
    "cp949",
)
# The detector's cost grows with its input and the candidates it tries: it sees at most this many bytes.
DETECT_SAMPLE_BYTES = 16 * 1024
# With fewer 8-bit bytes than this the guess is noise (six KOI8-R letters "look like" Big5); Windows-1252 decides.
DETECT_MIN_8BIT = 8


def _detect(data: bytes) -> tuple[str, str] | None:
    sample = data[:DETECT_SAMPLE_BYTES]
    if sum(1 for byte in sample if byte > 0x7F) < DETECT_MIN_8BIT:
        return None
    try:
        matches = charset_normalizer.from_bytes(sample, cp_isolation=list(DETECTABLE))
    except Exception:  # a third-party detector must never cost a customer's text; Windows-1252 takes over
        return None
    best = matches.best()
    if best is None:
        return None
    codec = best.encoding
    # Windows-1252 wins a near tie: it is what undeclared Western mail is, and what we used before detection.
    if any(m.encoding == "cp1252" and m.chaos <= best.chaos + 0.05 for m in matches):
        codec = "cp1252"
    text = _mostly(data, codec)
    return (text, codec) if text is not None else None


def _mostly(data: bytes, codec: str) -> str | None:
    """``data`` in ``codec`` when at most a few bytes (1%) do not fit; None otherwise."""
    try:
        text = data.decode(codec, "replace")
    except (LookupError, ValueError):
        return None
    return text if text.count("\ufffd") <= max(2, len(text) // 100) else None


def _utf8_cut_at_end(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        if exc.reason == "unexpected end of data" and not head.isascii() and len(data) - exc.start < 4:
            return head.decode("utf-8") + "\ufffd"
    return None


def to_bytes(text: str) -> bytes:
    # The parser keeps undeclared 8-bit header bytes as surrogate escapes; other non-ASCII comes from callers.
    return text.encode("utf-8", "surrogateescape")
