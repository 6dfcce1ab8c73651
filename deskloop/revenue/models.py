"""Sales and churn signals: deals won and lost, customers who left and why.

A deal lost for missing functionality and a churn record are evidence for the product team like a vote: both point
at a product area and, when known, at the idea that would have kept the money. ``services`` turns a lost deal in one
of the workspace's target industries into a task for the area's product manager and a critical vote on the idea.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ChurnReason(models.TextChoices):
    """The fixed list: reports compare these over months, so a workspace cannot rename them."""

    BUSINESS_CLOSED = "business_closed", _("Business closed")
    NEVER_STARTED = "never_started", _("Never got started")
    NO_VALUE = "no_value", _("Did not see value")
    MISSING_CAPABILITIES = "missing_capabilities", _("Missing capabilities")
    COMPETITOR = "competitor", _("Moved to a competitor")
    OTHER = "other", _("Other")


class LostReason(WorkspaceOwned):
    """Why a deal was lost, from the workspace's own list (defaults installed on first use)."""

    name = models.CharField(_("name"), max_length=100)
    # Lost because the product lacks something: such a deal in a target industry opens a product task.
    missing_functionality = models.BooleanField(_("missing functionality"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), "workspace", name="lost_reason_unique_name")]

    def __str__(self) -> str:
        return self.name


class RevenueSettings(WorkspaceOwned):
    """The workspace's revenue settings: one row per workspace, created on first use."""

    # Industries the company sells into on purpose ("field service"): a deal lost there for missing functionality
    # is a product problem, not a bad lead. Stored lower-cased.
    target_industries = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="revenue_settings_one_per_workspace")]


class Deal(WorkspaceOwned):
    # The prospect (or the customer buying more).
    organization = models.ForeignKey("customers.Organization", on_delete=models.CASCADE, related_name="deals")
    # The deal's id in the CRM: imports find the deal by it, so importing a file again changes nothing.
    external_id = models.CharField(max_length=200, null=True, blank=True)
    name = models.CharField(_("name"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=DealStatus.choices, default=DealStatus.OPEN)
    lost_reason = models.ForeignKey(
        LostReason, on_delete=models.PROTECT, null=True, blank=True, related_name="deals", verbose_name=_("lost reason")
    )
    competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    # The prospect's industry when the deal was worked (the organization's may change later).
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    product_area = models.ForeignKey(
        "tickets.ProductArea", on_delete=models.SET_NULL, null=True, blank=True, related_name="deals"
    )
    # The idea the prospect needed.
    idea = models.ForeignKey("ideas.Idea", on_delete=models.SET_NULL, null=True, blank=True, related_name="deals")
    owner = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_deals"
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=Q(external_id__isnull=False), name="deal_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "closed_on"], name="deal_ws_status_closed"),
            models.Index(fields=["idea"], name="deal_idea"),
        ]

    def __str__(self) -> str:
        return self.name


class ChurnRecord(WorkspaceOwned):
    """An organization that stopped paying: when, how much, why. ``won_back_on`` is set when it comes back."""

    organization = models.ForeignKey("customers.Organization", on_delete=models.CASCADE, related_name="churn_records")
    external_id = models.CharField(max_length=200, null=True, blank=True)
    churned_on = models.DateField(_("churned on"))
    mrr_lost = models.DecimalField(_("MRR lost"), max_digits=12, decimal_places=2, default=Decimal("0"))
    reason = models.CharField(_("reason"), max_length=30, choices=ChurnReason.choices)
    product_area = models.ForeignKey(
        "tickets.ProductArea", on_delete=models.SET_NULL, null=True, blank=True, related_name="churn_records"
    )
    idea = models.ForeignKey(
        "ideas.Idea", on_delete=models.SET_NULL, null=True, blank=True, related_name="churn_records"
    )
    notes = models.TextField(_("notes"), blank=True)
    won_back_on = models.DateField(_("won back on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=Q(external_id__isnull=False), name="churn_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "churned_on"], name="churn_ws_churned_on"),
            models.Index(fields=["organization", "won_back_on"], name="churn_org_open"),
            models.Index(fields=["idea"], name="churn_idea"),
        ]
