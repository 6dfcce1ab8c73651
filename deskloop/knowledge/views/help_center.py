"""The "Help center" settings screen (admins): its own host name, the holdout share, the widget secret."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.refusals import refusal
from deskloop.knowledge.forms import HelpCenterForm
from deskloop.knowledge.queries import help_center_base_url
from deskloop.knowledge.services import help_center as services

TEMPLATE = "knowledge/agents/help_center_settings.html"


@agent_view(roles=ADMIN_ROLES, description="Help-center settings: host name, holdout, widget secret")
@require_http_methods(["GET", "POST"])
def help_center_settings(request: AgentRequest) -> HttpResponse:
    workspace = request.agent.workspace
    current = services.help_center_of(workspace)
    form = HelpCenterForm(
        request.POST or None, initial={"host_name": current.host_name, "holdout_percent": current.holdout_percent}
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        with refusal(form) as refused:
            services.update_help_center(
                actor=request.agent,
                workspace=workspace,
                host_name=form.cleaned_data["host_name"],
                holdout_percent=form.cleaned_data["holdout_percent"],
            )
            messages.success(request, _("Help center settings saved."))
            return redirect("knowledge_settings:help_center")
        status = refused.status
    return render(
        request,
        TEMPLATE,
        {
            "form": form,
            "help_center": current,
            "address": help_center_base_url(workspace),
            "new_secret": "",
        },
        status=422 if form.errors and status == 200 else status,
    )


@agent_view(roles=ADMIN_ROLES, description="Generate a new widget secret (shown once)")
@require_POST
def widget_secret_rotate(request: AgentRequest) -> HttpResponse:
    workspace = request.agent.workspace
    with refusal() as refused:
        rotated = services.rotate_widget_secret(actor=request.agent, workspace=workspace)
        # Rendered, not redirected: the secret is shown this once and never stored anywhere the page could read
        # it back from.
        return render(
            request,
            TEMPLATE,
            {
                "form": HelpCenterForm(
                    initial={
                        "host_name": rotated.help_center.host_name,
                        "holdout_percent": rotated.help_center.holdout_percent,
                    }
                ),
                "help_center": rotated.help_center,
                "address": help_center_base_url(workspace),
                "new_secret": rotated.secret,
            },
        )
    return refused.redirect(request, "knowledge_settings:help_center")
