"""Whether a request came from htmx (django-htmx's middleware sets ``request.htmx``; absent in some tests)."""

from __future__ import annotations

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))
