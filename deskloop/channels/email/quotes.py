"""What is new in a reply: ``strip_reply`` splits a body into the visible reply, the quoted history and the
signature, for display. The full text is always kept by the caller; this only decides what to show first.

A quote starts at the first of (earliest line wins):
- our own "reply above this line" marker (``marker``),
- an attribution line in any of the languages below ("On ... wrote:", "Am ... schrieb ...:", "Le ... a écrit :",
  "El ... escribió:", "Op ... schreef ...:", "Il ... ha scritto:", "Em ... escreveu:", "... написал(а):",
  "Den ... skrev:", "... kirjoitti:", "... napisał(a):", Yandex/Mail.ru "date, "Name" <addr>:"), also when a
  client wrapped it over up to three lines,
- an "Original Message" separator in any language, or Outlook's underscore rule before a header block,
- an Outlook/Apple header block ("From:"/"Von:"/"De:"/"От:" ... followed by "Sent:"/"Date:"/"To:"/"Subject:"),
- a block of ``>`` lines after which nothing but quoted or blank lines follow (inline answers between quoted
  lines are the reply itself, so then the quoted lines stay).
A signature is what follows "-- " (RFC 3676) or a mobile client's "Sent from my ..." trailer.
With ``html``, the HTML is cut at the quote containers mail clients write (Gmail's gmail_quote, Apple's
blockquote type=cite, Outlook's divRplyFwdMsg/OLK_SRC_BODY_SECTION, Yahoo, Thunderbird's moz-cite-prefix ...)
before the text rules run on its readable text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deskloop.core.html import html_to_text
from deskloop.core.html_budget import Tag, tokens

__all__ = ["DEFAULT_MARKER", "StrippedReply", "strip_reply"]

DEFAULT_MARKER = "reply above this line"


@dataclass(frozen=True)
class StrippedReply:
    visible_text: str  # the new reply, without quoted history and signature
    quoted_text: str  # the quoted history ("" when none was found)
    signature: str  # the signature block ("" when none was found)


_WROTE = (
    r"(wrote|writes|escribió|escribio|a écrit|a ecrit|schrieb|schreef|ha scritto|escreveu|написал|написала|"
    r"написал\(а\)|пишет|skrev|kirjoitti|napisał|napisała|napisal|írta|skrifaði|yazdı|έγραψε|kirjutas|rakstīja|"
    r"parašė|napsal|napísal|scrise|написа|је написао|piše)"
)
# One attribution line (or several joined): starts with a locale's opening word, ends with a "wrote" verb
# followed by a colon, optionally with the sender in between.
_ATTRIBUTION = re.compile(
    rf"^\s*(>\s*)?(-{{2,}}\s*)?((on|am|le|el|op|il|em|den|dne|w dniu|в)\b.*)?{_WROTE}\b[^:\n]{{0,80}}:\s*(-{{2,}})?\s*$"
    rf"|^\s*(-{{2,}}\s*)?on\b.*\b{_WROTE}\s*(-{{2,}})?\s*$",
    re.IGNORECASE,
)
# Attributions in locales that put the date first ("Dnia 27 grudnia 2016 12:08 X <x@y> napisał(a):", Hungarian,
# Finnish): any text before the verb, as long as the line carries a date, a time or an address.
_ATTRIBUTION_ANY_PREFIX = re.compile(rf"^\s*(>\s*)?.*\b{_WROTE}\b[^:\n]{{0,80}}:\s*$", re.IGNORECASE)
_DATE_OR_ADDRESS = re.compile(r"\d{1,2}[:.]\d{2}|\b\d{4}\b|@|\d{1,2}/\d{1,2}/\d{2}")
_ATTRIBUTION_START = re.compile(r"^\s*(on|am|le|el|op|il|em|den|dne|w dniu|в)\s+\S", re.IGNORECASE)
# "2014-03-12 15:30 GMT+04:00 Name <addr>:", "12.03.2014, 15:30, "Name" <addr>:", "Пятница, 12 марта 2014,
# 15:30 +04:00 от Name <addr>:" — Gmail's and Russian webmails' attributions without a verb.
_DATED_ATTRIBUTION = re.compile(
    r"^\s*>?\s*.{0,150}(\b\d{4}\b|\d{1,2}:\d{2}).{0,150}(<[^<>\s]+@[^<>\s]+>|[^\s<>()]+@[^\s<>()]+)\s*\)?\s*:\s*$",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*[-_=*]{2,}\s*(original message|original e-?mail|ursprüngliche nachricht|originalnachricht|"
    r"mensaje original|message d'origine|message original|messaggio originale|oorspronkelijk bericht|"
    r"oprindelig meddelelse|opprinnelig melding|ursprungligt meddelande|alkuperäinen viesti|"
    r"исходное сообщение|оригинальное сообщение|mensagem original|wiadomość oryginalna|původní zpráva|"
    r"oprindelig besked|forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|"
    r"messaggio inoltrato|doorgestuurd bericht|пересылаемое сообщение|original message follows|reply message)"
    r"\s*[-_=*]{2,}\s*$"
    r"|^\s*(begin forwarded message|début du message réexpédié|anfang der weitergeleiteten nachricht)\s*:\s*$"
    r"|^\s*(-{3,}\s*)?(original message|ursprüngliche nachricht|исходное сообщение)\s*:?\s*(-{3,})?\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(
    r"^\s*[*>]?\s*\**(from|von|de|da|van|от|fra|från|lähettäjä|od|kimden|feladó|afzender|remetente|message du)"
    r"\s*:?\**\s*:(\s*\S|\s*$)",
    re.IGNORECASE,
)
_HEADER_OTHER = re.compile(
    r"^\s*[*>]?\s*\**(sent|date|to|subject|cc|gesendet|datum|an|betreff|envoyé|envoye|date d'envoi|à|a|objet|"
    r"enviado|enviado el|fecha|para|asunto|inviato|data|oggetto|verzonden|aan|onderwerp|отправлено|дата|кому|"
    r"тема|sendt|til|emne|skickat|ämne|till|lähetetty|vastaanottaja|aihe|wysłano|do|temat|assunto|reply-to|"
    r"sujet|copie à|de|dato)"
    r"\s*:?\**\s*:",
    re.IGNORECASE,
)
_UNDERSCORE_RULE = re.compile(r"^\s*_{20,}\s*$")
_QUOTED = re.compile(r"^\s*>")
# "-- " (RFC 3676), the "--" most clients actually send, and the em-dash rules some apps draw. Longer runs of
# hyphens ("----") are Markdown-style separators inside a message, not signatures.
_SIGNATURE_DASHES = re.compile(r"^(-- ?|--|—+|–+)\s*$")
_SEPARATOR_ONLY = re.compile(r"^\s*[-_=*—–]{2,}\s*$")
# A mailing-list footer: a rule, then "<list> mailing list" (Mailman) within the next lines.
_LIST_FOOTER_RULE = re.compile(r"^\s*_{2,}\s*$")
_LIST_FOOTER_TEXT = re.compile(r"mailing list|listinfo|unsubscribe", re.IGNORECASE)
_MOBILE_TRAILER = re.compile(
    r"^\s*(-{1,2}\s*)?(sent (from|via|with) (my )?[\w .'-]{0,40}|sent from (yahoo mail|mail for windows|outlook|my mobile).*|"
    r"get outlook for \w+.*|von meinem [\w .-]{0,30} gesendet|gesendet von [\w .-]{0,30}|"
    r"envoyé de mon [\w .-]{0,30}|envoyé (depuis|à partir de) [\w .-]{0,30}|enviado desde mi [\w .-]{0,30}|"
    r"enviado do meu [\w .-]{0,30}|inviato da( mio| il mio)? [\w .-]{0,30}|"
    r"verzonden (vanaf|met) (mijn )?[\w .-]{0,30}|sendt fra min [\w .-]{0,30}|skickat från min [\w .-]{0,30}|"
    r"lähetetty [\w .-]{0,30}|отправлено (с|из) [\w .-]{0,30})\s*(<[^<>\s]*>)?\s*$",
    re.IGNORECASE,
)
# Just above a quote, a short "Sent ..." line is a client's trailer even in wordings no list can foresee
# ("Sent a magnificent torch of pixels").
_TRAILER_ABOVE_QUOTE = re.compile(
    r"^\s*(sent|envoyé|gesendet|enviado|inviato|verzonden|sendt|skickat|отправлено)\b.{0,60}$", re.IGNORECASE
)

# HTML quote containers, by client: (tag names, attribute, pattern its value matches). Everything from that tag on
# is history. Tags are read by the linear tokenizer of core.html_budget and each attribute value is matched alone:
# one regular expression over the whole document ("<div[^>]*class=...") backtracked quadratically over a long tag.
_HTML_QUOTE_STARTS: tuple[tuple[frozenset[str], str, re.Pattern[str]], ...] = tuple(
    (frozenset(tags.split()), attribute, re.compile(pattern, re.IGNORECASE))
    for tags, attribute, pattern in (
        ("div", "class", r"\bgmail_quote\b"),  # Gmail
        ("blockquote", "type", r"^cite"),  # Apple Mail, Thunderbird
        ("div", "class", r"\bmoz-cite-prefix\b"),  # Thunderbird's attribution line
        ("div", "id", r"^divRplyFwdMsg"),  # Outlook on the web
        ("div span", "id", r"^OLK_SRC_BODY_SECTION"),  # Outlook for Mac
        ("div", "class", r"\byahoo_quoted\b"),  # Yahoo
        ("hr", "id", r"^stopSpelling"),  # Hotmail / Windows Live
        ("div", "id", r"^appendonsend"),  # Outlook 365
        ("div", "style", r"border-top:\s*solid\s*#(b5c4df|e1e1e1)"),  # Outlook desktop header rule
        ("blockquote", "class", r"\b(gmail_quote|yandex|mailru)"),
    )
)


def strip_reply(text: str, html: str | None = None, *, marker: str = DEFAULT_MARKER) -> StrippedReply:
    """Split ``text`` (or, when given, ``html`` made readable) into reply, quoted history and signature."""
    body = text or ""
    if html:
        cut = _cut_html(html)
        if cut is not None:
            visible_html, quoted_html = cut
            visible = _strip_text(html_to_text(visible_html), marker)
            quoted = "\n\n".join(p for p in (visible.quoted_text, html_to_text(quoted_html)) if p)
            return StrippedReply(visible.visible_text, quoted, visible.signature)
        if not body.strip():
            body = html_to_text(html)
    return _strip_text(body, marker)


def _cut_html(html: str) -> tuple[str, str] | None:
    for token in tokens(html):
        if isinstance(token, Tag) and not token.end and _starts_quote(token):
            return html[: token.start], html[token.start :]
    return None


def _starts_quote(tag: Tag) -> bool:
    for names, attribute, pattern in _HTML_QUOTE_STARTS:
        if tag.name in names and attribute in tag.attributes and pattern.search(tag.attributes[attribute]):
            return True
    return False


def _strip_text(text: str, marker: str) -> StrippedReply:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start, kind = _quote_start(lines, marker)
    if kind == "attribution":
        inline = _inline_reply(lines, start)
        if inline is not None:
            visible_lines, quoted_lines = inline
            visible_lines, signature = _split_signature(visible_lines)
            return StrippedReply(_tidy("\n".join(visible_lines)), _tidy("\n".join(quoted_lines)), signature.strip())
    visible_lines = lines[:start]
    quoted = "\n".join(lines[start:]).strip("\n")
    visible_lines, signature = _split_signature(visible_lines, quote_follows=kind in ("attribution", "separator"))
    return StrippedReply(
        visible_text=_tidy("\n".join(visible_lines)),
        quoted_text=quoted.strip(),
        signature=signature.strip(),
    )


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    # A rule drawn above the quote ("----", "====") belongs to neither the reply nor the history.
    while lines and (not lines[-1].strip() or _SEPARATOR_ONLY.match(lines[-1])):
        lines.pop()
    return "\n".join(lines).strip("\n")


def _quote_start(lines: list[str], marker: str) -> tuple[int, str]:
    """(index where the quoted history starts, what started it); (len(lines), "") when nothing is quoted."""
    marker_lower = marker.strip().lower()
    unquoted_after = _next_unquoted(lines)
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        lower = stripped.lower()
        if marker_lower and marker_lower in lower:
            return _back_over_rule(lines, index), "marker"
        if _ORIGINAL_MESSAGE.match(stripped):
            return index, "separator"
        attribution = _attribution_at(lines, index)
        if attribution is not None:
            return attribution, "attribution"
        if _UNDERSCORE_RULE.match(stripped) and _header_block_at(lines, _next_nonblank(lines, index + 1)):
            return index, "separator"
        if _header_block_at(lines, index):
            return index, "headers"
        if _QUOTED.match(line) and _only_quotes_follow(lines, unquoted_after[index]):
            return index, "quote"
        if _LIST_FOOTER_RULE.match(stripped) and any(
            _LIST_FOOTER_TEXT.search(following) for following in lines[index + 1 : index + 4]
        ):
            return index, "list footer"
        if _MOBILE_TRAILER.match(stripped) and _next_nonblank(lines, index + 1) < len(lines):
            # Mobile clients put their trailer between the reply and the (often unmarked) history.
            return index + 1, "trailer"
        if _TRAILER_ABOVE_QUOTE.match(stripped):
            following = _next_nonblank(lines, index + 1)
            if following < len(lines) and (
                _attribution_at(lines, following) is not None or _ORIGINAL_MESSAGE.match(lines[following].strip())
            ):
                return following, "attribution" if _attribution_at(lines, following) is not None else "separator"
    return len(lines), ""


def _is_continuation(lines: list[str], index: int) -> bool:
    """An unquoted line wedged between quoted lines: a quoted line the sender's client re-wrapped."""
    return 0 < index < len(lines) - 1 and bool(_QUOTED.match(lines[index - 1]) and _QUOTED.match(lines[index + 1]))


