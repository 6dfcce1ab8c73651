"""Input refused before any view reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _


def _holds_nul(values: list[tuple[str, list[Any]]]) -> bool:
    return any("\x00" in key or any(isinstance(v, str) and "\x00" in v for v in items) for key, items in values)


class RefuseNulInputMiddleware:
    """A query string or form field holding the NUL character is refused with 400, for every page at once.

    PostgreSQL's text refuses NUL, so a search, filter or form value holding one failed deep inside a query with
    a server error; no person types it. Views exempt from CSRF are machine endpoints that read their input
    themselves (the API refuses NUL as a problem response naming the field, core.api_input; the raw-MIME webhook
    reads its stream): they are left alone. For the others Django's CSRF check reads the form anyway."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if getattr(view, "csrf_exempt", False):
            return None
        sources = [request.GET, request.POST] if request.method == "POST" else [request.GET]
        if any(_holds_nul(list(source.lists())) for source in sources):
            return HttpResponseBadRequest(
                _("The request holds a NUL character, which no field accepts. Remove it and try again."),
                content_type="text/plain; charset=utf-8",
            )
        return None
