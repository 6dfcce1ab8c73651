"""Per-language names of statuses, teams, product areas and custom field labels (admins): one screen for all of
them, reached from each one's settings page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.forms import AccessibleForm
from deskloop.core.refusals import refusal
from deskloop.tickets.services import vocabulary

# Where "Back" goes from each kind's names: its own settings page.
_BACK = {
    "status": "admin_settings:status",
    "team": "settings:team",
    "area": "admin_settings:area",
    "field": "admin_settings:field",
}


class NamesForm(AccessibleForm):
    """A name field per offered language; built from settings.LANGUAGES, so a language added there gets one."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for code, label in settings.LANGUAGES:
            self.fields[f"name_{code}"] = forms.CharField(
                label=_("Name in %(language)s") % {"language": _(str(label))}, required=False, max_length=200
            )
        self.describe_fields()

    def names(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(f"name_{code}", "") for code, _label in settings.LANGUAGES}


@agent_view(ADMIN_ROLES, description="Name a status, team, product area or custom field per language")
@require_http_methods(["GET", "POST"])
def names(request: AgentRequest, kind: str, **ids: int) -> HttpResponse:
    (pk,) = ids.values()
    row = vocabulary.get_named_for_admin(request.agent, kind, pk)
    initial = {f"name_{code}": name for code, name in row.name_translations.items()}
    form = NamesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            vocabulary.set_name_translations(actor=request.agent, row=row, names=form.names())
            messages.success(request, _("Names saved."))
            form = NamesForm(initial={f"name_{code}": name for code, name in row.name_translations.items()})
    back = reverse(_BACK[kind], args=[pk])
    return render(
        request,
        "tickets/admin/names_form.html",
        {"row": row, "form": form, "back": back},
        status=422 if form.errors else 200,
    )
