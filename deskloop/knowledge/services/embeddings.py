"""Sentence vectors of article translations: computed in the background, never in the request that saved them.

``save_translation`` calls ``schedule_embedding`` inside its transaction; the task runs after commit (a worker,
or inline in tests) and calls ``embed_translation``. ``embed_outdated`` (``manage.py embed_articles``) catches up
on translations that have no vector, or one of an older ``EMBEDDING_VERSION``. Until a translation has its
vector, suggestions rank it by its words alone (``ranking.py``).
"""

from __future__ import annotations

import logging

from django.db import transaction

from deskloop.accounts.models import Workspace
from deskloop.knowledge import embedding, ranking
from deskloop.knowledge.models import ArticleTranslation

logger = logging.getLogger(__name__)
# Translations embedded per model call by ``embed_outdated``: batches pad to their longest text, so a few dozen
# keep padding small while the matrix products stay large enough to be efficient.
CATCH_UP_BATCH = 32


def schedule_embedding(translation: ArticleTranslation) -> None:
    """Queue the translation's vector for after the current transaction commits (nothing if it rolls back)."""
    from deskloop.knowledge.tasks import embed_article_translation

    translation_id = translation.pk
    transaction.on_commit(lambda: embed_article_translation.enqueue(translation_id))


def _vectors_of(translations: list[ArticleTranslation]) -> list[bytes]:
    passages = [ranking.article_passages(t.title, t.body_text) for t in translations]
    flat = [text for group in passages for text in group]
    vectors = embedding.encode(flat)
    out, start = [], 0
    for group in passages:
        out.append(embedding.to_bytes(vectors[start : start + len(group)]))
        start += len(group)
    return out


def _store(translations: list[ArticleTranslation]) -> int:
    """Compute and store the vectors; a translation whose text changed meanwhile is left for its own task."""
    vectors = _vectors_of(translations)
    stored = 0
    for translation, vector in zip(translations, vectors, strict=True):
        # Only if the text is still what was embedded: a save while the model ran has queued its own task.
        stored += ArticleTranslation.objects.filter(
            pk=translation.pk, title=translation.title, body_text=translation.body_text
        ).update(embedding=vector, embedding_version=embedding.EMBEDDING_VERSION)
    return stored


def embed_translation(*, translation_id: int) -> bool:
    """Embed one translation if it still exists; True when a vector was stored. Safe to run twice."""
    translation = ArticleTranslation.objects.filter(pk=translation_id).only("pk", "title", "body_text").first()
    if translation is None:
        return False
    return _store([translation]) == 1


def outdated_translations(*, workspace: Workspace | None = None) -> list[int]:
    """Ids of translations without a vector of the current version."""
    rows = ArticleTranslation.objects.exclude(embedding_version=embedding.EMBEDDING_VERSION)
    rows = rows | ArticleTranslation.objects.filter(embedding__isnull=True)
    if workspace is not None:
        rows = rows.filter(workspace=workspace)
    return list(rows.order_by("pk").values_list("pk", flat=True).distinct())


def embed_outdated(*, workspace: Workspace | None = None) -> int:
    """Embed every translation that lacks a current vector, in batches; returns how many were stored."""
    ids = outdated_translations(workspace=workspace)
    stored = 0
    for start in range(0, len(ids), CATCH_UP_BATCH):
        batch = list(
            ArticleTranslation.objects.filter(pk__in=ids[start : start + CATCH_UP_BATCH]).only(
                "pk", "title", "body_text"
            )
        )
        stored += _store(batch)
    return stored
