"""Help-center search: which readable articles answer a visitor's words, best first.

Ranked by the knowledge base's one ranker (``suggestions.suggest_articles``, the same that serves the portal's and
widget's suggestions and the agents' article finder), so a search and a suggestion never disagree; it abstains
(no result) when nothing is a good answer. The ids are read again through ``queries.readable`` in the page's
language, so nothing unpublished, internal or in another language shows.
"""

from __future__ import annotations

from deskloop.knowledge.helpcenter import queries
from deskloop.knowledge.suggestions import QUERY_MAX_CHARS, suggest_articles

RESULTS_MAX = 20
# What the ranker reads of a query; a longer one is refused with a message rather than cut silently.
QUERY_MAX = min(300, QUERY_MAX_CHARS)


def search_articles(
    *, workspace_id: int, query: str, locale: str, limit: int = RESULTS_MAX
) -> list[queries.ArticleLink]:
    ranked = suggest_articles(workspace_id=workspace_id, query=query, locale=locale, limit=limit, audience="public")
    return queries.articles_in_order(
        workspace_id, locale, [found.article_id for found in ranked if found.locale == locale]
    )
