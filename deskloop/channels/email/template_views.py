"""Settings pages for the wording of automatic emails: the list of kinds, and one page per kind to edit,
preview and reset its template. Admins and owners only."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.refusals import refusal
from deskloop.core.template_sandbox import RULES

from . import email_templates
from .models import OutboundKind
from .template_forms import EmailTemplateForm


def _initial(source: email_templates.TemplateSource) -> dict[str, Any]:
    return {
        "subject": source.subject,
        "body_text": source.body_text,
        "body_html": source.body_html,
        "is_active": source.is_active,
        "include_agent_created": source.include_agent_created,
    }


@agent_view(roles=ADMIN_ROLES, description="List the kinds of automatic email and whether each is customized")
@require_GET
def template_list(request: AgentRequest) -> HttpResponse:
    workspace_id = request.agent.workspace_id
    kinds = [
        {"kind": kind, "label": OutboundKind(kind).label, "source": email_templates.template_source(workspace_id, kind)}
        for kind in email_templates.EDITABLE_KINDS
    ]
    return render(request, "email_channel/email_template_list.html", {"kinds": kinds})


@agent_view(roles=ADMIN_ROLES, description="Edit, preview or reset the workspace's template of one email kind")
@require_http_methods(["GET", "POST"])
def template_edit(request: AgentRequest, kind: str) -> HttpResponse:
    agent = request.agent
    workspace = agent.workspace
    current = email_templates.template_source(workspace.pk, kind)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "reset":
        email_templates.reset_email_template(actor=agent, kind=kind)
        messages.success(request, _("The built-in wording is back."))
        return redirect("email_channel:email_template", kind=kind)
    form = EmailTemplateForm(request.POST or None, initial=_initial(current))
    preview = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal(form):
            if action == "preview":
                preview = email_templates.check_source(
                    email_templates.TemplateSource(
                        kind=kind,
                        subject=data["subject"],
                        body_text=data["body_text"],
                        body_html=data["body_html"],
                        is_active=data["is_active"],
                        include_agent_created=data["include_agent_created"],
                        is_default=False,
                    ),
                    workspace_name=workspace.name,
                    prefix=workspace.ticket_prefix,
                )
            else:
                email_templates.save_email_template(
                    actor=agent,
                    kind=kind,
                    subject=data["subject"],
                    body_text=data["body_text"],
                    body_html=data["body_html"],
                    is_active=data["is_active"],
                    include_agent_created=data["include_agent_created"],
                )
                messages.success(request, _("Template saved."))
                return redirect("email_channel:email_template", kind=kind)
    if request.method == "GET":
        preview = email_templates.check_source(current, workspace_name=workspace.name, prefix=workspace.ticket_prefix)
    if form.errors:
        status = 400
    return render(
        request,
        "email_channel/email_template_form.html",
        {
            "form": form,
            "kind": kind,
            "label": OutboundKind(kind).label,
            "source": current,
            "preview": preview,
            "variables": email_templates.context_help(kind),
            "template_rules": RULES,
            "is_acknowledgement": kind == OutboundKind.ACKNOWLEDGEMENT,
        },
        status=status,
    )
