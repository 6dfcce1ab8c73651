"""The widget's one table: an anonymous visitor's request to see their conversations, confirmed by a magic link."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from deskloop.core.models import WorkspaceOwned


class EmailConfirmation(WorkspaceOwned):
    """An anonymous widget visitor asked to see the conversations of an address. The address gets the portal's
    sign-in link, which leads (signed in as that contact) to a page where the contact confirms it by comparing
    ``code`` with the one the panel shows; the panel, which alone holds the secret, then gets a pass naming the
    contact, once."""

    # In the sign-in link's next path; knowing it gives nothing without the mailbox and the panel's secret.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # SHA-256 of the secret only the panel's memory holds; never the secret itself.
    secret_hash = models.CharField(max_length=64, unique=True)
    # Shown in the panel and on the confirmation page, so a link someone else asked for is not confirmed blindly.
    code = models.CharField(max_length=8)
    email = models.EmailField()
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="widget_confirmation_expiry")]
