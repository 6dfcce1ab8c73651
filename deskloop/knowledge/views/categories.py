"""Categories and their sections (admins change them; every agent sees them)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES, ALL_ROLES
from deskloop.core.refusals import refusal
from deskloop.knowledge import queries
from deskloop.knowledge.forms import CategoryForm, NewCategoryForm
from deskloop.knowledge.services import categories as services


@agent_view(roles=ALL_ROLES, description="The knowledge base's categories and sections; admins add them")
@require_http_methods(["GET", "POST"])
def category_list(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    form = NewCategoryForm(request.POST or None, workspace_id=agent.workspace_id)
    status = 200
    if request.method == "POST" and form.is_valid():
        with refusal(form) as refused:
            category = services.create_category(
                actor=agent,
                workspace=agent.workspace,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
            )
            messages.success(request, _("“%(name)s” added.") % {"name": category.name})
            return redirect("knowledge:categories")
        status = refused.status
    return render(
        request,
        "knowledge/agents/categories.html",
        {"form": form, "categories": queries.categories_of(agent.workspace_id), "can_admin": agent.is_admin},
        status=422 if form.errors and status == 200 else status,
    )


@agent_view(roles=ADMIN_ROLES, description="Rename a category or section, and name it per language")
@require_http_methods(["GET", "POST"])
def category_edit(request: AgentRequest, category_id: int) -> HttpResponse:
    category = queries.get_category_for_agent(request.agent, category_id)
    initial = {"name": category.name, "description": category.description}
    initial.update({f"name_{code}": name for code, name in (category.name_translations or {}).items()})
    form = CategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            services.rename_category(
                actor=request.agent,
                category=category,
                name=form.cleaned_data["name"],
                names=form.names(),
                description=form.cleaned_data["description"],
            )
            messages.success(request, _("Category saved."))
            return redirect("knowledge:categories")
    return render(
        request,
        "knowledge/agents/category_edit.html",
        {"form": form, "category": category},
        status=422 if form.errors else 200,
    )


@agent_view(roles=ADMIN_ROLES, description="Move a category or section up or down among its siblings")
@require_POST
def category_move(request: AgentRequest, category_id: int) -> HttpResponse:
    category = queries.get_category_for_agent(request.agent, category_id)
    with refusal() as refused:
        services.move_category(actor=request.agent, category=category, up=request.POST.get("direction") == "up")
    if refused:
        return refused.redirect(request, "knowledge:categories")
    return redirect("knowledge:categories")


@agent_view(roles=ADMIN_ROLES, description="Delete an empty category or section")
@require_POST
def category_delete(request: AgentRequest, category_id: int) -> HttpResponse:
    category = queries.get_category_for_agent(request.agent, category_id)
    name = category.name
    with refusal() as refused:
        services.delete_category(actor=request.agent, category=category)
        messages.success(request, _("“%(name)s” deleted.") % {"name": name})
    if refused:
        return refused.redirect(request, "knowledge:categories")
    return redirect("knowledge:categories")
