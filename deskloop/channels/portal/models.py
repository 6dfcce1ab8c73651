"""The customer portal's own rows: the magic sign-in links a contact asks for.

A link's token is never stored: only its SHA-256, so a copy of the database signs nobody in. A link is bound to
one workspace and one address, works once (consumed by one conditional UPDATE) and expires after
``DESKLOOP_PORTAL_LINK_SECONDS``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from deskloop.core.models import WorkspaceOwned


class SignInLink(WorkspaceOwned):
    token_hash = models.CharField(max_length=64, unique=True)
    # Lower-cased; the contact is found (or created) for it when the link is used, not when it is asked for.
    email = models.EmailField()
    # A same-site path to land on after signing in ("" for the portal's home); checked when the link is made.
    next_path = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "email", "created_at"], name="sign_in_link_recent")]