def _inline_reply(lines: list[str], attribution: int) -> tuple[list[str], list[str]] | None:
    """Replies written below the quote. Returns (visible, quoted) lines, or None for an ordinary top reply.

    One quoted block answered below it (bottom-posting): the answer is the reply and the quote is history.
    Several quoted blocks each answered (inline replies): the answers only make sense next to what they
    answer, so the reply is everything from the first quoted line to the last answer; only the attribution
    and the quoted tail after the last answer are history."""
    after = _next_nonblank(lines, attribution + 1)
    while after < len(lines) and not _QUOTED.match(lines[after]) and _attribution_continues(lines, attribution, after):
        after = _next_nonblank(lines, after + 1)
    if after >= len(lines) or not _QUOTED.match(lines[after]):
        return None
    answers: list[tuple[int, int]] = []  # (first, last) line of each answer: unquoted text after a quoted block
    index = after
    quote_since_answer = True
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        if _QUOTED.match(line) or _is_continuation(lines, index):
            quote_since_answer = True
            index += 1
            continue
        if _SIGNATURE_DASHES.match(line) or _MOBILE_TRAILER.match(line) or _LIST_FOOTER_RULE.match(line):
            break  # a signature below the quote is not an answer
        first = index
        while index < len(lines) and lines[index].strip() and not _QUOTED.match(lines[index]):
            index += 1
        if quote_since_answer or not answers:
            answers.append((first, index - 1))
        else:  # another paragraph of the same answer
            answers[-1] = (answers[-1][0], index - 1)
        quote_since_answer = False
    if not answers:
        return None
    head = lines[:attribution]
    last = answers[-1][1]
    if len(answers) == 1:
        first, _ = answers[0]
        return [*head, "", *lines[first : last + 1]], lines[attribution:first] + lines[last + 1 :]
    return [*head, *lines[after : last + 1]], lines[attribution:after] + lines[last + 1 :]


