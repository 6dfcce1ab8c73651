"""``{{ ticket.updated_at|when }}``: the one way pages show a moment (see ``deskloop.core.when``).

``|when`` gives a ``<time>`` element (relative when recent, exact moment in its title); ``|when_exact`` the full date
and time as text (inside a sentence, or where the exact moment matters: a due date); ``|when_day`` a date only."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from deskloop.core import when as moments

register = template.Library()


@register.filter
def when(value: dt.datetime | None) -> SafeString | str:
    if not value:
        return ""
    shown = moments.moment(value)
    return format_html('<time datetime="{}" title="{}">{}</time>', shown.iso, shown.exact, shown.text)


@register.filter
def when_exact(value: dt.datetime | None) -> str:
    return moments.exact(value) if value else ""


@register.filter
def when_day(value: dt.date | None) -> str:
    return moments.day(value) if value else ""
