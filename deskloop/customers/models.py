"""The people and companies a workspace supports.

An Organization carries what the feedback loop weighs evidence by (plan, MRR, tenure, industry, stage).
A Contact has one or more email identities; a ticket's requester is a Contact.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned


class LifecycleStage(models.TextChoices):
    LEAD = "lead", _("Lead")
    TRIAL = "trial", _("Trial")
    CUSTOMER = "customer", _("Customer")
    CHURNED = "churned", _("Churned")


class Organization(WorkspaceOwned):
    name = models.CharField(_("name"), max_length=200)
    plan = models.CharField(_("plan"), max_length=100, blank=True)
    mrr = models.DecimalField(_("MRR"), max_digits=12, decimal_places=2, default=0)
    customer_since = models.DateField(_("customer since"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.CUSTOMER
    )
    owner = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_organizations"
    )
    notes = models.TextField(blank=True)
    # The id in the customer's own systems (CRM, billing): deal and churn imports and the widget's identity find the
    # organization by it.
    external_id = models.CharField(max_length=200, null=True, blank=True)
    # In the customer portal, its contacts see each other's tickets too (not only their own).
    portal_shares_tickets = models.BooleanField(
        _("contacts see the organization's tickets in the portal"), default=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "workspace", name="organization_unique_name_per_workspace"),
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="organization_unique_external_id_per_workspace",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OrganizationDomain(WorkspaceOwned):
    """An email domain whose senders belong to the organization (matched when a new contact appears)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "domain"], name="organization_domain_unique_per_workspace"),
        ]


class Contact(WorkspaceOwned):
    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    locale = models.CharField(_("language"), max_length=10, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # Marked as spam by an agent: new mail from this contact is refused with a recorded reason.
    is_blocked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        primary = self.primary_email
        return primary or f"#{self.pk}"

    @property
    def primary_email(self) -> str:
        # Uses the prefetched identities when present, so list pages do not query per row.
        identities = list(self.emails.all())
        for identity in identities:
            if identity.is_primary:
                return identity.email
        return identities[0].email if identities else ""


class ContactEmail(WorkspaceOwned):
    """An email identity of a contact. Addresses are stored lower-cased and unique per workspace."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField()
    is_primary = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    # Set when a delivery status notification reports the address as failing.
    bouncing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "email"], name="contact_email_unique_per_workspace")
        ]

    def __str__(self) -> str:
        return self.email


class Segment(WorkspaceOwned):
    """A saved cut of the customer base by what an organization carries ("MRR over 100 and a customer for at least 6
    months"). Every condition left empty matches everyone; the conditions that are set must all hold. Lists of
    ideas, votes, deals, churn records and survey answers filter by it through ``customers.segments``."""

    name = models.CharField(_("name"), max_length=100)
    mrr_above = models.DecimalField(_("MRR above"), max_digits=12, decimal_places=2, null=True, blank=True)
    min_customer_months = models.PositiveIntegerField(_("customer for at least (months)"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    plan = models.CharField(_("plan"), max_length=100, blank=True)
    lifecycle_stage = models.CharField(_("lifecycle stage"), max_length=20, choices=LifecycleStage.choices, blank=True)
    owner = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "workspace", name="segment_unique_name_per_workspace"),
        ]

    def __str__(self) -> str:
        return self.name
