"""Ticket settings for admins and owners: statuses and custom fields (tags, product areas and team removal are
in admin_groups.py, macros in admin_macros.py).

Each list screen is one template with its list in a partial; htmx buttons (reorder, set default) swap only the
partial, other forms post normally and redirect. A refused change renders the screen again with the reason at
the top and the error's status (422, or 200 inside an htmx swap, which htmx only performs on success).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal
from deskloop.tickets.forms_admin import (
    CustomFieldForm,
    StatusForm,
)
from deskloop.tickets.models import CustomField, Status
from deskloop.tickets.services import configuration as config


def _offset(request: HttpRequest) -> int:
    return -1 if request.POST.get("direction") == "up" else 1


# ---- statuses ----------------------------------------------------------------------------------------------------
def _render_statuses(
    request: AgentRequest, form: StatusForm | None = None, *, error: str = "", status: int = 200
) -> HttpResponse:
    template = "tickets/admin/statuses.html#status-table" if is_htmx(request) else "tickets/admin/statuses.html"
    return render(
        request,
        template,
        {"statuses": config.statuses_for_admin(request.agent), "form": form or StatusForm(), "error": error},
        status=200 if is_htmx(request) else status,
    )


@agent_view(ADMIN_ROLES, description="The workspace's statuses; create one")
@require_http_methods(["GET", "POST"])
def statuses(request: AgentRequest) -> HttpResponse:
    form = StatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            created = config.create_status(
                actor=request.agent, name=form.cleaned_data["name"], category=form.cleaned_data["category"]
            )
            messages.success(request, _("Status “%(name)s” created.") % {"name": created.name})
            return redirect("admin_settings:statuses")
    return _render_statuses(request, form, status=422 if form.errors else 200)


@agent_view(ADMIN_ROLES, description="Rename a status or change its category")
@require_http_methods(["GET", "POST"])
def status_detail(request: AgentRequest, status_id: int) -> HttpResponse:
    current = config.get_status_for_admin(request.agent, status_id)
    form = StatusForm(request.POST or None, initial={"name": current.name, "category": current.category})
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            config.update_status(
                actor=request.agent,
                status=current,
                name=form.cleaned_data["name"],
                category=form.cleaned_data["category"],
            )
            messages.success(request, _("Status saved."))
            return redirect("admin_settings:statuses")
        current.refresh_from_db()
    return render(
        request,
        "tickets/admin/status_form.html",
        {"status_row": current, "form": form},
        status=422 if form.errors else 200,
    )


def _list_action(
    request: AgentRequest, run: Callable[[], object], *, done: str, render: Callable[..., HttpResponse], back: str
) -> HttpResponse:
    """A button on a list screen (statuses, fields): htmx gets the list again, a plain POST a message and a redirect,
    a refusal the list with the reason and the error's status."""
    with refusal() as refused:
        run()
        if is_htmx(request):
            return render(request)
        if done:
            messages.success(request, done)
        return redirect(back)
    return render(request, error=refused.message, status=refused.status)


def _status_action(request: AgentRequest, status_id: int, action: Any, done: str) -> HttpResponse:
    current: Status = config.get_status_for_admin(request.agent, status_id)
    return _list_action(
        request,
        lambda: action(current),
        done=done % {"name": current.name} if done else "",
        render=_render_statuses,
        back="admin_settings:statuses",
    )


@agent_view(ADMIN_ROLES, description="Move a status up or down the list")
@require_POST
def status_move(request: AgentRequest, status_id: int) -> HttpResponse:
    offset = _offset(request)
    return _status_action(
        request, status_id, lambda s: config.move_status(actor=request.agent, status=s, offset=offset), ""
    )


@agent_view(ADMIN_ROLES, description="Make a status its category's default")
@require_POST
def status_default(request: AgentRequest, status_id: int) -> HttpResponse:
    return _status_action(
        request,
        status_id,
        lambda s: config.set_default_status(actor=request.agent, status=s),
        _("“%(name)s” is now the default of its category."),
    )


@agent_view(ADMIN_ROLES, description="Delete a status no ticket uses")
@require_POST
def status_delete(request: AgentRequest, status_id: int) -> HttpResponse:
    return _status_action(
        request,
        status_id,
        lambda s: config.delete_status(actor=request.agent, status=s),
        _("Status “%(name)s” deleted."),
    )


# ---- custom fields -----------------------------------------------------------------------------------------------
def _render_fields(
    request: AgentRequest, form: CustomFieldForm | None = None, *, error: str = "", status: int = 200
) -> HttpResponse:
    template = "tickets/admin/fields.html#field-table" if is_htmx(request) else "tickets/admin/fields.html"
    return render(
        request,
        template,
        {"fields": config.custom_fields_for_admin(request.agent), "form": form or CustomFieldForm(), "error": error},
        status=200 if is_htmx(request) else status,
    )


@agent_view(ADMIN_ROLES, description="Custom ticket fields; create one")
@require_http_methods(["GET", "POST"])
def fields(request: AgentRequest) -> HttpResponse:
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            created = config.create_custom_field(
                actor=request.agent,
                label=form.cleaned_data["label"],
                field_type=form.cleaned_data["field_type"],
                key=form.cleaned_data["key"],
                choices=form.choice_list(),
                required_on_solve=form.cleaned_data["required_on_solve"],
                visible_to_customers=form.cleaned_data["visible_to_customers"],
            )
            messages.success(request, _("Field “%(label)s” created.") % {"label": created.label})
            return redirect("admin_settings:fields")
    return _render_fields(request, form, status=422 if form.errors else 200)


@agent_view(ADMIN_ROLES, description="Edit a custom field's label, choices and required-to-solve flag")
@require_http_methods(["GET", "POST"])
def field_detail(request: AgentRequest, field_id: int) -> HttpResponse:
    field: CustomField = config.get_custom_field_for_admin(request.agent, field_id)
    initial = {
        "label": field.label,
        "choices": "\n".join(field.choices),
        "required_on_solve": field.required_on_solve,
        "visible_to_customers": field.visible_to_customers,
    }
    form = CustomFieldForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            config.update_custom_field(
                actor=request.agent,
                field=field,
                label=form.cleaned_data["label"],
                choices=form.choice_list(),
                required_on_solve=form.cleaned_data["required_on_solve"],
                visible_to_customers=form.cleaned_data["visible_to_customers"],
            )
            messages.success(request, _("Field saved."))
            return redirect("admin_settings:fields")
    return render(
        request, "tickets/admin/field_form.html", {"field": field, "form": form}, status=422 if form.errors else 200
    )


def _field_action(request: AgentRequest, field_id: int, action: Any, done: str) -> HttpResponse:
    field: CustomField = config.get_custom_field_for_admin(request.agent, field_id)
    return _list_action(
        request,
        lambda: action(field),
        done=done % {"label": field.label} if done else "",
        render=_render_fields,
        back="admin_settings:fields",
    )


@agent_view(ADMIN_ROLES, description="Move a custom field up or down")
@require_POST
def field_move(request: AgentRequest, field_id: int) -> HttpResponse:
    offset = _offset(request)
    return _field_action(
        request, field_id, lambda f: config.move_custom_field(actor=request.agent, field=f, offset=offset), ""
    )


@agent_view(ADMIN_ROLES, description="Delete a custom field no ticket has a value for")
@require_POST
def field_delete(request: AgentRequest, field_id: int) -> HttpResponse:
    return _field_action(
        request,
        field_id,
        lambda f: config.delete_custom_field(actor=request.agent, field=f),
        _("Field “%(label)s” deleted."),
    )
