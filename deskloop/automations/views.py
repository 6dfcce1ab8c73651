"""Automation settings pages for admins: the rules, the builder (with its dry run), and each rule's run log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.automations import forms, queries, rules, services
from deskloop.automations.models import AutomationRule
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal

PAGE_SIZE = 50


@agent_view(roles=ADMIN_ROLES)
@require_GET
def rule_list(request: AgentRequest) -> HttpResponse:
    return render(request, "automations/rule_list.html", {"rules": queries.rules_for_agent(request.agent)})


def _builder(
    request: AgentRequest, form: forms.RuleForm, rows: tuple[list[forms.Row], list[forms.Row]], **extra: Any
) -> dict[str, Any]:
    conditions, actions = forms.with_blank_rows(*rows)
    return {
        "form": form,
        "conditions": conditions,
        "actions": actions,
        "condition_fields": [(name, spec.label) for name, spec in rules.CONDITION_FIELDS.items()],
        "operators": list(rules.OPERATOR_LABELS.items()),
        "action_types": [(name, spec.label) for name, spec in rules.ACTION_TYPES.items()],
        "value_names": queries.value_names(request.agent.workspace_id),
        **extra,
    }


def _edit(request: AgentRequest, rule: AutomationRule | None) -> HttpResponse:
    """The builder: save, or (the "Preview" button) count what the rule as entered would match, saving nothing."""
    initial = (
        forms.initial_of(rule) if rule is not None else {"events": ["ticket.created"], "time_hours_since": "updated_at"}
    )
    form = forms.RuleForm(request.POST or None, initial=initial)
    rows = (
        (forms.condition_rows(request.POST), forms.action_rows(request.POST))
        if request.method == "POST"
        else (forms.rows_of(rule) if rule is not None else ([], []))
    )
    template = "automations/rule_form.html"
    preview = None
    if request.method == "POST" and form.is_valid():
        with refusal(form) as refused:
            draft = forms.draft_from(form, request.POST)
            if request.POST.get("preview"):
                preview = queries.preview_draft(request.agent, draft)
                if is_htmx(request):
                    return render(request, "automations/_preview.html", {"preview": preview})
            elif rule is None:
                rule = services.create_rule(actor=request.agent, draft=draft)
                messages.success(request, _("Rule saved. It acts with your rights from now on."))
                return redirect("automations:rule", rule_id=rule.pk)
            else:
                services.update_rule(actor=request.agent, rule=rule, draft=draft)
                messages.success(request, _("Rule saved. It acts with your rights from now on."))
                return redirect("automations:rule", rule_id=rule.pk)
        if refused and is_htmx(request):
            return render(request, "automations/_preview.html", {"error": refused.message}, status=refused.status)
    elif request.method == "POST" and is_htmx(request):
        return render(request, "automations/_preview.html", {"error": _("Fill in the rule first.")}, status=422)
    recent = queries.runs_of_rule(rule)[:10] if rule is not None else []
    context = _builder(request, form, rows, rule=rule, preview=preview, runs=recent)
    return render(request, template, context, status=400 if form.errors else 200)


@agent_view(roles=ADMIN_ROLES)
@require_http_methods(["GET", "POST"])
def rule_create(request: AgentRequest) -> HttpResponse:
    return _edit(request, None)


@agent_view(roles=ADMIN_ROLES)
@require_http_methods(["GET", "POST"])
def rule_detail(request: AgentRequest, rule_id: int) -> HttpResponse:
    return _edit(request, queries.get_rule_for_agent(request.agent, rule_id))


@agent_view(roles=ADMIN_ROLES)
@require_POST
def rule_delete(request: AgentRequest, rule_id: int) -> HttpResponse:
    rule = queries.get_rule_for_agent(request.agent, rule_id)
    services.delete_rule(actor=request.agent, rule=rule)
    messages.success(request, _("Rule deleted."))
    return redirect("automations:rules")


@agent_view(roles=ADMIN_ROLES)
@require_GET
def rule_runs(request: AgentRequest, rule_id: int) -> HttpResponse:
    rule = queries.get_rule_for_agent(request.agent, rule_id)
    page = Paginator(queries.runs_of_rule(rule), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "automations/run_list.html", {"rule": rule, "page": page})


@agent_view(roles=ADMIN_ROLES)
@require_GET
def condition_row(request: AgentRequest) -> HttpResponse:
    """One more blank condition row for the builder (htmx "Add a condition")."""
    context = _builder(request, forms.RuleForm(), ([], []))
    return render(request, "automations/_condition_row.html", {**context, "row": forms.Row("", "", "")})


@agent_view(roles=ADMIN_ROLES)
@require_GET
def action_row(request: AgentRequest) -> HttpResponse:
    context = _builder(request, forms.RuleForm(), ([], []))
    return render(request, "automations/_action_row.html", {**context, "row": forms.Row("", "", "")})