def _attribution_continues(lines: list[str], attribution: int, index: int) -> bool:
    # An attribution wrapped over several lines ("On ... Corey Donohoe" / "<reply@...>" / "wrote:").
    return (
        index - attribution <= 3
        and _attribution_at(lines, attribution) == attribution
        and not _QUOTED.match(lines[index])
        and bool(re.search(rf"{_WROTE}|@|>:\s*$", lines[index], re.IGNORECASE))
    )


def _back_over_rule(lines: list[str], index: int) -> int:
    # "##- Please type your reply above this line -##" is often drawn with a rule line just above it.
    if index > 0 and re.fullmatch(r"\s*[-=_#*]{3,}\s*", lines[index - 1]):
        return index - 1
    return index


def _next_nonblank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


_WROTE_AT_END = re.compile(rf"{_WROTE}$", re.IGNORECASE)


def _is_attribution(line: str) -> bool:
    # Every attribution pattern ends with a colon or (English "On ... wrote") the verb, before trailing spaces and
    # dashes. Checking that first spares the backtracking patterns nearly every line: quote stripping was the
    # costliest step of parsing a message before this (BENCHMARKS.md, "Design history").
    tail = line.rstrip().rstrip("-").rstrip()
    if not tail.endswith(":") and not _WROTE_AT_END.search(tail[-40:]):
        return False
    if _ATTRIBUTION.match(line) or _DATED_ATTRIBUTION.match(line):
        return True
    return bool(_ATTRIBUTION_ANY_PREFIX.match(line) and _DATE_OR_ADDRESS.search(line))


