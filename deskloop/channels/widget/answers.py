"""The articles the widget offers: one call into the knowledge base's ranking (``suggest_articles``), the same one
that serves the help center's search, the portal's live suggestions and the agents' article finder."""

from __future__ import annotations

from dataclasses import dataclass

from deskloop.knowledge.suggestions import QUERY_MAX_CHARS, suggest_articles

SUGGESTIONS_SHOWN = 3
SEARCH_RESULTS = 8
QUERY_MAX = QUERY_MAX_CHARS


@dataclass(frozen=True)
class Answer:
    article_id: int
    title: str


def find_answers(*, workspace_id: int, query: str, locale: str, limit: int) -> list[Answer]:
    """Public articles that answer ``query`` in the visitor's language, best first; [] when none is a good answer
    (the ranking abstains rather than offer something unrelated)."""
    found = suggest_articles(workspace_id=workspace_id, query=query, locale=locale, limit=limit, audience="public")
    return [Answer(article_id=suggestion.article_id, title=suggestion.title) for suggestion in found]
