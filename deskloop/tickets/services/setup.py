"""Defaults a new workspace starts with: statuses for each category."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from deskloop.accounts.models import Workspace
from deskloop.tickets.models import Status, StatusCategory

# Names are stored in the workspace's data (admins rename them); gettext_noop marks them for catalogues.
DEFAULT_STATUSES = [
    (gettext_noop("New"), StatusCategory.NEW),
    (gettext_noop("Open"), StatusCategory.OPEN),
    (gettext_noop("Pending"), StatusCategory.PENDING),
    (gettext_noop("On hold"), StatusCategory.ON_HOLD),
    (gettext_noop("Solved"), StatusCategory.SOLVED),
    (gettext_noop("Closed"), StatusCategory.CLOSED),
]


def install_workspace_defaults(*, workspace: Workspace) -> None:
    """Idempotent: creates the default statuses that are missing."""
    existing = set(Status.objects.filter(workspace=workspace).values_list("category", flat=True))
    Status.objects.bulk_create(
        [
            Status(workspace=workspace, name=name, category=category, position=position, is_default=True)
            for position, (name, category) in enumerate(DEFAULT_STATUSES)
            if category not in existing
        ]
    )
