"""The product manager's pages: /insights/ (every product area with its owner and counts) and one area's page."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import WRITER_ROLES
from deskloop.core.refusals import Refusal, refusal
from deskloop.customers.models import Segment
from deskloop.customers.queries import segment_from_param, segments_of
from deskloop.ideas.models import ProductTask
from deskloop.ideas.services.tasks import complete_task
from deskloop.insights import queries


def _segments(request: AgentRequest) -> list[Segment]:
    return list(segments_of(request.agent.workspace_id))


def _refused(refused: Refusal) -> HttpResponse:
    return HttpResponse(refused.message, status=refused.status, content_type="text/plain; charset=utf-8")


@agent_view()
@require_GET
def overview(request: AgentRequest) -> HttpResponse:
    with refusal() as refused:
        segment = segment_from_param(request.agent.workspace_id, request.GET.get("segment"))
    if refused:
        return _refused(refused)
    return render(
        request,
        "insights/overview.html",
        {
            "summaries": queries.area_summaries(request.agent, segment=segment),
            "my_tasks": queries.my_open_tasks(request.agent),
            "segment": segment,
            "segments": _segments(request),
        },
    )


@agent_view()
@require_GET
def area(request: AgentRequest, area_id: int) -> HttpResponse:
    with refusal() as refused:
        segment = segment_from_param(request.agent.workspace_id, request.GET.get("segment"))
    if refused:
        return _refused(refused)
    product_area = queries.area_for_agent(request.agent, area_id)
    return render(
        request,
        "insights/area.html",
        {
            "page": queries.area_page(request.agent, product_area, segment=segment),
            "segment": segment,
            "segments": _segments(request),
            "survey_days": queries.SURVEY_DAYS,
            "problems_since": timezone.localdate() - dt.timedelta(days=queries.TRENDING_DAYS),
        },
    )


@agent_view(roles=WRITER_ROLES)
@require_POST
def task_done(request: AgentRequest, task_id: int) -> HttpResponse:
    task = ProductTask.objects.filter(workspace_id=request.agent.workspace_id, pk=task_id).first()
    if task is None:
        return HttpResponse(_("No such task."), status=404)
    with refusal() as refused:
        complete_task(task=task, agent=request.agent)
    if refused:
        return _refused(refused)
    if task.product_area_id is not None and request.POST.get("back") == "area":
        return redirect("insights:area", area_id=task.product_area_id)
    return redirect("insights:overview")
