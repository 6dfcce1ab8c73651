"""The public page an invitation email links to: a new person sets a name and password, someone who already
has an account signs in first; either way they join the workspace and land in the inbox."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from deskloop.accounts import queries, services
from deskloop.accounts.access import SESSION_WORKSPACE_KEY, public_view
from deskloop.accounts.forms import AcceptInvitationForm
from deskloop.accounts.models import Agent, Invitation, User
from deskloop.core.refusals import refusal

_STATE_STATUS = {
    services.InvitationState.EXPIRED: 410,
    services.InvitationState.REVOKED: 410,
    services.InvitationState.ACCEPTED: 410,
}


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "accounts/invitation_invalid.html", {"message": message}, status=status)


def _joined(request: HttpRequest, agent: Agent) -> HttpResponse:
    request.session[SESSION_WORKSPACE_KEY] = agent.workspace_id
    return redirect("tickets:inbox")


def _page(
    request: HttpRequest, invitation: Invitation, *, form: AcceptInvitationForm | None = None, **extra: object
) -> HttpResponse:
    login_url = reverse("accounts:login") + "?" + urlencode({"next": request.path})
    context = {
        "invitation": invitation,
        "workspace_name": invitation.workspace.name,
        "form": form,
        "login_url": login_url,
        **extra,
    }
    return render(
        request, "accounts/invitation_accept.html", context, status=400 if form is not None and form.errors else 200
    )


@public_view
@never_cache
@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.find_invitation(token)
    if invitation is None:
        return _refused(request, _(services.INVITATION_UNKNOWN), 404)
    state = services.invitation_state(invitation)
    if state != services.InvitationState.PENDING:
        return _refused(request, services.invitation_refusal(state), _STATE_STATUS[state])

    user = request.user
    if user.is_authenticated:
        assert isinstance(user, User)
        if user.email.lower() != invitation.email.lower():
            return _page(request, invitation, other_person=True)
        if request.method == "POST":
            with refusal() as refused:
                return _joined(request, services.accept_invitation_as(secret=token, user=user))
            return _refused(request, refused.message, refused.status)
        return _page(request, invitation, signed_in=True)

    if queries.user_with_email_exists(invitation.email):
        return _page(request, invitation, needs_sign_in=True)

    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal(form) as refused:
            agent = services.accept_invitation(
                secret=token, name=form.cleaned_data["name"], password=form.cleaned_data["password"]
            )
            login(request, agent.user, backend="django.contrib.auth.backends.ModelBackend")
            return _joined(request, agent)
        if refused.error is not None and refused.error.field not in form.fields:
            return _refused(request, refused.message, refused.status)
    return _page(request, invitation, form=form)
