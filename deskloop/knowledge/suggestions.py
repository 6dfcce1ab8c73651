"""Which articles answer a customer's question: the one read behind the portal form, the widget, help-center
search and the agents' article finder.

``suggest_articles`` ranks the published translations of one workspace in the asked language (``ranking.py``:
sentence vectors plus stemmed BM25, and abstention), public ones only unless agents ask. Each web process keeps,
per workspace and language, an in-memory ``RankingIndex`` (the vectors as one matrix, BM25's postings); every
call first reads a cheap fingerprint of those translations (how many, the latest change, how many have current
vectors, the latest change of their articles) and rebuilds the index when it differs, so an edit, a publication,
a visibility change, a deletion or a finished embedding is seen by the next question in every process, with no
signal between processes (docs/architecture.md, "Suggestions").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from django.db.models import Count, Max, Q

from deskloop.accounts.models import Workspace
from deskloop.knowledge import embedding, ranking
from deskloop.knowledge.models import ARTICLE_LOCALES, Article, ArticleState, ArticleTranslation, ArticleVisibility

Audience = Literal["public", "agents"]
MAX_LIMIT = 10
QUERY_MAX_CHARS = 500
# A question is cut after this many model tokens: what a customer types first says most, and the model's time
# grows with the length (suggestions answer while they type, BENCHMARKS.md).
QUERY_MAX_TOKENS = 64
# Indexes kept per process (workspace x language); the least recently used goes first.
CACHED_INDEXES = 64


@dataclass(frozen=True)
class Suggestion:
    article_id: int
    external_id: str
    title: str
    url: str
    score: float
    locale: str


def article_url(*, workspace_slug: str, locale: str, article_id: int, slug: str) -> str:
    """The help-center page of an article in one language."""
    return f"/help/{workspace_slug}/{locale}/articles/{article_id}-{slug}/"


@dataclass(frozen=True)
class _Entry:
    article_id: int
    external_id: str
    title: str
    slug: str
    public: bool


@dataclass
class _LocaleIndex:
    fingerprint: tuple[Any, ...]
    entries: list[_Entry]
    ranking_index: ranking.RankingIndex
    public_mask: np.ndarray


_indexes: OrderedDict[tuple[int, str], _LocaleIndex] = OrderedDict()
_indexes_lock = threading.Lock()
# One builder per (workspace, language): others asking meanwhile wait for its index instead of building their own.
_build_locks: dict[tuple[int, str], threading.Lock] = {}


def _readable(workspace_id: int, locale: str) -> Any:
    return ArticleTranslation.objects.filter(workspace_id=workspace_id, locale=locale, state=ArticleState.PUBLISHED)


def _fingerprint(workspace_id: int, locale: str) -> tuple[Any, ...]:
    translations = _readable(workspace_id, locale).aggregate(
        count=Count("id"),
        latest=Max("updated_at"),
        last_id=Max("id"),
        embedded=Count("id", filter=Q(embedding_version=embedding.EMBEDDING_VERSION)),
    )
    # Visibility and deletion live on the article: its updated_at moves with both changes.
    articles = Article.objects.filter(workspace_id=workspace_id).aggregate(count=Count("id"), latest=Max("updated_at"))
    return (*translations.values(), *articles.values())


def _build(workspace_id: int, locale: str, fingerprint: tuple[Any, ...]) -> _LocaleIndex:
    rows = (
        _readable(workspace_id, locale)
        .order_by("article_id")
        .values_list(
            "article_id",
            "article__external_id",
            "article__visibility",
            "title",
            "slug",
            "body_text",
            "embedding",
            "embedding_version",
        )
    )
    entries: list[_Entry] = []
    indexed: list[ranking.IndexedArticle] = []
    no_vectors = np.zeros((0, embedding.DIMENSIONS), dtype=np.float32)
    for article_id, external_id, visibility, title, slug, body_text, vector, version in rows.iterator(chunk_size=2000):
        entries.append(_Entry(article_id, external_id, title, slug, visibility == ArticleVisibility.PUBLIC))
        current = vector is not None and version == embedding.EMBEDDING_VERSION
        vectors = embedding.from_bytes(bytes(vector)).reshape(-1, embedding.DIMENSIONS) if current else no_vectors
        indexed.append(ranking.IndexedArticle(title=title, body=body_text, passage_vectors=vectors))
    return _LocaleIndex(
        fingerprint=fingerprint,
        entries=entries,
        ranking_index=ranking.RankingIndex(indexed, locale=locale),
        public_mask=np.array([e.public for e in entries], dtype=bool),
    )


def _index(workspace_id: int, locale: str) -> _LocaleIndex:
    key = (workspace_id, locale)
    fingerprint = _fingerprint(workspace_id, locale)
    with _indexes_lock:
        cached = _indexes.get(key)
        if cached is not None and cached.fingerprint == fingerprint:
            _indexes.move_to_end(key)
            return cached
        build_lock = _build_locks.setdefault(key, threading.Lock())
    with build_lock:
        with _indexes_lock:
            cached = _indexes.get(key)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        built = _build(workspace_id, locale, fingerprint)
        with _indexes_lock:
            _indexes[key] = built
            _indexes.move_to_end(key)
            while len(_indexes) > CACHED_INDEXES:
                _indexes.popitem(last=False)
        return built


def forget_indexes() -> None:
    """Drop every cached index (tests and benchmarks that rebuild the database under a running process)."""
    with _indexes_lock:
        _indexes.clear()


def _locales_to_try(locale: str) -> list[str]:
    # The asked language first; when it has nothing to show, English, then the others in their usual order.
    return [locale, *(code for code in ("en", *ARTICLE_LOCALES) if code != locale)]


def suggest_articles(
    *, workspace_id: int, query: str, locale: str, limit: int = 3, audience: Audience = "public"
) -> list[Suggestion]:
    """The best ``limit`` published articles for ``query`` in ``locale``, best first; [] when none is a good answer.

    Public callers (help center, portal, widget) see public articles only; ``audience="agents"`` adds internal
    ones. When the workspace has no article to show in ``locale``, the ranking uses another language's articles
    (English first). The caller checks ``query`` (at most QUERY_MAX_CHARS), ``locale`` and ``limit``."""
    query = " ".join(query.split())[:QUERY_MAX_CHARS]
    if not query or limit <= 0:
        return []
    seen: set[str] = set()
    for candidate in _locales_to_try(locale):
        if candidate in seen:
            continue
        seen.add(candidate)
        index = _index(workspace_id, candidate)
        allowed = index.public_mask if audience == "public" else np.ones(len(index.entries), dtype=bool)
        if not allowed.any():
            continue
        workspace_slug = Workspace.objects.filter(pk=workspace_id).values_list("slug", flat=True).first() or ""
        return _ranked(index, query, candidate, min(limit, MAX_LIMIT), allowed, workspace_slug)
    return []


def _ranked(
    index: _LocaleIndex, query: str, locale: str, limit: int, allowed: np.ndarray, workspace_slug: str
) -> list[Suggestion]:
    ranking_index = index.ranking_index
    use_model = locale == ranking.MODEL_LOCALE and bool(ranking_index.has_vector.any())
    query_vector = embedding.encode([query], max_tokens=QUERY_MAX_TOKENS)[0] if use_model else None
    ranked = ranking_index.rank(query, query_vector, limit=limit, allowed=allowed)
    out = []
    for hit in ranked:
        entry = index.entries[hit.position]
        url = article_url(workspace_slug=workspace_slug, locale=locale, article_id=entry.article_id, slug=entry.slug)
        out.append(Suggestion(entry.article_id, entry.external_id, entry.title, url, hit.score, locale))
    return out
