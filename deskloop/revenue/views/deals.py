"""The deals pages: the list (cut by status, product area, segment, reason, dates), record one, change one."""

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
from deskloop.revenue.forms import DealFilterForm, DealForm
from deskloop.revenue.models import Deal
from deskloop.revenue.services.deals import DealValues, record_deal, update_deal
from deskloop.revenue.views.common import paged


@agent_view(roles=ALL_ROLES, description="Deals won and lost, cut by product area, segment, reason and dates")
@require_http_methods(["GET"])
def deal_list(request: AgentRequest) -> HttpResponse:
    workspace_id = request.agent.workspace_id
    form = DealFilterForm(request.GET or None, workspace_id=workspace_id)
    cut = queries.DealFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        cut = queries.DealFilter(
            status=data["status"],
            product_area_id=data["product_area"].pk if data["product_area"] else None,
            segment=data["segment"],
            lost_reason_id=data["lost_reason"].pk if data["lost_reason"] else None,
            closed_from=data["closed_from"],
            closed_until=data["closed_until"],
        )
    deals = queries.deals_for(workspace_id, cut).order_by("-closed_on", "-id")
    page, query = paged(deals, request.GET)
    return render(
        request,
        "revenue/deal_list.html",
        {"form": form, "page": page, "query": query, "can_write": request.agent.can_write},
        status=422 if form.errors else 200,
    )


def _values(form: DealForm) -> DealValues:
    data = form.cleaned_data
    return DealValues(
        organization=data["organization"],
        name=data["name"],
        amount=data["amount"] or 0,
        currency=data["currency"],
        stage=data["stage"],
        status=data["status"],
        lost_reason=data["lost_reason"],
        competitor=data["competitor"],
        industry=data["industry"],
        product_area=data["product_area"],
        idea=data["idea"],
        owner=data["owner"],
        closed_on=data["closed_on"],
        external_id=data["external_id"],
    )


@agent_view(roles=WRITER_ROLES, description="Record a deal")
@require_http_methods(["GET", "POST"])
def deal_new(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    form = DealForm(request.POST or None, workspace_id=agent.workspace_id, initial={"owner": agent})
    status = 200
    if request.method == "POST" and form.is_valid():
        with refusal(form) as refused:
            deal = record_deal(workspace=agent.workspace, values=_values(form), actor=agent)
            messages.success(request, _("Deal “%(name)s” recorded.") % {"name": deal.name})
            return redirect("revenue:deal", deal.pk)
        status = refused.status
    return render(
        request,
        "revenue/deal_form.html",
        {"form": form, "deal": None},
        status=422 if form.errors and status == 200 else status,
    )


def _initial(deal: Deal) -> dict[str, Any]:
    return {
        "organization": deal.organization.name,
        "name": deal.name,
        "amount": deal.amount,
        "currency": deal.currency,
        "stage": deal.stage,
        "status": deal.status,
        "lost_reason": deal.lost_reason,
        "competitor": deal.competitor,
        "industry": deal.industry,
        "product_area": deal.product_area,
        "idea": deal.idea,
        "owner": deal.owner,
        "closed_on": deal.closed_on,
        "external_id": deal.external_id or "",
    }


@agent_view(roles=ALL_ROLES, description="A deal, the product task it opened; writers change it")
@require_http_methods(["GET", "POST"])
def deal_detail(request: AgentRequest, deal_id: int) -> HttpResponse:
    agent = request.agent
    deal = queries.get_deal_for_agent(agent, deal_id)
    form = DealForm(request.POST or None, workspace_id=agent.workspace_id, initial=_initial(deal))
    status = 200
    if request.method == "POST" and form.is_valid():
        with refusal(form) as refused:
            update_deal(deal=deal, values=_values(form), actor=agent)
            messages.success(request, _("Deal saved."))
            return redirect("revenue:deal", deal.pk)
        status = refused.status
    return render(
        request,
        "revenue/deal_form.html",
        {"form": form, "deal": deal, "task": queries.product_task_of(deal), "can_write": agent.can_write},
        status=422 if form.errors and status == 200 else status,
    )
