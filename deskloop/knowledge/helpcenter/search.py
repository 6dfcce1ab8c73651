"""Help-center search: which readable articles answer a visitor's words, best first.

Ranking is the knowledge base's one ranker (``deskloop.knowledge.suggestions.suggest_articles``, the same that
serves suggestions and the agents' article finder) as soon as it is merged; ``_rank`` below is the only place that
names it, so switching is one line. Until then a plain word match over title (weighted) and body keeps search
working; either way the ids are re-read through ``queries.readable``, so nothing unpublished or internal shows.
"""

from __future__ import annotations

import re

from django.db.models import Q

from deskloop.knowledge.helpcenter import queries

RESULTS_MAX = 20
QUERY_MAX = 300
# Words the plain matcher looks for; a longer query still matches on its first words.
WORDS_MAX = 8
_WORD = re.compile(r"\w{2,}", re.UNICODE)


def _rank(*, workspace_id: int, query: str, locale: str, limit: int) -> list[int]:
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))[:WORDS_MAX]
    if not words:
        return []
    # SQLite folds case for ASCII only: ask for the lower-case and the capitalised form of each word.
    matches = Q()
    for word in words:
        for form in {word, word.capitalize()}:
            matches |= Q(title__contains=form) | Q(body_text__contains=form)
    candidates = queries.readable(workspace_id, locale).filter(matches).values_list("article_id", "title", "body_text")
    scored = []
    for article_id, title, body in candidates[:500]:
        title, body = title.lower(), body.lower()
        score = sum(3 * title.count(w) + min(body.count(w), 5) for w in words)
        covered = sum(1 for w in words if w in title or w in body)
        scored.append((covered, score, -article_id))
    scored.sort(reverse=True)
    return [-negated for _covered, _score, negated in scored[:limit]]


def search_articles(
    *, workspace_id: int, query: str, locale: str, limit: int = RESULTS_MAX
) -> list[queries.ArticleLink]:
    ids = _rank(workspace_id=workspace_id, query=query, locale=locale, limit=limit)
    return queries.articles_in_order(workspace_id, locale, ids)
