"""``{{ status|localized }}``: a vocabulary row's name in the reader's (active) language (core.models
NamedInLanguages); anything else is shown as it is."""

from __future__ import annotations

from typing import Any

from django import template

from deskloop.core.models import NamedInLanguages

register = template.Library()


@register.filter
def localized(row: Any) -> str:
    localized_path = getattr(row, "localized_path", None)
    if callable(localized_path):
        return str(localized_path())
    if isinstance(row, NamedInLanguages):
        return row.localized_name()
    return "" if row is None else str(row)
