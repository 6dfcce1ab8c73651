"""Writes of a workspace's help-center settings: its own host name, the holdout share, the widget secret."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.knowledge.models import HelpCenter

HELP_CENTER_ADMINS_ONLY = gettext_noop("Only admins can change the help center's settings.")
HOLDOUT_MAX = 50
# RFC 1123 labels, at least two of them: "help.example.com"; no scheme, port or path.
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class RotatedSecret:
    help_center: HelpCenter
    # Shown once to the admin who rotated it; afterwards only the host application's configuration has it.
    secret: str


def help_center_of(workspace: Workspace) -> HelpCenter:
    """The workspace's settings row, made with the defaults the first time anything asks."""
    help_center, _created = HelpCenter.objects.get_or_create(workspace=workspace)
    return help_center


def _require_admin_of(actor: Agent, workspace: Workspace) -> None:
    if actor.workspace_id != workspace.pk:
        raise NotFound(_("Help center not found."))
    require_admin(actor, HELP_CENTER_ADMINS_ONLY)


def clean_host_name(host_name: str) -> str:
    cleaned = (host_name or "").strip().lower().rstrip(".")
    if cleaned and not _HOST_NAME.match(cleaned):
        raise ValidationFailed(
            _("Enter a host name such as help.example.com, without https:// or a path."), field="host_name"
        )
    return cleaned


@transaction.atomic
def update_help_center(*, actor: Agent, workspace: Workspace, host_name: str, holdout_percent: int) -> HelpCenter:
    _require_admin_of(actor, workspace)
    host = clean_host_name(host_name)
    if not 0 <= holdout_percent <= HOLDOUT_MAX:
        raise ValidationFailed(
            _("The holdout is between 0 and %(max)d percent of sessions.") % {"max": HOLDOUT_MAX},
            field="holdout_percent",
        )
    help_center = HelpCenter.objects.select_for_update().filter(pk=help_center_of(workspace).pk).get()
    if host and HelpCenter.objects.filter(host_name=host).exclude(pk=help_center.pk).exists():
        raise ValidationFailed(
            _("Another help center already answers at %(host)s.") % {"host": host}, field="host_name"
        )
    help_center.host_name = host
    help_center.holdout_percent = holdout_percent
    try:
        # A savepoint, so a race on the same host name ends as the message above rather than a broken transaction.
        with transaction.atomic():
            help_center.save(update_fields=["host_name", "holdout_percent"])
    except IntegrityError:
        raise ValidationFailed(
            _("Another help center already answers at %(host)s.") % {"host": host}, field="host_name"
        ) from None
    return help_center


@transaction.atomic
def rotate_widget_secret(*, actor: Agent, workspace: Workspace) -> RotatedSecret:
    """A new secret for signing the widget's identified users; the old one stops working at once."""
    _require_admin_of(actor, workspace)
    help_center = HelpCenter.objects.select_for_update().filter(pk=help_center_of(workspace).pk).get()
    secret = "whsec_" + secrets.token_urlsafe(32)
    help_center.widget_secret = secret
    help_center.save(update_fields=["widget_secret"])
    return RotatedSecret(help_center, secret)
