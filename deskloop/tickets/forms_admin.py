"""Forms of the ticket settings screens (statuses, custom fields, tags, product areas, macros, team removal).

They parse only; deskloop.tickets.services.configuration and .macros validate and explain refusals.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.core.forms import AccessibleForm
from deskloop.tickets.models import CustomFieldType, Priority, StatusCategory


def _set_choices(form: forms.Form, name: str, choices: list[tuple[Any, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class StatusForm(AccessibleForm):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    category = forms.ChoiceField(
        label=_("Category"),
        choices=StatusCategory.choices,
        help_text=_("Reports and inbox views count tickets by category; agents see the name."),
    )


class CustomFieldForm(AccessibleForm):
    label = forms.CharField(label=_("Label"), max_length=200, required=False)
    field_type = forms.ChoiceField(label=_("Type"), choices=CustomFieldType.choices)
    key = forms.CharField(
        label=_("Key"),
        max_length=100,
        required=False,
        help_text=_(
            "The name in the API and in filters. Leave empty to make it from the label; it cannot change later."
        ),
    )
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For single and multiple choice fields: one choice per line, in the order agents see them."),
    )
    required_on_solve = forms.BooleanField(label=_("Required to solve a ticket"), required=False)
    visible_to_customers = forms.BooleanField(
        label=_("Ask customers"),
        required=False,
        help_text=_("Shown in the customer portal's and the widget's request form."),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # Type and key are fixed once tickets may hold values.
            del self.fields["field_type"]
            del self.fields["key"]

    def choice_list(self) -> list[str]:
        return (self.cleaned_data.get("choices") or "").splitlines()


class TagRenameForm(AccessibleForm):
    name = forms.CharField(label=_("New name"), max_length=200, required=False)


class TagMergeForm(AccessibleForm):
    target = forms.TypedChoiceField(label=_("Merge into"), coerce=int, choices=())

    def __init__(self, *args: Any, targets: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "target", [("", "—"), *targets])


class ProductAreaForm(AccessibleForm):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    parent = forms.TypedChoiceField(label=_("Inside"), coerce=int, empty_value=None, required=False, choices=())
    owner = forms.TypedChoiceField(label=_("Product manager"), coerce=int, empty_value=None, required=False, choices=())

    def __init__(
        self, *args: Any, parents: list[tuple[int, str]], owners: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "parent", [("", _("— top level —")), *parents])
        if owners is None:
            # The "new area" form names the area only; its owner is set on the area's page.
            del self.fields["owner"]
        else:
            _set_choices(self, "owner", [("", "—"), *owners])


class TeamDeleteForm(forms.Form):
    move_to = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, choices=())

    def __init__(self, *args: Any, teams: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "move_to", [("", "—"), *teams])


class MacroForm(AccessibleForm):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Reply text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Placeholders like {{ requester.first_name }} are filled in when the macro is used."),
    )
    status = forms.TypedChoiceField(label=_("Set status"), coerce=int, empty_value=None, required=False, choices=())
    priority = forms.ChoiceField(label=_("Set priority"), required=False, choices=())
    assignee = forms.ChoiceField(label=_("Assign to"), required=False, choices=())
    add_tags = forms.CharField(
        label=_("Add tags"), required=False, max_length=1000, help_text=_("Comma-separated tag names.")
    )
    remove_tags = forms.CharField(
        label=_("Remove tags"), required=False, max_length=1000, help_text=_("Comma-separated tag names.")
    )
    shared = forms.BooleanField(
        label=_("Shared with the whole workspace"),
        required=False,
        help_text=_("Shared macros are managed by admins; personal ones only you see."),
    )

    def __init__(
        self,
        *args: Any,
        statuses: list[tuple[int, str]],
        agents: list[tuple[Any, str]],
        can_share: bool,
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "status", [("", _("— leave as is —")), *statuses])
        _set_choices(self, "priority", [("", _("— leave as is —")), *Priority.choices])
        _set_choices(self, "assignee", [("", _("— leave as is —")), ("me", _("Whoever applies the macro")), *agents])
        if editing or not can_share:
            del self.fields["shared"]

    def actions(self) -> dict[str, Any]:
        """The macro's actions in the shape deskloop.tickets.services.macros validates."""
        data = self.cleaned_data
        return {
            "status": data.get("status"),
            "priority": data.get("priority") or None,
            "assignee": data.get("assignee") or None,
            "add_tags": (data.get("add_tags") or "").split(","),
            "remove_tags": (data.get("remove_tags") or "").split(","),
        }
