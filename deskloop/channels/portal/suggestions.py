"""What the portal asks the knowledge base's ranking for (``knowledge.services.request_sessions.
suggest_while_writing``, the same as the widget's): the locale the customer reads in and how many to show."""

from __future__ import annotations

from django.utils import translation

from deskloop.knowledge.models import ARTICLE_LOCALES

SHOWN = 3


def reading_locale() -> str:
    """The article language for the active one ("es-mx" reads "es"), English when there are no articles in it."""
    code = (translation.get_language() or "en").split("-")[0].lower()
    return code if code in ARTICLE_LOCALES else "en"
