"""The "Deals and churn" settings screen (admins): the lost reasons and the target industries."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.refusals import refusal
from deskloop.revenue import queries
from deskloop.revenue.forms import LostReasonForm, TargetIndustriesForm
from deskloop.revenue.services import setup

TEMPLATE = "revenue/settings.html"


def _page(request: AgentRequest, industries: TargetIndustriesForm, reason: LostReasonForm, status: int) -> HttpResponse:
    return render(
        request,
        TEMPLATE,
        {
            "industries_form": industries,
            "reason_form": reason,
            "reasons": setup.lost_reasons_of(request.agent.workspace_id),
        },
        status=status,
    )


@agent_view(roles=ADMIN_ROLES, description="Revenue settings: lost reasons and target industries")
@require_http_methods(["GET", "POST"])
def revenue_settings(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    current = setup.settings_of(agent.workspace_id)
    form = TargetIndustriesForm(request.POST or None, initial={"industries": "\n".join(current.target_industries)})
    status = 200
    if request.method == "POST" and form.is_valid():
        with refusal(form) as refused:
            setup.save_target_industries(actor=agent, industries=form.industry_list())
            messages.success(request, _("Target industries saved."))
            return redirect("revenue_settings:settings")
        status = refused.status
    return _page(request, form, LostReasonForm(), 422 if form.errors and status == 200 else status)


@agent_view(roles=ADMIN_ROLES, description="Add a lost reason")
@require_POST
def lost_reason_add(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    form = LostReasonForm(request.POST)
    status = 422
    if form.is_valid():
        with refusal(form) as refused:
            reason = setup.add_lost_reason(
                actor=agent,
                name=form.cleaned_data["name"],
                missing_functionality=form.cleaned_data["missing_functionality"],
            )
            messages.success(request, _("“%(name)s” added.") % {"name": reason.name})
            return redirect("revenue_settings:settings")
        status = refused.status
    current = setup.settings_of(agent.workspace_id)
    industries = TargetIndustriesForm(initial={"industries": "\n".join(current.target_industries)})
    return _page(request, industries, form, status)


@agent_view(roles=ADMIN_ROLES, description="Delete a lost reason no deal uses")
@require_POST
def lost_reason_delete(request: AgentRequest, lost_reason_id: int) -> HttpResponse:
    reason = queries.get_lost_reason_for_agent(request.agent, lost_reason_id)
    name = reason.name
    with refusal() as refused:
        setup.delete_lost_reason(actor=request.agent, reason=reason)
        messages.success(request, _("“%(name)s” deleted.") % {"name": name})
    if refused:
        return refused.redirect(request, "revenue_settings:settings")
    return redirect("revenue_settings:settings")
