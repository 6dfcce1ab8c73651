"""Forms of the settings screens. They only parse; the services validate and say what is wrong."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from deskloop.accounts.models import Agent, Role
from deskloop.core.forms import AccessibleForm

PASSWORDS_DIFFER = _("The two new passwords are not the same.")


def language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def time_zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


class TimeZoneInput(forms.TextInput):
    """A text input with a list of suggestions: typing "Madr" offers Europe/Madrid, and any value can be typed."""

    def __init__(self) -> None:
        super().__init__(attrs={"list": "time-zone-names", "autocomplete": "off", "spellcheck": "false"})


class ProfileForm(AccessibleForm):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=language_choices)
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        required=False,
        widget=TimeZoneInput(),
        help_text=_("Times across Deskloop are shown in this zone, e.g. Europe/Madrid or America/New_York."),
    )


class StartViewForm(AccessibleForm):
    start_view = forms.ChoiceField(
        label=_("Inbox opens with"),
        required=False,
        help_text=_("The view you see first when you open the inbox."),
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["start_view"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Default (All unsolved)")), *choices]


class PasswordForm(AccessibleForm):
    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common password and not only digits."),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("new_password") != cleaned.get("new_password_again"):
            self.add_error("new_password_again", PASSWORDS_DIFFER)
        return cleaned


class WorkspaceForm(AccessibleForm):
    name = forms.CharField(label=_("Workspace name"), max_length=200, required=False)
    ticket_prefix = forms.CharField(
        label=_("Ticket prefix"),
        max_length=40,
        required=False,
        help_text=_(
            "Shown in email subjects as [PREFIX #1234] so replies find their ticket. "
            "Replies to mail sent with the old prefix still thread by their headers."
        ),
    )
    default_language = forms.ChoiceField(
        label=_("Default language"),
        choices=language_choices,
        help_text=_("Invitations are written in it, and new agents start with it."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        required=False,
        widget=TimeZoneInput(),
        help_text=_("Used for invitation emails and as new agents' time zone."),
    )


def invitable_roles(actor: Agent) -> list[tuple[str, str]]:
    """Owners may make owners; admins every other role."""
    return [(value, str(label)) for value, label in Role.choices if value != Role.OWNER or actor.role == Role.OWNER]


class InvitationForm(AccessibleForm):
    email = forms.CharField(
        label=_("Email address"), max_length=254, required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(label=_("Role"), choices=())

    def __init__(self, *args: object, actor: Agent, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = invitable_roles(actor)
        field.initial = Role.AGENT


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class TeamForm(AccessibleForm):
    name = forms.CharField(label=_("Team name"), max_length=200, required=False)


class TeamMembersForm(forms.Form):
    members = forms.TypedMultipleChoiceField(
        label=_("Members"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args: object, agents: list[Agent], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["members"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(agent.pk, agent.name) for agent in agents]


class TokenForm(AccessibleForm):
    name = forms.CharField(
        label=_("Token name"),
        max_length=200,
        required=False,
        help_text=_("What uses it, e.g. “CRM sync” or “Reporting script”."),
    )


class AcceptInvitationForm(AccessibleForm):
    name = forms.CharField(
        label=_("Your name"), max_length=200, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common password and not only digits."),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords are not the same."))
        return cleaned
