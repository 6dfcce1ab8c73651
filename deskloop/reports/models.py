"""What the reports app keeps: that a manager was sent a week's summary, and who does not want it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from deskloop.core.models import WorkspaceOwned


class WeeklySummary(WorkspaceOwned):
    """The summary of the week before ``week`` (a Monday, workspace time) sent to ``agent``. Written before the email,
    under its unique constraint, so a second run of the job (or two schedulers) never sends it twice."""

    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, related_name="+")
    week = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "week"], name="weekly_summary_once_per_week")]


class WeeklySummaryOptOut(WorkspaceOwned):
    """This manager does not want the weekly summary (they turned it off on /reports/)."""

    agent = models.OneToOneField("accounts.Agent", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
