"""The articles the widget offers: one call into the knowledge base's ranking, the same one that serves the help
center's search, the portal's live suggestions and the agents' article finder."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from deskloop.knowledge.models import ArticleState, ArticleTranslation, ArticleVisibility

SUGGESTIONS_SHOWN = 3
SEARCH_RESULTS = 8
QUERY_MAX = 300


@dataclass(frozen=True)
class Answer:
    article_id: int
    title: str


def find_answers(*, workspace_id: int, query: str, locale: str, limit: int) -> list[Answer]:
    """Public articles that answer ``query`` in the visitor's language, best first; [] when nothing does."""
    words = query.split()[:8]
    if not words:
        return []
    # Until the knowledge base's ranking (suggest_articles) is merged: every word in the title or body.
    matching = Q()
    for word in words:
        matching &= Q(title__icontains=word) | Q(body_text__icontains=word)
    found = ArticleTranslation.objects.filter(
        matching,
        workspace_id=workspace_id,
        locale=locale,
        state=ArticleState.PUBLISHED,
        article__visibility=ArticleVisibility.PUBLIC,
    ).values_list("article_id", "title")[:limit]
    return [Answer(article_id=article_id, title=title) for article_id, title in found]
