"""``{{ share|percent }}``: a proportion as a percentage with one decimal in the reader's number format, "—" when
there is none (an empty arm has no rate)."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{floatformat(value * 100, 1)}%"


@register.filter
def one_decimal(value: float | None) -> str:
    return "—" if value is None else str(floatformat(value, 1))


@register.simple_tag
def querystring_of(source: object, **extra: object) -> str:
    """The URL query of a report range (or a session filter's range) plus ``extra``: ``{% querystring_of
    report.range no_answer=row.query %}``."""
    query_string = getattr(source, "query_string")  # noqa: B009 - duck-typed: a ReportRange
    return str(query_string(**extra))
