"""How much work a piece of outside HTML may cost, decided in one linear pass before any parser builds a tree.

Building a tree of HTML (html5ever inside nh3, and any browser) checks "is an element of this name in scope" by
walking the stack of open elements, so the cost of a document grows with (number of tags) x (nesting depth): 100,000
nested ``<div>`` took tens of seconds of CPU (issue #9, BENCHMARKS.md "Hostile HTML"). ``html_problem`` answers
in one pass, without building anything, whether a document is too long or nests too deep; over the limit callers
show ``fallback_text`` instead, which is linear too.

The pass is a tokenizer following the HTML5 states that decide what is a tag (comments, quoted attribute values,
raw-text elements), with a rough model of the tree builder. Wherever the model cannot be sure a close tag really
closes something (inside ``<script>``, ``<![CDATA[``, across table cells, ``<svg>``, lists or buttons) it does not
count the close, so the depth it reports is never far below what a real parser reaches: elements whose end tag is
optional (``p``, ``li``, ``tr`` ...) are not counted, and they at most double the real depth, which the limit
allows for.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

# Real mail nests a few dozen levels (newsletters built of tables in tables: ~60); the limit leaves room for the
# uncounted optional-end elements and keeps the worst case of html5ever's scope walks at a fraction of a second.
MAX_HTML_DEPTH = 256
# A 2 MB HTML body is already far beyond any real message body; nh3 cleans flat HTML of that size in well under a
# second, and beyond it only the text is worth keeping.
MAX_HTML_CHARS = 2_000_000

TOO_LARGE = "too_large"
TOO_DEEP = "too_deep"

_VOID = frozenset(
    [
        "area",
        "base",
        "basefont",
        "bgsound",
        "br",
        "col",
        "embed",
        "frame",
        "hr",
        "image",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
# End tag optional: a new one closes the previous one, so they never stack by themselves (html/head/body merge).
_NOT_NESTING = frozenset(
    [
        "html",
        "head",
        "body",
        "p",
        "li",
        "dt",
        "dd",
        "option",
        "optgroup",
        "tr",
        "tbody",
        "thead",
        "tfoot",
        "colgroup",
        "rb",
        "rt",
        "rp",
        "rtc",
    ]
)
# Elements that limit which close tags reach past them (the "scopes" of the HTML5 tree builder, and foreign content).
_BOUNDARIES = frozenset(
    [
        "table",
        "td",
        "th",
        "caption",
        "template",
        "applet",
        "marquee",
        "object",
        "svg",
        "math",
        "button",
        "ol",
        "ul",
        "select",
        "foreignobject",
    ]
)
_CELLS = frozenset(("td", "th", "caption"))
_TABLE_PARTS = frozenset(("table", "tr", "tbody", "thead", "tfoot"))
# Their content is text up to their own end tag (script and plaintext are special, see _raw_text).
_RAW_TEXT = frozenset(
    ["script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "title", "textarea", "plaintext"]
)
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
_HIDDEN = frozenset(("script", "style", "title", "noscript"))  # raw text: their content ends at their end tag

_TAG_NAME = re.compile(r"[A-Za-z][^\t\n\f\r />]*")
_SPACES = re.compile(r"[\t\n\f\r ]*")
_ATTRIBUTE_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r />=]*")
_UNQUOTED_VALUE = re.compile(r"[^\t\n\f\r >]*")
_OPENS = re.compile(r"<[A-Za-z]")


@dataclass(frozen=True)
class Tag:
    """One start or end tag as an HTML5 tokenizer sees it. ``attributes``: lower-cased names, first one wins."""

    name: str
    end: bool
    start: int  # offset of its "<" in the document
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    start: int
    stop: int


@dataclass(frozen=True)
class RawText:
    """The content of a raw-text element (``script``, ``style`` ...): text to a tokenizer, markup in foreign
    content (``<svg><style>``), so neither its opens nor its closes can be trusted."""

    start: int
    stop: int
    element: str


Token = Tag | Text | RawText


def _attributes(document: str, position: int) -> tuple[dict[str, str], int] | None:
    """Read attributes from ``position`` up to the tag's ">" (HTML5 "before attribute name" to "after attribute
    value"). Returns them and the offset after ">", or None when the document ends inside the tag (the tag is
    dropped, as a parser drops it). Every step consumes input, so this is linear in the tag's length."""
    attributes: dict[str, str] = {}
    length = len(document)
    while True:
        position = _SPACES.match(document, position).end()  # type: ignore[union-attr]
        if position >= length:
            return None
        char = document[position]
        if char == ">":
            return attributes, position + 1
        if char == "/":
            position += 1
            continue
        name_match = _ATTRIBUTE_NAME.match(document, position)
        assert name_match is not None  # any other character starts a name
        name = name_match.group().lower()
        position = _SPACES.match(document, name_match.end()).end()  # type: ignore[union-attr]
        value = ""
        if position < length and document[position] == "=":
            position = _SPACES.match(document, position + 1).end()  # type: ignore[union-attr]
            if position >= length:
                return None
            quote = document[position]
            if quote in "\"'":
                closing = document.find(quote, position + 1)
                if closing < 0:
                    return None
                value = document[position + 1 : closing]
                position = closing + 1
            else:
                value_match = _UNQUOTED_VALUE.match(document, position)
                assert value_match is not None
                value = value_match.group()
                position = value_match.end()
        attributes.setdefault(name, html_lib.unescape(value))


