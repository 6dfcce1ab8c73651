"""The calendar editor: name, time zone, default flag and a row of shifts per weekday."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.calendars.ics import MAX_BYTES

SHIFTS_PER_DAY = 3
WEEKDAY_NAMES = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones()) if "/" in name or name == "UTC"]


def shift_field_names(weekday: int, slot: int) -> tuple[str, str]:
    return f"day{weekday}_shift{slot}_start", f"day{weekday}_shift{slot}_end"


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    is_default = forms.BooleanField(
        label=_("Default calendar (counts business time when no SLA policy names a calendar)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for weekday in range(7):
            for slot in range(SHIFTS_PER_DAY):
                start, end = shift_field_names(weekday, slot)
                widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
                self.fields[start] = forms.TimeField(label=_("Opens"), required=False, widget=widget)
                self.fields[end] = forms.TimeField(label=_("Closes"), required=False, widget=widget)

    def days(self) -> list[tuple[str, list[tuple[forms.BoundField, forms.BoundField]]]]:
        """Rows of the shift editor: (weekday name, [(opens, closes), ...])."""
        rows = []
        for weekday in range(7):
            shifts = []
            for slot in range(SHIFTS_PER_DAY):
                start, end = shift_field_names(weekday, slot)
                shifts.append((self[start], self[end]))
            rows.append((str(WEEKDAY_NAMES[weekday]), shifts))
        return rows

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for weekday in range(7):
            for slot in range(SHIFTS_PER_DAY):
                start_name, end_name = shift_field_names(weekday, slot)
                start, end = cleaned.get(start_name), cleaned.get(end_name)
                if (start is None) != (end is None) and not self.has_error(start_name) and not self.has_error(end_name):
                    self.add_error(end_name if end is None else start_name, _("Enter both times of the shift."))
        return cleaned

    def weekly_hours(self) -> list[dict[str, object]]:
        hours: list[dict[str, object]] = []
        for weekday in range(7):
            for slot in range(SHIFTS_PER_DAY):
                start_name, end_name = shift_field_names(weekday, slot)
                start: dt.time | None = self.cleaned_data.get(start_name)
                end: dt.time | None = self.cleaned_data.get(end_name)
                if start is not None and end is not None:
                    hours.append({"weekday": weekday, "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")})
        return hours


def initial_for(name: str, time_zone: str, is_default: bool, weekly_hours: list[dict[str, Any]]) -> dict[str, Any]:
    initial: dict[str, Any] = {"name": name, "time_zone": time_zone, "is_default": is_default}
    used = [0] * 7
    for shift in weekly_hours:
        weekday = int(shift["weekday"])
        if used[weekday] >= SHIFTS_PER_DAY:
            continue
        start_name, end_name = shift_field_names(weekday, used[weekday])
        initial[start_name], initial[end_name] = shift["start"], shift["end"]
        used[weekday] += 1
    return initial


class HolidayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=_("Name"), max_length=200, required=False)


class HolidayImportForm(forms.Form):
    file = forms.FileField(
        label=_(".ics file"),
        help_text=_("All-day events become holidays; importing the same file again changes nothing."),
        max_length=255,
    )

    def clean_file(self) -> bytes:
        uploaded = self.cleaned_data["file"]
        if uploaded.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(max)d kB.") % {"max": MAX_BYTES // 1000})
        content: bytes = uploaded.read()
        return content
