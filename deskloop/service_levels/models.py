"""SLA policies and the targets they set on tickets (the clocks are kept by services; the sweep breaches them)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned


class SlaPolicy(WorkspaceOwned):
    """Targets for the tickets its conditions match, counted in its calendar's business time. Policies are tried
    in ``position`` order; the first active one that matches applies (an organization override comes first)."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # {"organization_ids": [], "plans": [], "priorities": [], "channels": [], "tag_names": [],
    #  "product_area_ids": []}: an empty or missing list matches anything; every non-empty list must match.
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    # Null: counted around the clock (UTC).
    calendar = models.ForeignKey(
        "calendars.BusinessCalendar", on_delete=models.PROTECT, null=True, blank=True, related_name="sla_policies"
    )
    # Business minutes; null means the policy sets no such target.
    first_response_minutes = models.PositiveIntegerField(_("first response"), null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(_("next response"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution"), null=True, blank=True)
    # The sweep warns this many minutes (wall-clock) before a target's deadline.
    warn_before_minutes = models.PositiveIntegerField(_("warn before"), default=30)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(Lower("name"), "workspace", name="sla_policy_unique_name")]

    def __str__(self) -> str:
        return self.name


class SlaOrganizationOverride(WorkspaceOwned):
    """This organization's tickets always get this policy (a contract's terms), whatever the conditions say."""

    organization = models.OneToOneField("customers.Organization", on_delete=models.CASCADE, related_name="sla_override")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="organization_overrides")

    def __str__(self) -> str:
        return f"{self.organization_id} -> {self.policy_id}"


class SlaMetric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class SlaTarget(WorkspaceOwned):
    """One clock on one ticket: a metric's deadline under a policy. A new next-response row starts with each
    customer message that follows an agent reply, so the history of every cycle stays for the reports.
    Achieved = stopped without a breach; breached = ``breached_at`` set (it may stop later, late)."""

    # No index of their own: ``sla_target_ticket_metric`` and ``sla_target_ws_started`` begin with these columns and
    # serve their lookups and cascades, and every index is one more write when the sweep stamps a clock.
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_targets", db_index=False)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, related_name="targets")
    metric = models.CharField(max_length=20, choices=SlaMetric.choices)
    started_at = models.DateTimeField()
    # The policy's target when the clock started, in business minutes: a later edit of the policy leaves running
    # clocks as they were promised, and a re-picked policy knows how much of the old target was used.
    target_minutes = models.PositiveIntegerField(default=0)
    # Null while paused (the ticket is pending or on hold).
    due_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # While paused: the business minutes left, to set ``due_at`` again from the moment the clock resumes. A
    # solved ticket's resolution clock keeps them too: a reopen resumes it from there (clocks.py).
    remaining_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    # The target was met (or no longer applies: the ticket was solved before a next response was due).
    stopped_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            # The sweep: running clocks by deadline, in every workspace at once.
            models.Index(
                fields=["due_at"],
                condition=Q(stopped_at__isnull=True, breached_at__isnull=True, due_at__isnull=False),
                name="sla_target_running_due",
            ),
            models.Index(fields=["ticket", "metric"], name="sla_target_ticket_metric"),
            # SLA achievement reports: targets started in a date range.
            models.Index(fields=["workspace", "started_at"], name="sla_target_ws_started"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} of ticket {self.ticket_id} due {self.due_at}"