def _markup_declaration(document: str, position: int) -> int:
    """``position`` is at "<!": the offset after the comment, doctype or CDATA section that starts there."""
    if document.startswith("<!--", position):
        body = position + 4
        if document.startswith(">", body):
            return body + 1
        if document.startswith("->", body):
            return body + 2
        ends = [found for found in (document.find("-->", body), document.find("--!>", body)) if found >= 0]
        if not ends:
            return len(document)
        end = min(ends)
        return end + (3 if document.startswith("-->", end) else 4)
    closing = document.find(">", position)
    return len(document) if closing < 0 else closing + 1


def tokens(document: str) -> Iterator[Token]:
    """The tags and text of ``document`` in order, in one linear pass."""
    position = 0
    length = len(document)
    while position < length:
        opening = document.find("<", position)
        if opening < 0:
            yield Text(position, length)
            return
        if opening > position:
            yield Text(position, opening)
        following = document[opening + 1 : opening + 2]
        if following == "!":
            if document.startswith("<![CDATA[", opening):
                # A CDATA section in SVG/MathML, a bogus comment elsewhere: trust nothing in it.
                closing = document.find("]]>", opening)
                stop = length if closing < 0 else closing + 3
                yield RawText(opening, stop, "cdata")
                position = stop
            else:
                position = _markup_declaration(document, opening)
            continue
        end = following == "/"
        name_match = _TAG_NAME.match(document, opening + (2 if end else 1))
        if name_match is None:
            if end or following == "?":  # "</>" or "</3" or "<?xml": bogus comments up to ">"
                closing = document.find(">", opening)
                position = length if closing < 0 else closing + 1
            else:  # a "<" that starts no tag is text
                yield Text(opening, opening + 1)
                position = opening + 1
            continue
        read = _attributes(document, name_match.end())
        if read is None:
            return
        attributes, position = read
        name = name_match.group().lower()
        yield Tag(name, end, opening, attributes)
        if not end and name in _RAW_TEXT:
            position = yield from _raw_text(document, position, name)


def _raw_text(document: str, position: int, element: str) -> Generator[Token, None, int]:
    """Yield the content of raw-text ``element`` from ``position``; return where its end tag starts."""
    if element == "plaintext":
        yield RawText(position, len(document), element)
        return len(document)
    closing = re.compile(rf"</{element}[\t\n\f\r />]", re.IGNORECASE).search(document, position)
    stop = len(document) if closing is None else closing.start()
    yield RawText(position, stop, element)
    return stop


