"""The portal's one door to the knowledge base's ranking (``knowledge.suggestions.suggest_articles``): the same
ranking serves the help center, the widget and the agents' finder, so there is nothing portal-specific here but
the locale the customer reads in."""

from __future__ import annotations

from django.utils import translation

from deskloop.knowledge.models import ARTICLE_LOCALES
from deskloop.knowledge.suggestions import Suggestion, suggest_articles

SHOWN = 3


def reading_locale() -> str:
    """The article language for the active one ("es-mx" reads "es"), English when there are no articles in it."""
    code = (translation.get_language() or "en").split("-")[0].lower()
    return code if code in ARTICLE_LOCALES else "en"


def suggestions_for(*, workspace_id: int, query: str) -> list[Suggestion]:
    """The best public articles for what the customer typed ([] when the ranker abstains)."""
    if not query.strip():
        return []
    return suggest_articles(workspace_id=workspace_id, query=query, locale=reading_locale(), limit=SHOWN)
