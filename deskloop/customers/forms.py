from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.customers.models import LifecycleStage


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    organization = forms.TypedChoiceField(label=_("Organization"), coerce=int, empty_value=None, required=False)
    locale = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[
            ("", "—"),
            ("en", "English"),
            ("es", "Español"),
            ("ru", "Русский"),
            ("lt", "Lietuvių"),
            ("sr", "Srpski"),
        ],
    )
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, required=False)

    def __init__(self, *args: object, organization_choices: list[tuple[object, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["organization"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *organization_choices]


class ContactEmailForm(forms.Form):
    email = forms.EmailField(label=_("Add an email address"))


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    domains = forms.CharField(
        label=_("Email domains"), required=False, help_text=_("Comma-separated; senders from these domains join it.")
    )
    plan = forms.CharField(label=_("Plan"), max_length=100, required=False)
    mrr = forms.DecimalField(label=_("MRR"), min_value=0, max_digits=12, decimal_places=2, required=False)
    customer_since = forms.DateField(
        label=_("Customer since"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    lifecycle_stage = forms.ChoiceField(label=_("Lifecycle stage"), choices=LifecycleStage.choices)
    owner = forms.TypedChoiceField(label=_("Account owner"), coerce=int, empty_value=None, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    portal_shares_tickets = forms.BooleanField(
        label=_("Contacts see each other's tickets in the customer portal"), required=False
    )

    def __init__(self, *args: object, owner_choices: Sequence[tuple[object, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["owner"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *owner_choices]

    def domain_list(self) -> list[str]:
        raw = self.cleaned_data.get("domains") or ""
        return [d.strip() for d in raw.replace(";", ",").split(",") if d.strip()]


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    mrr_above = forms.DecimalField(label=_("MRR above"), min_value=0, max_digits=12, decimal_places=2, required=False)
    min_customer_months = forms.IntegerField(
        label=_("Customer for at least (months)"), min_value=0, max_value=1200, required=False
    )
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    plan = forms.CharField(label=_("Plan"), max_length=100, required=False)
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=[("", "—"), *LifecycleStage.choices], required=False
    )
    owner = forms.TypedChoiceField(label=_("Account owner"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args: object, owner_choices: Sequence[tuple[object, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["owner"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *owner_choices]
