"""The SLA policy form of the settings page: targets in minutes, conditions as choices and comma-separated words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.calendars.models import BusinessCalendar
from deskloop.customers.models import Organization
from deskloop.service_levels.services import PolicyValues
from deskloop.tickets.models import Channel, Priority, ProductArea


def _words(text: str) -> list[str]:
    return [word.strip() for word in text.split(",") if word.strip()]


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(label=_("Order"), min_value=0, max_value=10_000, initial=0)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    calendar = forms.ModelChoiceField(
        label=_("Business hours"),
        queryset=BusinessCalendar.objects.none(),
        required=False,
        empty_label=_("The workspace's default calendar (or around the clock)"),
    )
    first_response_minutes = forms.IntegerField(label=_("First response (business minutes)"), required=False)
    next_response_minutes = forms.IntegerField(label=_("Next response (business minutes)"), required=False)
    resolution_minutes = forms.IntegerField(label=_("Resolution (business minutes)"), required=False)
    warn_before_minutes = forms.IntegerField(label=_("Warn this many minutes before a deadline"), initial=30)
    priorities = forms.MultipleChoiceField(
        label=_("Priorities"), choices=Priority.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels"), choices=Channel.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    plans = forms.CharField(label=_("Organization plans (comma-separated)"), required=False, max_length=2000)
    tag_names = forms.CharField(label=_("Any of these tags (comma-separated)"), required=False, max_length=2000)
    organizations = forms.ModelMultipleChoiceField(
        label=_("Organizations"), queryset=Organization.objects.none(), required=False
    )
    product_areas = forms.ModelMultipleChoiceField(
        label=_("Product areas (with their sub-areas)"), queryset=ProductArea.objects.none(), required=False
    )
    overrides = forms.ModelMultipleChoiceField(
        label=_("Always for these organizations, whatever the conditions"),
        queryset=Organization.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, workspace_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organizations = Organization.objects.filter(workspace_id=workspace_id).order_by("name")
        self.fields["calendar"].queryset = BusinessCalendar.objects.filter(workspace_id=workspace_id)  # type: ignore[attr-defined]
        self.fields["organizations"].queryset = organizations  # type: ignore[attr-defined]
        self.fields["overrides"].queryset = organizations  # type: ignore[attr-defined]
        self.fields["product_areas"].queryset = ProductArea.objects.filter(workspace_id=workspace_id).order_by("path")  # type: ignore[attr-defined]

    def values(self) -> PolicyValues:
        data = self.cleaned_data
        return PolicyValues(
            name=data["name"],
            position=data["position"],
            is_active=data["is_active"],
            conditions={
                "organization_ids": [org.pk for org in data["organizations"]],
                "plans": _words(data["plans"]),
                "priorities": data["priorities"],
                "channels": data["channels"],
                "tag_names": _words(data["tag_names"]),
                "product_area_ids": [area.pk for area in data["product_areas"]],
            },
            calendar_id=data["calendar"].pk if data["calendar"] else None,
            first_response_minutes=data["first_response_minutes"],
            next_response_minutes=data["next_response_minutes"],
            resolution_minutes=data["resolution_minutes"],
            warn_before_minutes=data["warn_before_minutes"],
            override_organization_ids=[org.pk for org in data["overrides"]],
        )


def initial_for(values: PolicyValues) -> dict[str, Any]:
    conditions = values.conditions
    return {
        "name": values.name,
        "position": values.position,
        "is_active": values.is_active,
        "calendar": values.calendar_id,
        "first_response_minutes": values.first_response_minutes,
        "next_response_minutes": values.next_response_minutes,
        "resolution_minutes": values.resolution_minutes,
        "warn_before_minutes": values.warn_before_minutes,
        "priorities": list(conditions.get("priorities", [])),
        "channels": list(conditions.get("channels", [])),
        "plans": ", ".join(conditions.get("plans", [])),
        "tag_names": ", ".join(conditions.get("tag_names", [])),
        "organizations": list(conditions.get("organization_ids", [])),
        "product_areas": list(conditions.get("product_area_ids", [])),
        "overrides": list(values.override_organization_ids),
    }
