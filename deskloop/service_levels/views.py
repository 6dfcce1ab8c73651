"""The SLA policies settings page (admins): the policies in the order they are tried, a form per policy."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.refusals import refusal
from deskloop.service_levels import queries, services
from deskloop.service_levels.forms import PolicyForm, initial_for


@agent_view(roles=ADMIN_ROLES)
@require_GET
def policy_list(request: AgentRequest) -> HttpResponse:
    policies = queries.policies_with_overrides(request.agent.workspace_id)
    return render(request, "service_levels/policy_list.html", {"policies": policies})


@agent_view(roles=ADMIN_ROLES)
@require_http_methods(["GET", "POST"])
def policy_create(request: AgentRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None, workspace_id=request.agent.workspace_id)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            services.create_policy(actor=request.agent, values=form.values())
            messages.success(request, _("SLA policy created."))
            return redirect("service_levels:policies")
    return render(
        request, "service_levels/policy_form.html", {"form": form, "policy": None}, status=400 if form.errors else 200
    )


@agent_view(roles=ADMIN_ROLES)
@require_http_methods(["GET", "POST"])
def policy_detail(request: AgentRequest, policy_id: int) -> HttpResponse:
    policy = queries.get_policy_for_agent(request.agent, policy_id)
    initial = initial_for(services.policy_values(policy))
    form = PolicyForm(request.POST or None, initial=initial, workspace_id=request.agent.workspace_id)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            services.update_policy(actor=request.agent, policy=policy, values=form.values())
            messages.success(request, _("SLA policy saved."))
            return redirect("service_levels:policies")
    return render(
        request, "service_levels/policy_form.html", {"form": form, "policy": policy}, status=400 if form.errors else 200
    )


@agent_view(roles=ADMIN_ROLES)
@require_POST
def policy_delete(request: AgentRequest, policy_id: int) -> HttpResponse:
    policy = queries.get_policy_for_agent(request.agent, policy_id)
    with refusal() as refused:
        services.delete_policy(actor=request.agent, policy=policy)
        messages.success(request, _("SLA policy deleted."))
        return redirect("service_levels:policies")
    return refused.redirect(request, "service_levels:policies")
