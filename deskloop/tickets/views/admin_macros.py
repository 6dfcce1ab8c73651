"""Macros in settings: shared macros are managed by admins and owners; every agent who can reply keeps personal
ones. Agents see shared macros read-only. The writes are deskloop.tickets.services.macros, the same functions the
ticket page uses."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts import queries as account_queries
from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import WRITER_ROLES, Agent
from deskloop.core.errors import NotFound
from deskloop.core.refusals import refusal
from deskloop.core.template_sandbox import RULES
from deskloop.tickets.forms_admin import MacroForm
from deskloop.tickets.models import Macro, Priority
from deskloop.tickets.services import configuration as config
from deskloop.tickets.services import macros as macro_services

SHARED_NEEDS_ADMIN = gettext_noop("Only admins can change shared macros.")


def _can_manage(agent: Agent, macro: Macro) -> bool:
    return agent.is_admin if macro.owner_id is None else macro.owner_id == agent.pk


def _form(agent: Agent, data: Any = None, *, initial: dict[str, Any] | None = None, editing: bool = False) -> MacroForm:
    people = [(str(a.pk), a.name) for a in account_queries.agents_of_workspace(agent.workspace_id) if a.is_active]
    return MacroForm(
        data,
        initial=initial,
        statuses=config.status_choices(agent.workspace_id),
        agents=people,
        can_share=agent.is_admin,
        editing=editing,
    )


def _initial(macro: Macro) -> dict[str, Any]:
    actions = macro.actions or {}
    return {
        "name": macro.name,
        "body": macro.body,
        "status": actions.get("status"),
        "priority": actions.get("priority", ""),
        "assignee": str(actions.get("assignee", "")),
        "add_tags": ", ".join(actions.get("add_tags", [])),
        "remove_tags": ", ".join(actions.get("remove_tags", [])),
    }


def _describe(agent: Agent, macros: list[Macro]) -> list[dict[str, Any]]:
    """Each macro with its actions in words, for the list."""
    statuses = dict(config.status_choices(agent.workspace_id))
    people = {a.pk: a.name for a in account_queries.agents_of_workspace(agent.workspace_id)}
    priorities = dict(Priority.choices)
    rows = []
    for macro in macros:
        actions = macro.actions or {}
        summary = []
        if "status" in actions:
            summary.append(_("status: %(value)s") % {"value": statuses.get(actions["status"], "?")})
        if "priority" in actions:
            summary.append(_("priority: %(value)s") % {"value": priorities.get(actions["priority"], "?")})
        if actions.get("assignee") == "me":
            summary.append(_("assign to whoever applies it"))
        elif "assignee" in actions:
            summary.append(_("assign to %(name)s") % {"name": people.get(actions["assignee"], "?")})
        if actions.get("add_tags"):
            summary.append(_("add tags: %(tags)s") % {"tags": ", ".join(actions["add_tags"])})
        if actions.get("remove_tags"):
            summary.append(_("remove tags: %(tags)s") % {"tags": ", ".join(actions["remove_tags"])})
        rows.append({"macro": macro, "summary": summary, "can_manage": _can_manage(agent, macro)})
    return rows


def _render_list(request: AgentRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    macros = list(macro_services.macros_for_agent(request.agent))
    return render(
        request,
        "tickets/admin/macros.html",
        {"rows": _describe(request.agent, macros), "error": error},
        status=status,
    )


@agent_view(WRITER_ROLES, description="Shared macros and the caller's personal ones")
@require_GET
def macros(request: AgentRequest) -> HttpResponse:
    return _render_list(request)


@agent_view(WRITER_ROLES, description="Create a personal macro, or (admins) a shared one")
@require_http_methods(["GET", "POST"])
def macro_create(request: AgentRequest) -> HttpResponse:
    form = _form(request.agent, request.POST or None, initial={"shared": request.agent.is_admin})
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            macro = macro_services.create_macro(
                agent=request.agent,
                name=form.cleaned_data["name"],
                body=form.cleaned_data["body"],
                actions=form.actions(),
                shared=bool(form.cleaned_data.get("shared")),
            )
            messages.success(request, _("Macro “%(name)s” created.") % {"name": macro.name})
            return redirect("admin_settings:macros")
    return render(
        request,
        "tickets/admin/macro_form.html",
        {"form": form, "placeholders": macro_services.PLACEHOLDERS, "can_manage": True, "template_rules": RULES},
        status=422 if form.errors else 200,
    )


@agent_view(WRITER_ROLES, description="Edit a macro the caller may manage; read a shared one")
@require_http_methods(["GET", "POST"])
def macro_detail(request: AgentRequest, macro_id: int) -> HttpResponse:
    macro = _visible_macro(request.agent, macro_id)
    can_manage = _can_manage(request.agent, macro)
    form = _form(request.agent, request.POST or None, initial=_initial(macro), editing=True)
    context = {
        "form": form,
        "macro": macro,
        "placeholders": macro_services.PLACEHOLDERS,
        "can_manage": can_manage,
        "template_rules": RULES,
    }
    if request.method == "GET":
        return render(request, "tickets/admin/macro_form.html", context)
    if not can_manage:
        context["error"] = _(SHARED_NEEDS_ADMIN)
        return render(request, "tickets/admin/macro_form.html", context, status=403)
    if form.is_valid():
        with refusal(form):
            macro_services.update_macro(
                macro=macro,
                agent=request.agent,
                name=form.cleaned_data["name"],
                body=form.cleaned_data["body"],
                actions=form.actions(),
            )
            messages.success(request, _("Macro saved."))
            return redirect("admin_settings:macros")
    return render(request, "tickets/admin/macro_form.html", context, status=422)


@agent_view(WRITER_ROLES, description="Delete a macro the caller may manage")
@require_POST
def macro_delete(request: AgentRequest, macro_id: int) -> HttpResponse:
    macro = _visible_macro(request.agent, macro_id)
    with refusal() as refused:
        macro_services.delete_macro(macro=macro, agent=request.agent)
        messages.success(request, _("Macro “%(name)s” deleted.") % {"name": macro.name})
        return redirect("admin_settings:macros")
    return _render_list(request, error=refused.message, status=refused.status)


def _visible_macro(agent: Agent, macro_id: int) -> Macro:
    try:
        return macro_services.get_macro_for_agent(agent, macro_id)
    except NotFound as missing:
        raise Http404(missing.message) from missing
