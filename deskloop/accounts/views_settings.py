"""Settings: the home page listing every settings screen, the agent's own profile and API tokens, and the
workspace's own settings. People (agents, invitations, teams) are in views_people.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts import queries, services
from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.forms import (
    PasswordForm,
    ProfileForm,
    StartViewForm,
    TokenForm,
    WorkspaceForm,
    time_zone_names,
)
from deskloop.accounts.models import ADMIN_ROLES, ALL_ROLES, Role
from deskloop.accounts.preferences import start_view_choices
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal


@agent_view(ALL_ROLES, description="Settings home: every settings screen the caller's role may open")
@require_GET
def home(request: AgentRequest) -> HttpResponse:
    return render(request, "accounts/settings/home.html")


# ---- profile -----------------------------------------------------------------------------------------------------
def _start_view_form(request: AgentRequest, data: Any = None) -> StartViewForm:
    agent = request.agent
    return StartViewForm(data, initial={"start_view": agent.start_view}, choices=start_view_choices(agent))


def _render_profile(
    request: AgentRequest,
    profile_form: ProfileForm,
    password_form: PasswordForm,
    *,
    start_view_form: StartViewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": profile_form,
        "password_form": password_form,
        "start_view_form": start_view_form or _start_view_form(request),
        "time_zone_names": time_zone_names(),
    }
    return render(request, "accounts/settings/profile.html", context, status=status)


@agent_view(ALL_ROLES, description="The caller's own name, language and time zone")
@require_http_methods(["GET", "POST"])
def profile(request: AgentRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None, initial={"name": user.name, "language": user.language, "time_zone": user.time_zone}
    )
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            services.update_profile(
                user=user,
                name=form.cleaned_data["name"],
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
            )
            messages.success(request, _("Your profile was saved."))
            return redirect("settings:profile")
    return _render_profile(request, form, PasswordForm(), status=400 if form.errors else 200)


@agent_view(ALL_ROLES, description="Change the caller's own password")
@require_POST
def password(request: AgentRequest) -> HttpResponse:
    form = PasswordForm(request.POST)
    if form.is_valid():
        with refusal(form):
            services.change_password(
                user=request.user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
            )
            # Changing the password rotates the session hash; keep this session signed in, end the others.
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password was changed."))
            return redirect("settings:profile")
    return _render_profile(request, _profile_form(request), form, status=400)


def _profile_form(request: AgentRequest) -> ProfileForm:
    user = request.user
    return ProfileForm(initial={"name": user.name, "language": user.language, "time_zone": user.time_zone})


@agent_view(ALL_ROLES, description="Choose the inbox view the caller's inbox opens with")
@require_POST
def start_view(request: AgentRequest) -> HttpResponse:
    form = _start_view_form(request, request.POST)
    if form.is_valid():
        with refusal(form):
            services.set_start_view(agent=request.agent, view=form.cleaned_data["start_view"])
            messages.success(request, _("Your inbox start view was saved."))
            return redirect("settings:profile")
    return _render_profile(request, _profile_form(request), PasswordForm(), start_view_form=form, status=400)


# ---- API tokens --------------------------------------------------------------------------------------------------
def _render_tokens(
    request: AgentRequest, form: TokenForm, *, created: Any = None, secret: str = "", status: int = 200
) -> HttpResponse:
    agent = request.agent
    context = {
        "form": form,
        "tokens": queries.tokens_of_agent(agent),
        "other_tokens": queries.active_tokens_of_others(agent) if agent.is_admin else [],
        "created": created,
        "secret": secret,
    }
    template = "accounts/settings/tokens.html#token-panel" if is_htmx(request) else "accounts/settings/tokens.html"
    response = render(request, template, context, status=200 if is_htmx(request) else status)
    if secret:
        # The secret is in this response only; no cache may keep a copy.
        response["Cache-Control"] = "no-store"
    return response


@agent_view(ALL_ROLES, description="The caller's API tokens (admins also see everyone's active tokens)")
@require_http_methods(["GET", "POST"])
def tokens(request: AgentRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            token, secret = services.create_api_token(agent=request.agent, name=form.cleaned_data["name"])
            return _render_tokens(request, TokenForm(), created=token, secret=secret)
    return _render_tokens(request, form, status=400 if form.errors else 200)


@agent_view(ALL_ROLES, description="Revoke one's own API token, or (admins) anyone's in the workspace")
@require_POST
def token_revoke(request: AgentRequest, token_id: int) -> HttpResponse:
    token = queries.get_token_for_agent(request.agent, token_id)
    services.revoke_api_token(actor=request.agent, token=token)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("settings:tokens")


# ---- workspace ---------------------------------------------------------------------------------------------------
@agent_view(ADMIN_ROLES, description="The workspace's name, ticket prefix, default language and time zone")
@require_http_methods(["GET", "POST"])
def workspace(request: AgentRequest) -> HttpResponse:
    current = request.agent.workspace
    form = WorkspaceForm(
        request.POST or None,
        initial={
            "name": current.name,
            "ticket_prefix": current.ticket_prefix,
            "default_language": current.default_language,
            "time_zone": current.time_zone,
        },
    )
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            services.update_workspace(
                actor=request.agent,
                name=form.cleaned_data["name"],
                ticket_prefix=form.cleaned_data["ticket_prefix"],
                default_language=form.cleaned_data["default_language"],
                time_zone=form.cleaned_data["time_zone"],
            )
            messages.success(request, _("Workspace settings saved."))
            return redirect("settings:workspace")
    return render(
        request,
        "accounts/settings/workspace.html",
        {"form": form, "time_zone_names": time_zone_names(), "is_owner": request.agent.role == Role.OWNER},
        status=400 if form.errors else 200,
    )


@agent_view({Role.OWNER.value}, description="Let this workspace's webhooks reach private network addresses")
@require_POST
def private_targets(request: AgentRequest) -> HttpResponse:
    allowed = request.POST.get("allowed") == "1"
    services.set_private_webhook_targets(actor=request.agent, allowed=allowed)
    if allowed:
        messages.warning(request, _("Webhooks may now reach private and loopback addresses."))
    else:
        messages.success(request, _("Webhooks are sent to public addresses only."))
    return redirect("settings:workspace")
