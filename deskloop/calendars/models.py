"""Business calendars and their holidays (the arithmetic is in business_time.py)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.calendars.business_time import Schedule, parse_weekly_hours
from deskloop.core.models import WorkspaceOwned


class BusinessCalendar(WorkspaceOwned):
    """Weekly opening hours in one time zone, e.g. "Support Europe: 07:00-02:00 CET, every day". A workspace has
    several (per team, per plan); the default one counts business time for tickets no SLA policy covers."""

    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # [{"weekday": 0-6 (Monday 0), "start": "HH:MM", "end": "HH:MM"}]; see business_time.parse_weekly_hours.
    weekly_hours = models.JSONField(_("weekly hours"), default=list, blank=True)
    is_default = models.BooleanField(_("default calendar"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "workspace", name="calendar_unique_name_per_workspace"),
            models.UniqueConstraint(
                fields=["workspace"], condition=Q(is_default=True), name="calendar_one_default_per_workspace"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def schedule(self) -> Schedule:
        holidays = frozenset(self.holidays.values_list("date", flat=True))
        return Schedule(self.time_zone, parse_weekly_hours(self.weekly_hours), holidays)


class Holiday(WorkspaceOwned):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    # The UID of the .ics event it was imported from: importing the same file again changes nothing.
    source_uid = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_once_per_calendar_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
