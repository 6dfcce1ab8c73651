"""Sign-in, sign-out and choosing the current workspace."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from deskloop.accounts import queries, signin_throttle
from deskloop.accounts.access import SESSION_WORKSPACE_KEY, public_view, signed_in_view
from deskloop.accounts.models import Agent
from deskloop.core.client_ip import client_ip


@public_view
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    error = ""
    status = 200
    email = ""
    if request.method == "POST":
        email = request.POST.get("email", "").strip().lower()
        password = request.POST.get("password", "")
        ip = client_ip(request)
        if not signin_throttle.begin_attempt(email=email, ip=ip):
            error = _(signin_throttle.THROTTLED)
            status = 429
        else:
            user = authenticate(request, username=email, password=password)
            if user is None:
                error = _("That email and password do not match.")
                status = 400
            else:
                signin_throttle.attempt_succeeded(email=email, ip=ip)
                login(request, user)
                return redirect(next_url or "tickets:inbox")
    context = {"error": error, "next": next_url, "email": email, "signup_open": queries.signup_open()}
    return render(request, "accounts/login.html", context, status=status)


@public_view
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


@signed_in_view
@require_http_methods(["GET", "POST"])
def choose_workspace(request: HttpRequest) -> HttpResponse:
    memberships = list(
        Agent.objects.filter(user_id=int(request.user.pk or 0), is_active=True)
        .select_related("workspace")
        .order_by("workspace__name")
    )
    if request.method == "POST":
        chosen = next((m for m in memberships if str(m.workspace_id) == request.POST.get("workspace")), None)
        if chosen is not None:
            request.session[SESSION_WORKSPACE_KEY] = chosen.workspace_id
            return redirect("tickets:inbox")
    return render(request, "accounts/choose_workspace.html", {"memberships": memberships})
