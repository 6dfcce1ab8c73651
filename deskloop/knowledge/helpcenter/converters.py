"""The ``helplocale`` URL converter: a help-center URL's language is one of the article languages."""

from __future__ import annotations

from django.urls import register_converter

from deskloop.knowledge.models import ARTICLE_LOCALES


class HelpLocaleConverter:
    regex = "|".join(ARTICLE_LOCALES)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


# Imported by both URL modules; registered once because a module runs once.
register_converter(HelpLocaleConverter, "helplocale")
