"""Importing articles from JSON Lines (``manage.py import_articles``): one object per line.

    {"id": "kb-17", "title": "Reset your password", "body": "...", "locale": "en", "category": "Account",
     "product_area": "Security/Sign-in", "tags": ["password"], "visibility": "public", "format": "markdown"}

``id``, ``title`` and ``body`` are required; ``locale`` defaults to the workspace's language; ``format`` (text,
html or markdown) is detected from the body when absent. ``id`` becomes the article's ``external_id``: a line
whose id exists updates that article (its metadata, and its version in ``locale``), so running a file again
changes nothing and a file of translations adds languages to existing articles. Each line is written in its own
transaction through the article services (the one write path: sanitized, a revision, embedded after commit),
so a failing line leaves nothing behind and the others go on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import transaction
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from deskloop.accounts.models import Workspace
from deskloop.core.errors import DomainError, ValidationFailed
from deskloop.core.html import text_to_html
from deskloop.knowledge.models import Article, ArticleVisibility
from deskloop.knowledge.services.articles import ArticleAbout, create_article, save_translation, update_article
from deskloop.knowledge.services.categories import category_named
from deskloop.tickets.services.imports import find_or_create_product_area

Outcome = Literal["created", "updated", "unchanged", "failed"]
BodyFormat = Literal["text", "html", "markdown"]
# A line longer than this is not an article someone wrote (services.articles.BODY_MAX bounds the body itself).
LINE_MAX_CHARS = 2_000_000

# Block-level or link markup: "<del>" quoted inside a sentence about HTML does not make a body HTML.
_HTML = re.compile(r"<(p|div|br|ul|ol|li|h[1-6]|table|blockquote|pre|a\s+href)\b[^>]*>", re.IGNORECASE)
# Line-level Markdown (headings, lists, fences, quotes) or inline links, emphasis and code.
_MARKDOWN_LINE = re.compile(r"^(#{1,6}\s|\s*[-*+]\s+\S|\s*\d+[.)]\s+\S|```|>\s)", re.MULTILINE)
_MARKDOWN_INLINE = re.compile(r"\[[^\]\n]+\]\([^)\s]+\)|\*\*[^*\n]+\*\*|`[^`\n]+`")
# Raw HTML inside Markdown is shown as text, not passed through: the sanitizer would clean it anyway.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def detect_format(body: str) -> BodyFormat:
    if _HTML.search(body):
        return "html"
    if _MARKDOWN_LINE.search(body) or _MARKDOWN_INLINE.search(body):
        return "markdown"
    return "text"


def body_to_html(body: str, body_format: BodyFormat) -> str:
    """HTML for the article services (which sanitize it, whatever it came from)."""
    if body_format == "markdown":
        return str(_markdown.render(body))
    if body_format == "text":
        return text_to_html(body)
    return body


@dataclass(frozen=True)
class LineResult:
    line: int
    external_id: str
    outcome: Outcome
    message: str = ""


@dataclass
class ImportSummary:
    results: list[LineResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


def _text_field(values: dict[str, Any], name: str, *, required: bool) -> str:
    value = values.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(_("“%(field)s” is missing.") % {"field": name}, field=name)
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and name == "id":
        return str(value)
    if not isinstance(value, str):
        raise ValidationFailed(_("“%(field)s” must be a string.") % {"field": name}, field=name)
    return value.strip() if name != "body" else value


def _tags(values: dict[str, Any]) -> list[str]:
    tags = values.get("tags") or []
    if isinstance(tags, str):
        tags = [t for t in tags.split(",") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValidationFailed(_("“tags” must be a list of strings."), field="tags")
    return [t.strip() for t in tags]


def _format_of(values: dict[str, Any], body: str) -> BodyFormat:
    given = values.get("format")
    if given is None:
        return detect_format(body)
    if given not in ("text", "html", "markdown"):
        raise ValidationFailed(_("“format” must be text, html or markdown."), field="format")
    return given  # type: ignore[no-any-return]


def import_line(*, workspace: Workspace, values: Any, publish: bool) -> Outcome:
    """Create or update one article from one parsed line; raises DomainError (nothing written) when it is wrong."""
    if not isinstance(values, dict):
        raise ValidationFailed(_("A line must be a JSON object."))
    external_id = _text_field(values, "id", required=True)
    title = _text_field(values, "title", required=True)
    body = _text_field(values, "body", required=True)
    locale = _text_field(values, "locale", required=False) or workspace.default_language
    visibility = _text_field(values, "visibility", required=False) or ArticleVisibility.PUBLIC
    category_name = _text_field(values, "category", required=False)
    area_path = _text_field(values, "product_area", required=False)
    tags = _tags(values)
    body_html = body_to_html(body, _format_of(values, body))
    with transaction.atomic():
        category = category_named(actor=None, workspace=workspace, name=category_name) if category_name else None
        area = find_or_create_product_area(workspace=workspace, path=area_path) if area_path else None
        article = Article.objects.filter(workspace=workspace, external_id=external_id).first()
        if article is None:
            create_article(
                actor=None,
                workspace=workspace,
                locale=locale,
                title=title,
                body_html=body_html,
                publish=publish,
                note="import",
                about=ArticleAbout(
                    category=category,
                    visibility=visibility,
                    product_area=area,
                    tags=tuple(tags),
                    external_id=external_id,
                ),
            )
            return "created"
        meta_changed = (article.category_id, article.visibility, article.product_area_id) != (
            category.pk if category else None,
            visibility,
            area.pk if area else None,
        ) or sorted(t.lower() for t in article.tags.values_list("name", flat=True)) != sorted(t.lower() for t in tags)
        if meta_changed:
            update_article(
                actor=None,
                article=article,
                about=ArticleAbout(
                    category=category,
                    visibility=visibility,
                    product_area=area,
                    tags=tuple(tags),
                    external_id=external_id,
                ),
            )
        # A draft import (--draft) adds and changes text without taking published versions offline.
        saved = save_translation(
            actor=None,
            article=article,
            locale=locale,
            title=title,
            body_html=body_html,
            publish=True if publish else None,
            note="import",
        )
        return "updated" if meta_changed or saved.changed else "unchanged"


def import_articles(
    *,
    workspace: Workspace,
    lines: Iterable[str],
    publish: bool = True,
    on_result: Callable[[LineResult], None] | None = None,
) -> ImportSummary:
    """Import every non-blank line; a line that fails is reported (line number and message) and skipped."""
    summary = ImportSummary()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        external_id = ""
        try:
            if len(line) > LINE_MAX_CHARS:
                raise ValidationFailed(_("The line is longer than %(max)d characters.") % {"max": LINE_MAX_CHARS})
            try:
                values = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValidationFailed(_("Not valid JSON: %(error)s") % {"error": exc.msg}) from exc
            if isinstance(values, dict) and isinstance(values.get("id"), (str, int)):
                external_id = str(values["id"])
            result = LineResult(number, external_id, import_line(workspace=workspace, values=values, publish=publish))
        except DomainError as exc:
            result = LineResult(number, external_id, "failed", exc.message)
        summary.results.append(result)
        if on_result is not None:
            on_result(result)
    return summary