def _attribution_at(lines: list[str], index: int) -> int | None:
    """The index where an attribution starting at ``index`` begins, if one does (joined over up to 3 lines)."""
    line = lines[index].strip()
    if len(line) > 300:
        return None
    if _is_attribution(line):
        return index
    if _ATTRIBUTION_START.match(line) or _DATE_OR_ADDRESS.search(line):
        joined = line
        for extra in range(1, 4):
            if index + extra >= len(lines) or not lines[index + extra].strip():
                break
            following = lines[index + extra].strip()
            joined = f"{joined}{'' if following.startswith('>:') else ' '}{following}"
            if len(joined) < 400 and _is_attribution(joined):
                return index
    return None


def _header_block_at(lines: list[str], index: int) -> bool:
    """An Outlook-style header block: a From line, then at least two of Sent/Date/To/Subject/Cc lines."""
    if index >= len(lines) or not _HEADER_FROM.match(lines[index]):
        return False
    others = 0
    for line in lines[index + 1 : index + 8]:
        if not line.strip():
            continue
        if _HEADER_OTHER.match(line):
            others += 1
            if others >= 2:
                return True
        elif not line.startswith((" ", "\t")):
            # A wrapped From line (long name + address) may continue on the next line.
            continue
    return False


def _next_unquoted(lines: list[str]) -> list[int]:
    """For each line, the index of the first non-blank unquoted line after it (len(lines) when none). Computed once
    backwards: asking it anew for every quoted line was quadratic in a long quote."""
    following = [len(lines)] * (len(lines) + 1)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        following[index] = index if line.strip() and not _QUOTED.match(line) else following[index + 1]
    return following


def _only_quotes_follow(lines: list[str], unquoted: int) -> bool:
    """``unquoted``: the first unquoted non-blank line after a quoted one. Unquoted text after the quote is an inline
    answer, or a signature below a top quote."""
    if unquoted >= len(lines):
        return True
    first = lines[unquoted].strip()
    return bool(_SIGNATURE_DASHES.match(first) or _MOBILE_TRAILER.match(first))


def _split_signature(lines: list[str], *, quote_follows: bool = False) -> tuple[list[str], str]:
    # The last "-- " line wins over earlier ones only when it is close to the end; take the first dashes line
    # in the bottom part, since a signature itself rarely contains another delimiter.
    for index, line in enumerate(lines):
        if _SIGNATURE_DASHES.match(line) and index > 0 and len(lines) - index <= 15:
            return lines[:index], "\n".join(lines[index:])
    last = len(lines) - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    if last >= 0 and (
        _MOBILE_TRAILER.match(lines[last]) or (quote_follows and last > 0 and _TRAILER_ABOVE_QUOTE.match(lines[last]))
    ):
        return lines[:last], lines[last]
    return lines, ""
