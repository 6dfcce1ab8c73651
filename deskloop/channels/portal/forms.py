"""The portal's forms. The request form grows one field per custom field marked visible to customers; its values
are checked by the tickets service (``validate_custom_fields``), not here, so the form, the widget and the API
refuse the same things with the same messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.tickets.models import CustomField, CustomFieldType

# The honeypot: a field people never see (hidden by portal.css, skipped by keyboard and screen readers) that form
# robots fill in. Named like a field a robot expects to fill.
HONEYPOT_FIELD = "website"


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"), max_length=254)
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 5}), required=False)


def custom_field_name(field: CustomField) -> str:
    return f"cf_{field.key}"


class RequestForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=500)
    body = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 8}))
    session = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, fields: list[CustomField], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.custom_field_definitions = fields
        for field in fields:
            self.fields[custom_field_name(field)] = _custom_form_field(field)

    def custom_values(self) -> dict[str, Any]:
        """What the customer gave, keyed by custom field key, as the tickets service expects it."""
        values: dict[str, Any] = {}
        for field in self.custom_field_definitions:
            value = self.cleaned_data.get(custom_field_name(field))
            if value not in (None, "", []):
                values[field.key] = value
        return values

    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[custom_field_name(field)] for field in self.custom_field_definitions]


def _custom_form_field(field: CustomField) -> forms.Field:
    label = field.localized_name()
    if field.field_type == CustomFieldType.CHOICE:
        return forms.ChoiceField(label=label, required=False, choices=[("", "—"), *((c, c) for c in field.choices)])
    if field.field_type == CustomFieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            label=label, required=False, choices=[(c, c) for c in field.choices], widget=forms.CheckboxSelectMultiple
        )
    if field.field_type == CustomFieldType.DATE:
        return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))
    if field.field_type == CustomFieldType.NUMBER:
        return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    return forms.CharField(label=label, required=False, max_length=2000)