@dataclass
class _Frame:
    boundary: str
    open_by_name: dict[str, int] = field(default_factory=dict)
    size: int = 1  # the boundary element itself and everything counted inside it


class _Depth:
    """The rough tree-builder model: how deep the open elements are, erring towards deeper."""

    def __init__(self) -> None:
        self.frames = [_Frame("#document", size=0)]
        self.depth = 0
        self.trust_closes = True

    def _pop(self) -> None:
        self.depth -= self.frames.pop().size

    def _pop_cells(self) -> None:
        while len(self.frames) > 1 and self.frames[-1].boundary in _CELLS:
            self._pop()

    def _add(self, name: str, count: int = 1) -> None:
        top = self.frames[-1]
        top.open_by_name[name] = top.open_by_name.get(name, 0) + count
        top.size += count
        self.depth += count

    def start(self, name: str) -> None:
        if name in ("td", "th", "tr", "tbody", "thead", "tfoot") and self.frames[-1].boundary in ("td", "th"):
            self._pop()  # a new cell or row closes the open cell
        if name in _VOID or name in _NOT_NESTING:
            return
        if name in _BOUNDARIES:
            self.frames.append(_Frame(name))
            self.depth += 1
        else:
            self._add(name)

    def end(self, name: str) -> None:
        if not self.trust_closes:
            return
        if name in _TABLE_PARTS:
            self._pop_cells()
        top = self.frames[-1]
        if name == top.boundary:
            self._pop()
        elif top.open_by_name.get(name):
            top.open_by_name[name] -= 1
            top.size -= 1
            self.depth -= 1

    def raw_text(self, document: str, token: RawText) -> None:
        # Markup inside may be real (foreign content): count every opening, never close them.
        self._add("#raw", len(_OPENS.findall(document, token.start, token.stop)))
        if token.element == "script" and "<!--" in document[token.start : token.stop]:
            # An escaped script can run past its "</script>" in a real parser: no close after it is trusted.
            self.trust_closes = False


def html_problem(document: str, *, max_depth: int = MAX_HTML_DEPTH, max_chars: int = MAX_HTML_CHARS) -> str:
    """ "" when ``document`` is safe to hand to an HTML parser, else why not (TOO_LARGE / TOO_DEEP). Stops at
    the first element past the limit."""
    if len(document) > max_chars:
        return TOO_LARGE
    model = _Depth()
    for token in tokens(document):
        if isinstance(token, Tag):
            if token.end:
                model.end(token.name)
            else:
                model.start(token.name)
                if model.depth > max_depth:
                    return TOO_DEEP
        elif isinstance(token, RawText):
            model.raw_text(document, token)
            if model.depth > max_depth:
                return TOO_DEEP
    return ""


_SPACE_RUNS = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def fallback_text(document: str) -> str:
    """The readable text of HTML no parser should build a tree of: its text with line breaks at block elements,
    without hidden content (scripts, styles, the head). Linear in the document's length."""
    pieces: list[str] = []
    hidden = 0
    for token in tokens(document):
        if isinstance(token, Text):
            if not hidden:
                pieces.append(document[token.start : token.stop])
        elif isinstance(token, Tag):
            if token.name in _HIDDEN:
                # A hidden element's content is skipped up to its end tag; unbalanced ends cannot unhide the rest.
                hidden = max(0, hidden - 1) if token.end else hidden + 1
            elif token.name in _BLOCKS:
                pieces.append("\n")
        elif token.element in ("textarea", "xmp", "plaintext", "noembed", "noframes", "iframe") and not hidden:
            pieces.append(document[token.start : token.stop])
    text = html_lib.unescape("".join(pieces)).replace("\r\n", "\n")
    lines = [_SPACE_RUNS.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
