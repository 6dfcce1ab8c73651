"""HTML from outside (email bodies, API input, pasted replies) is cleaned here before it is stored or shown.

nh3 (ammonia) parses with html5ever and keeps only an allow-list, so script, event handlers, style
attributes (CSS expressions), SVG/MathML and javascript:/data: URLs cannot survive. Remote images are kept
but rewritten to ``data-remote-src`` so the browser does not fetch them (tracking pixels) until an agent
chooses to load them.

Cleaning has a bounded cost (``core.html_budget``): HTML that is too long or nests too deep is never handed to the
parser; its text is shown instead, and ``clean_html`` says why (``Message.html_fallback_reason``).
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

import nh3

from deskloop.core.html_budget import TOO_DEEP, TOO_LARGE, fallback_text, html_problem

__all__ = ["TOO_DEEP", "TOO_LARGE", "CleanHtml", "clean_html", "html_to_text", "sanitize_html", "text_to_html"]

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "data-remote-src"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "cid", "tel"}

# What may follow an own image path: an id and a slash, nothing a browser could resolve elsewhere ("%2e%2e/").
_OWN_IMAGE_ID = re.compile(r"[0-9a-f-]{1,64}/")
_REMOTE_IMG = re.compile(r'<img([^>]*?)\ssrc="(https?://[^"]*)"', re.IGNORECASE)


def _image_source(tag: str, attribute: str, value: str, own_image_paths: tuple[str, ...] = ()) -> str | None:
    """Which image URLs may stay: an inline part (``cid:``) or a remote http(s) image, which sanitize_html then
    holds back until an agent asks. A protocol-relative ``//host/x.gif`` is a remote image too (it would load at
    once, the tracking pixel the blocking is for). A relative src is dropped: it would fetch one of our own pages
    with the agent's session as soon as the message is shown. ``data-remote-src`` is our own attribute and is only
    kept when it holds an http(s) URL (HTML is sanitized again on its way into a message). ``own_image_paths``:
    path prefixes of our own image routes a caller allows as a relative src (article images, which are served
    only to those who may read the article)."""
    if tag != "img" or attribute not in ("src", "data-remote-src"):
        return value
    url = value.strip()
    if attribute == "src" and any(
        url.startswith(p) and _OWN_IMAGE_ID.fullmatch(url[len(p) :]) for p in own_image_paths
    ):
        return url
    if url.startswith("//"):
        url = "https:" + url
    lowered = url.lower()
    if lowered.startswith(("http://", "https://")) or (attribute == "src" and lowered.startswith("cid:")):
        return url
    return None


@dataclass(frozen=True)
class CleanHtml:
    html: str  # safe to store and show
    fallback_reason: str  # "" when ``html`` is the cleaned original, else why it is the text only (TOO_DEEP ...)


def clean_html(
    raw: str, *, block_remote_images: bool = True, fallback: str | None = None, own_image_paths: tuple[str, ...] = ()
) -> CleanHtml:
    """HTML that is safe to store and to render inside an agent's page, at a cost linear in ``raw``'s length.
    ``fallback``: the text to show when ``raw`` is over the budget (an email's text part); by default the text
    read from ``raw`` itself."""
    if not raw:
        return CleanHtml("", "")
    problem = html_problem(raw)
    if problem:
        text = fallback if fallback is not None and fallback.strip() else fallback_text(raw)
        return CleanHtml(text_to_html(text.strip()), problem)
    return CleanHtml(_clean(raw, block_remote_images=block_remote_images, own_image_paths=own_image_paths), "")


def sanitize_html(raw: str, *, block_remote_images: bool = True, own_image_paths: tuple[str, ...] = ()) -> str:
    """Return HTML that is safe to store and to render inside an agent's page (its text when over the budget)."""
    return clean_html(raw, block_remote_images=block_remote_images, own_image_paths=own_image_paths).html


def _clean(raw: str, *, block_remote_images: bool, own_image_paths: tuple[str, ...] = ()) -> str:
    cleaned = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        attribute_filter=(
            (lambda tag, attribute, value: _image_source(tag, attribute, value, own_image_paths))
            if own_image_paths
            else _image_source
        ),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    if block_remote_images:
        # Runs on nh3's normalized output, where attributes are always double-quoted.
        cleaned = _REMOTE_IMG.sub(r'<img\1 data-remote-src="\2"', cleaned)
    return cleaned


_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote|/pre)\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(raw: str) -> str:
    """A readable plain-text version of an HTML body (for HTML-only mail, search and notifications)."""
    if not raw:
        return ""
    if html_problem(raw):
        return fallback_text(raw)
    without_hidden = nh3.clean(raw, tags=ALLOWED_TAGS - {"img"}, attributes={}, strip_comments=True)
    with_breaks = _BLOCK_TAGS.sub("\n", without_hidden)
    text = html_lib.unescape(_ANY_TAG.sub("", with_breaks))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def text_to_html(text: str) -> str:
    """Escape plain text and keep its line breaks, for messages that arrive without HTML."""
    escaped = html_lib.escape(text)
    paragraphs = [p.replace("\n", "<br>") for p in escaped.split("\n\n")]
    return "".join(f"<p>{p}</p>" for p in paragraphs if p.strip())
