"""The manager's staffing page: /staffing/ (admins and owners), its inputs in the URL so a plan can be bookmarked."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.dates import WEEKDAYS_ABBR
from django.views.decorators.http import require_GET

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.refusals import refusal
from deskloop.staffing import queries
from deskloop.staffing.inputs import parse_inputs
from deskloop.staffing.planning import CHANNELS, HELD_BACK_WEEKS, chart


@agent_view(roles=ADMIN_ROLES, description="the staffing forecast and agents needed per hour of the week")
@require_GET
def overview(request: AgentRequest) -> HttpResponse:
    workspace = request.agent.workspace
    with refusal() as refused:
        inputs = parse_inputs(workspace.pk, request.GET)
    if refused:
        return HttpResponse(refused.message, status=refused.status, content_type="text/plain; charset=utf-8")
    plan = queries.staffing_plan(workspace, inputs)
    drawn = chart(plan)
    return render(
        request,
        "staffing/overview.html",
        {
            "plan": plan,
            "chart": drawn,
            "day_labels": [(x, WEEKDAYS_ABBR[weekday]) for x, weekday in drawn.day_starts],
            "weekday_names": [(weekday, WEEKDAYS_ABBR[weekday]) for weekday in range(7)],
            "inputs": inputs,
            "channels": CHANNELS,
            "held_back_weeks": HELD_BACK_WEEKS,
            "hours": range(24),
        },
    )
