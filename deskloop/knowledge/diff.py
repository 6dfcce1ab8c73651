"""Line diffs between two versions of an article's text, for the revision history. Plain text lines (the body's
readable text, with the title as the first line), so the diff reads like the article and markup changes do not
drown it; the template escapes every line."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from deskloop.core.html import html_to_text


@dataclass(frozen=True)
class DiffLine:
    # "same", "removed" (only in the older version) or "added" (only in the newer one).
    kind: str
    text: str


def article_lines(title: str, body_html: str) -> list[str]:
    return [title, "", *html_to_text(body_html).splitlines()]


def diff_lines(older: list[str], newer: list[str]) -> list[DiffLine]:
    lines: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=older, b=newer, autojunk=False).get_opcodes():
        if tag == "equal":
            lines.extend(DiffLine("same", text) for text in older[i1:i2])
            continue
        lines.extend(DiffLine("removed", text) for text in older[i1:i2])
        lines.extend(DiffLine("added", text) for text in newer[j1:j2])
    return lines
