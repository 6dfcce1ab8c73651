""" "Forgot password?": ask for a reset link, then choose a new password from it (``accounts.password_reset``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from deskloop.accounts import password_reset
from deskloop.accounts.access import public_view
from deskloop.core.client_ip import client_ip
from deskloop.core.errors import ValidationFailed
from deskloop.core.forms import AccessibleForm
from deskloop.core.refusals import refusal


class ResetRequestForm(AccessibleForm):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)


class NewPasswordForm(AccessibleForm):
    new_password = forms.CharField(
        label=gettext_lazy("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("At least 10 characters; not a common password and not only digits."),
    )
    new_password_again = forms.CharField(
        label=gettext_lazy("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


@public_view
@require_http_methods(["GET", "POST"])
def password_reset_request(request: HttpRequest) -> HttpResponse:
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset.request_password_reset(email=form.cleaned_data["email"], ip=client_ip(request))
        except password_reset.ResetThrottled:
            form.add_error(None, _("Too many reset requests. Wait an hour and try again."))
            return render(request, "accounts/password_reset.html", {"form": form}, status=429)
        # The same page whether or not the address has an account.
        return render(request, "accounts/password_reset.html", {"sent_to": form.cleaned_data["email"]})
    return render(request, "accounts/password_reset.html", {"form": form}, status=400 if form.errors else 200)


@public_view
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        password_reset.user_for_reset_link(uidb64=uidb64, token=token)
    except ValidationFailed as invalid:
        return render(request, "accounts/password_reset_confirm.html", {"invalid": invalid.message}, status=400)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            password_reset.reset_password(
                uidb64=uidb64,
                token=token,
                new_password=form.cleaned_data["new_password"],
                new_password_again=form.cleaned_data["new_password_again"],
            )
            messages.success(request, _("Your password was changed. Sign in with the new one."))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form}, status=400 if form.errors else 200)
