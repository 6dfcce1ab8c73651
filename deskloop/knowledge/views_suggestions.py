"""Public article suggestions: what the portal form and the widget ask while a customer types.

Anonymous, so rate-limited per client address and per workspace (``core.public_limits``, the "search" bucket it
shares with help-center search) before any work; only public, published articles. JSON in the API's shapes:
the list of suggestions, or a problem with the fields that are wrong.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from deskloop.accounts.access import public_view
from deskloop.accounts.models import Workspace
from deskloop.core.public_limits import seconds_over_limit, too_many_requests
from deskloop.knowledge.models import ARTICLE_LOCALES
from deskloop.knowledge.suggestions import MAX_LIMIT, QUERY_MAX_CHARS, suggest_articles


def _problem(status: int, code: str, title: str, errors: list[dict[str, str]] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"title": title, "status": status, "code": code}
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=status)


def _parse(request: HttpRequest, workspace: Workspace) -> tuple[str, str, int] | list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    query = request.GET.get("q", "")
    if not query.strip():
        errors.append({"field": "q", "message": _("Type a question.")})
    elif len(query) > QUERY_MAX_CHARS:
        errors.append(
            {"field": "q", "message": _("A question can be at most %(max)d characters.") % {"max": QUERY_MAX_CHARS}}
        )
    locale = request.GET.get("locale") or workspace.default_language
    if locale not in ARTICLE_LOCALES:
        errors.append(
            {
                "field": "locale",
                "message": _("Unknown language “%(locale)s”; use one of: %(known)s.")
                % {"locale": locale[:20], "known": ", ".join(ARTICLE_LOCALES)},
            }
        )
    raw_limit = request.GET.get("limit") or "3"
    limit = int(raw_limit) if raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) < 4 else 0
    if not 1 <= limit <= MAX_LIMIT:
        errors.append(
            {"field": "limit", "message": _("The limit must be a whole number from 1 to %(max)d.") % {"max": MAX_LIMIT}}
        )
    return errors or (query, locale, limit)


@public_view
@require_GET
def public_suggestions(request: HttpRequest, workspace_slug: str) -> HttpResponse:
    workspace = Workspace.objects.filter(slug=workspace_slug).first()
    if workspace is None:
        return _problem(404, "not_found", _("There is no help center here."))
    wait = seconds_over_limit(request, workspace_id=workspace.pk, bucket="search")
    if wait:
        return too_many_requests(wait, as_json=True)
    parsed = _parse(request, workspace)
    if isinstance(parsed, list):
        return _problem(422, "invalid_request", _("Some parameters are not valid."), parsed)
    query, locale, limit = parsed
    found = suggest_articles(workspace_id=workspace.pk, query=query, locale=locale, limit=limit, audience="public")
    payload = [
        {"id": s.article_id, "external_id": s.external_id, "title": s.title, "url": s.url, "score": s.score}
        for s in found
    ]
    # The same question asked again is answered again: articles change, and the answer is cheap.
    response = JsonResponse(payload, safe=False)
    response["Cache-Control"] = "no-store"
    return response
