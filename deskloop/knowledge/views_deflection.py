"""The deflection report, the sessions behind each of its numbers, and their CSV export.

Read-only, so every member of the workspace may open it, viewers included: it shows what the team's articles
save, which everyone who writes or reviews them needs (docs/architecture.md). The range and channel live in the
URL, so a report is a bookmark.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ALL_ROLES
from deskloop.core.csv_export import streamed_csv
from deskloop.core.refusals import refusal
from deskloop.knowledge.deflection_report import ReportRange, deflection_report, parse_range
from deskloop.knowledge.deflection_sessions import (
    SessionFilter,
    csv_rows,
    filtered_sessions,
    parse_session_filter,
    session_rows,
    with_events,
)
from deskloop.knowledge.models import RequestChannel

PAGE_SIZE = 50


def _form_context(request: AgentRequest, report_range: ReportRange | None = None) -> dict[str, Any]:
    """The range form shows the range read, or (when it was refused) what was typed, so it can be corrected."""
    asked = {name: request.GET.get(name, "") for name in ("from", "to", "channel")}
    shown = asked if report_range is None else {"channel": "", **report_range.params()}
    return {"channels": RequestChannel.choices, "shown": shown, "keep": []}


@agent_view(roles=ALL_ROLES, description="Read-only report of the self-service funnel")
@require_GET
def report(request: AgentRequest) -> HttpResponse:
    with refusal() as refused:
        report_range = parse_range(workspace_id=request.agent.workspace_id, params=request.GET)
        context = _form_context(request, report_range)
        found = deflection_report(report_range)
        arms = [
            {"label": _("Suggestions shown"), "figures": found.suggestions},
            {"label": _("Holdout (no suggestions)"), "figures": found.holdout},
        ]
        return render(
            request,
            "knowledge/deflection/report.html",
            {**context, "report": found, "arms": arms, "window_hours": settings.DESKLOOP_DEFLECTION_WINDOW_HOURS},
        )
    context = _form_context(request)
    return render(
        request, "knowledge/deflection/report.html", {**context, "error": refused.message}, status=refused.status
    )


def _filter(request: AgentRequest) -> SessionFilter:
    report_range: ReportRange = parse_range(workspace_id=request.agent.workspace_id, params=request.GET)
    return parse_session_filter(report_range, request.GET)


@agent_view(roles=ALL_ROLES, description="The request sessions behind a number of the deflection report")
@require_GET
def sessions(request: AgentRequest) -> HttpResponse:
    with refusal() as refused:
        wanted = _filter(request)
        context = _form_context(request, wanted.range)
        page = Paginator(with_events(filtered_sessions(wanted)), PAGE_SIZE).get_page(request.GET.get("page"))
        params = wanted.params()
        return render(
            request,
            "knowledge/deflection/sessions.html",
            {
                **context,
                "wanted": wanted,
                "page": page,
                "rows": session_rows(list(page.object_list)),
                "query_string": urlencode(params),
                # The drill-down's own filters ride along when the range form changes the dates.
                "keep": [(k, v) for k, v in params.items() if k not in ("from", "to", "channel")],
            },
        )
    context = _form_context(request)
    return render(
        request, "knowledge/deflection/sessions.html", {**context, "error": refused.message}, status=refused.status
    )


@agent_view(roles=ALL_ROLES, description="CSV of the request sessions behind a number of the deflection report")
@require_GET
def sessions_csv(request: AgentRequest) -> HttpResponse | StreamingHttpResponse:
    with refusal() as refused:
        wanted = _filter(request)
        stamp = timezone.localdate().isoformat()
        return streamed_csv(csv_rows(filtered_sessions(wanted)), filename=f"request-sessions-{stamp}.csv")
    return HttpResponse(refused.message, status=refused.status, content_type="text/plain; charset=utf-8")
