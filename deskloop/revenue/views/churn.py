"""The churn pages: the list (cut by reason, product area, segment, dates, won back), record one, change one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ALL_ROLES, WRITER_ROLES
from deskloop.core.refusals import refusal
from deskloop.revenue import queries
from deskloop.revenue.forms import ChurnFilterForm, ChurnForm
from deskloop.revenue.models import ChurnRecord
from deskloop.revenue.services.churn import ChurnValues, record_churn, update_churn
from deskloop.revenue.views.common import paged

WON_BACK = {"yes": True, "no": False}


def churn_filter(form: ChurnFilterForm) -> queries.ChurnFilter:
    """The cut a valid filter form asks for (everything when it is not bound or not valid)."""
    if not form.is_bound or not form.is_valid():
        return queries.ChurnFilter()
    data = form.cleaned_data
    return queries.ChurnFilter(
        reason=data["reason"],
        product_area_id=data["product_area"].pk if data["product_area"] else None,
        segment=data["segment"],
        churned_from=data["churned_from"],
        churned_until=data["churned_until"],
        won_back=WON_BACK.get(data["won_back"]),
        won_back_from=data["won_back_from"],
        won_back_until=data["won_back_until"],
    )


@agent_view(roles=ALL_ROLES, description="Churn records, cut by reason, product area, segment and dates")
@require_http_methods(["GET"])
def churn_list(request: AgentRequest) -> HttpResponse:
    workspace_id = request.agent.workspace_id
    form = ChurnFilterForm(request.GET or None, workspace_id=workspace_id)
    records = queries.churn_records_for(workspace_id, churn_filter(form)).order_by("-churned_on", "-id")
    page, query = paged(records, request.GET)
    return render(
        request,
        "revenue/churn_list.html",
        {"form": form, "page": page, "query": query, "can_write": request.agent.can_write},
        status=422 if form.errors else 200,
    )


def _values(form: ChurnForm) -> ChurnValues:
    data = form.cleaned_data
    return ChurnValues(
        organization=data["organization"],
        churned_on=data["churned_on"],
        reason=data["reason"],
        mrr_lost=data["mrr_lost"] or 0,
        product_area=data["product_area"],
        idea=data["idea"],
        notes=data["notes"],
        won_back_on=data["won_back_on"],
        external_id=data["external_id"],
    )


@agent_view(roles=WRITER_ROLES, description="Record churn")
@require_http_methods(["GET", "POST"])
def churn_new(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    form = ChurnForm(request.POST or None, workspace_id=agent.workspace_id)
    status = 200
    if request.method == "POST" and form.is_valid():
        with refusal(form) as refused:
            record = record_churn(workspace=agent.workspace, values=_values(form), actor=agent)
            messages.success(request, _("Churn of %(name)s recorded.") % {"name": record.organization.name})
            return redirect("revenue:churn_record", record.pk)
        status = refused.status
    return render(
        request,
        "revenue/churn_form.html",
        {"form": form, "record": None},
        status=422 if form.errors and status == 200 else status,
    )


def _initial(record: ChurnRecord) -> dict[str, Any]:
    return {
        "organization": record.organization.name,
        "churned_on": record.churned_on,
        "reason": record.reason,
        "mrr_lost": record.mrr_lost,
        "product_area": record.product_area,
        "idea": record.idea,
        "notes": record.notes,
        "won_back_on": record.won_back_on,
        "external_id": record.external_id or "",
    }


@agent_view(roles=ALL_ROLES, description="A churn record; writers change it")
@require_http_methods(["GET", "POST"])
def churn_detail(request: AgentRequest, churn_record_id: int) -> HttpResponse:
    agent = request.agent
    record = queries.get_churn_record_for_agent(agent, churn_record_id)
    form = ChurnForm(request.POST or None, workspace_id=agent.workspace_id, initial=_initial(record))
    status = 200
    if request.method == "POST" and form.is_valid():
        with refusal(form) as refused:
            update_churn(record=record, values=_values(form), actor=agent)
            messages.success(request, _("Churn record saved."))
            return redirect("revenue:churn_record", record.pk)
        status = refused.status
    return render(
        request,
        "revenue/churn_form.html",
        {"form": form, "record": record, "can_write": agent.can_write},
        status=422 if form.errors and status == 200 else status,
    )
