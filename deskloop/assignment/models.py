"""Who takes tickets and how a team hands them out: each agent's shift calendar, capacity and availability, and
each team's routing mode with its round-robin turn."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned


class Availability(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class RoutingMode(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class AgentSchedule(WorkspaceOwned):
    """An agent's working pattern. An agent without this row is treated as online, always on shift and without a
    capacity limit (``queries.schedule_for``), so switching a team to round-robin works before anyone set anything."""

    agent = models.OneToOneField("accounts.Agent", on_delete=models.CASCADE, related_name="schedule")
    # The agent's shifts; null = always on shift.
    calendar = models.ForeignKey(
        "calendars.BusinessCalendar",
        # A calendar in use cannot be deleted (calendars.services says so): silently making agents "always on
        # shift" would route tickets to people at night.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agent_schedules",
        verbose_name=_("shift calendar"),
    )
    # Open tickets (active status categories) the agent may hold before routing passes them by; null = no limit.
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    availability = models.CharField(
        _("availability"), max_length=10, choices=Availability.choices, default=Availability.ONLINE
    )
    availability_changed_at = models.DateTimeField(default=timezone.now)
    # When routing last gave this agent a ticket: least-loaded breaks ties by the longest wait.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.agent_id} {self.availability}"


class TeamRouting(WorkspaceOwned):
    """How a team's new tickets find an agent. A team without this row is routed by hand."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="routing")
    mode = models.CharField(_("routing"), max_length=20, choices=RoutingMode.choices, default=RoutingMode.MANUAL)
    # The round-robin turn: the next ticket goes to the first eligible member after this one. Updated under the
    # row lock, so two workers assigning at once take consecutive turns instead of the same one.
    last_assigned_agent = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Open tickets of a member who has been off shift, away or offline this long are handed on; null = never.
    reassign_after_minutes = models.PositiveIntegerField(_("hand on after (minutes)"), null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.team_id} {self.mode}"
