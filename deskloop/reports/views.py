"""The manager's reports (HTML) and the tickets behind each of their numbers, with the CSV export of those tickets.

Who may read them: owners, admins and viewers (``reports.access``). Views only parse the URL, call one query and
render; a bad filter is a 400 page with the filter form still showing what was asked.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.csv_export import streamed_csv
from deskloop.core.refusals import refusal
from deskloop.reports.access import REPORT_ROLES
from deskloop.reports.drilldown import csv_rows, drilled_tickets, for_listing, parse_drill
from deskloop.reports.filters import parse_filters
from deskloop.reports.form import filter_form
from deskloop.reports.pages import REPORTS
from deskloop.reports.sections import option_links, parse_options, report_sections
from deskloop.reports.summary import receives_weekly_summary, set_weekly_summary

PAGE_SIZE = 50


@agent_view(roles=REPORT_ROLES, description="The reports' index: each report with the filters of the URL")
@require_GET
def index(request: AgentRequest) -> HttpResponse:
    workspace = request.agent.workspace
    with refusal() as refused:
        filters = parse_filters(workspace, request.GET)
        return render(
            request,
            "reports/index.html",
            {
                "filters": filters,
                "reports": REPORTS,
                "form": filter_form(workspace.pk, filters),
                "is_manager": request.agent.is_admin,
                "receives_summary": receives_weekly_summary(request.agent),
            },
        )
    context = {"error": refused.message, "reports": REPORTS, "form": filter_form(workspace.pk, None, asked=request.GET)}
    return render(request, "reports/index.html", context, status=refused.status)


@agent_view(roles=REPORT_ROLES, description="One report: its chart and table, each number linking to its tickets")
@require_GET
def report(request: AgentRequest, report: str) -> HttpResponse:
    workspace = request.agent.workspace
    context: dict[str, Any] = {
        "report": report,
        "title": REPORTS[report],
        "reports": REPORTS,
    }
    with refusal() as refused:
        filters = parse_filters(workspace, request.GET)
        options = parse_options(report, request.GET)
        sections = report_sections(report, filters, options)
        form = filter_form(workspace.pk, filters, keep=options)
        return render(
            request,
            "reports/report.html",
            {
                **context,
                "filters": filters,
                "options": options,
                "option_links": option_links(report, filters, options),
                "sections": sections,
                "form": form,
            },
        )
    form = filter_form(workspace.pk, None, asked=request.GET)
    return render(
        request, "reports/report.html", {**context, "error": refused.message, "form": form}, status=refused.status
    )


@agent_view(roles=ADMIN_ROLES, description="A manager turns their weekly summary email on or off")
@require_POST
def weekly_summary(request: AgentRequest) -> HttpResponse:
    receive = request.POST.get("receive") == "1"
    set_weekly_summary(agent=request.agent, receive=receive)
    messages.success(
        request, _("You will get the weekly summary.") if receive else _("You will no longer get the weekly summary.")
    )
    return redirect("reports:index")


@agent_view(roles=REPORT_ROLES, description="The tickets behind a number of a report")
@require_GET
def tickets(request: AgentRequest) -> HttpResponse:
    workspace = request.agent.workspace
    with refusal() as refused:
        filters = parse_filters(workspace, request.GET)
        drill = parse_drill(filters, request.GET)
        found = drilled_tickets(filters, drill)
        page = Paginator(for_listing(found), PAGE_SIZE).get_page(request.GET.get("page"))
        query = filters.as_query_string(**drill.params())
        context: dict[str, Any] = {
            "filters": filters,
            "drill": drill,
            "page": page,
            "query_string": query,
            "form": filter_form(workspace.pk, filters, keep=drill.params()),
        }
        return render(request, "reports/tickets.html", context)
    context = {"error": refused.message, "form": filter_form(workspace.pk, None, asked=request.GET)}
    return render(request, "reports/tickets.html", context, status=refused.status)


@agent_view(roles=REPORT_ROLES, description="CSV of the tickets behind a number of a report")
@require_GET
def tickets_csv(request: AgentRequest) -> HttpResponse | StreamingHttpResponse:
    with refusal() as refused:
        filters = parse_filters(request.agent.workspace, request.GET)
        found = drilled_tickets(filters, parse_drill(filters, request.GET))
        stamp = timezone.localdate().isoformat()
        return streamed_csv(csv_rows(found), filename=f"tickets-{stamp}.csv")
    return HttpResponse(refused.message, status=refused.status, content_type="text/plain; charset=utf-8")
