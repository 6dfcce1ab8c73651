"""The first-run sign-up: on an installation with no workspace yet, whoever installed it creates the workspace and
becomes its owner. The page is gone (404) once a workspace exists, unless the operator keeps sign-up open
(DESKLOOP_OPEN_SIGNUP)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from deskloop.accounts.access import SESSION_WORKSPACE_KEY, public_view
from deskloop.accounts.forms import language_choices
from deskloop.accounts.queries import signup_open
from deskloop.core.forms import AccessibleForm
from deskloop.core.refusals import refusal
from deskloop.tickets.services.setup import open_workspace


class SignupForm(AccessibleForm):
    name = forms.CharField(label=_("Workspace name"), max_length=200, help_text=_("Your company or team."))
    owner_name = forms.CharField(label=_("Your name"), max_length=200)
    owner_email = forms.EmailField(label=_("Email"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    language = forms.ChoiceField(label=_("Language"), choices=language_choices, initial="en")


@public_view
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not signup_open():
        raise Http404("Sign-up is closed")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            owner = open_workspace(**form.cleaned_data, signing_up=True)
            login(request, owner.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_WORKSPACE_KEY] = owner.workspace_id
            return redirect("tickets:inbox")
    return render(request, "tickets/signup.html", {"form": form}, status=422 if form.errors else 200)
