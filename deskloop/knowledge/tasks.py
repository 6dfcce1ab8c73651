from __future__ import annotations

from django_tasks import task

from deskloop.knowledge.services.embeddings import embed_translation


@task()
def embed_article_translation(translation_id: int) -> None:
    """Compute the sentence vector of one article translation (idempotent: it stores the same vector again)."""
    embed_translation(translation_id=translation_id)
