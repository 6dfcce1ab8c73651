"""Routing settings forms: a team's mode and hand-on delay, an agent's shift calendar and capacity."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.assignment.models import Availability, RoutingMode


class TeamRoutingForm(forms.Form):
    mode = forms.ChoiceField(label=_("Routing"), choices=RoutingMode.choices)
    reassign_after_minutes = forms.IntegerField(
        label=_("Hand on tickets after (minutes off shift or away)"),
        required=False,
        min_value=1,
        help_text=_("Empty: tickets stay with their agent."),
    )


class AgentScheduleForm(forms.Form):
    calendar = forms.TypedChoiceField(label=_("Shift calendar"), coerce=int, required=False, empty_value=None)
    capacity = forms.IntegerField(
        label=_("Capacity (open tickets)"), required=False, min_value=1, help_text=_("Empty: no limit.")
    )

    def __init__(self, *args: Any, calendar_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["calendar"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Always on shift")), *calendar_choices]


class AvailabilityForm(forms.Form):
    availability = forms.ChoiceField(label=_("Availability"), choices=Availability.choices)
