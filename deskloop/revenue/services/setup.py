"""The workspace's revenue settings: its lost reasons and its target industries (admins change them)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.core.errors import Conflict, NotFound, ValidationFailed
from deskloop.revenue.models import LostReason, RevenueSettings

REVENUE_SETTINGS_ADMINS_ONLY = gettext_noop("Only admins and owners can change the revenue settings.")
REASON_NAME_MAX = 100
INDUSTRY_MAX = 100

# Installed on first use, in the workspace's language at that moment; the workspace renames or adds its own.
DEFAULT_LOST_REASONS: tuple[tuple[str, bool], ...] = (
    (gettext_noop("Chose a competitor"), False),
    (gettext_noop("Missing functionality"), True),
    (gettext_noop("Price"), False),
    (gettext_noop("No decision"), False),
    (gettext_noop("Bad timing"), False),
)


def lost_reasons_of(workspace_id: int) -> list[LostReason]:
    """The workspace's lost reasons, the defaults installed when it has none yet."""
    reasons = list(LostReason.objects.filter(workspace_id=workspace_id))
    if reasons:
        return reasons
    with transaction.atomic():
        for name, missing in DEFAULT_LOST_REASONS:
            LostReason.objects.get_or_create(
                workspace_id=workspace_id, name=_(name), defaults={"missing_functionality": missing}
            )
    return list(LostReason.objects.filter(workspace_id=workspace_id))


def settings_of(workspace_id: int) -> RevenueSettings:
    found, _created = RevenueSettings.objects.get_or_create(workspace_id=workspace_id)
    return found


def is_target_industry(workspace_id: int, industry: str) -> bool:
    wanted = " ".join(industry.split()).lower()
    return bool(wanted) and wanted in settings_of(workspace_id).target_industries


def save_target_industries(*, actor: Agent, industries: Sequence[str]) -> RevenueSettings:
    require_admin(actor, REVENUE_SETTINGS_ADMINS_ONLY)
    cleaned: list[str] = []
    for industry in industries:
        name = " ".join(industry.split()).lower()
        if len(name) > INDUSTRY_MAX:
            raise ValidationFailed(
                _("An industry's name is at most %(max)d characters.") % {"max": INDUSTRY_MAX}, field="industries"
            )
        if name and name not in cleaned:
            cleaned.append(name)
    current = settings_of(actor.workspace_id)
    current.target_industries = sorted(cleaned)
    current.save(update_fields=["target_industries"])
    return current


def add_lost_reason(*, actor: Agent, name: str, missing_functionality: bool) -> LostReason:
    require_admin(actor, REVENUE_SETTINGS_ADMINS_ONLY)
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationFailed(_("A lost reason needs a name."), field="name")
    if len(cleaned) > REASON_NAME_MAX:
        raise ValidationFailed(
            _("A lost reason's name is at most %(max)d characters.") % {"max": REASON_NAME_MAX}, field="name"
        )
    lost_reasons_of(actor.workspace_id)
    try:
        with transaction.atomic():
            return LostReason.objects.create(
                workspace_id=actor.workspace_id, name=cleaned, missing_functionality=missing_functionality
            )
    except IntegrityError as exc:
        raise Conflict(_("A lost reason with this name already exists."), code="duplicate_name", field="name") from exc


def delete_lost_reason(*, actor: Agent, reason: LostReason) -> None:
    """Remove a reason no deal uses (a used one stays: the deals lost for it keep their explanation)."""
    require_admin(actor, REVENUE_SETTINGS_ADMINS_ONLY)
    if reason.workspace_id != actor.workspace_id:
        raise NotFound(_("No such lost reason in this workspace."))
    if reason.deals.exists():
        raise Conflict(_("Deals were lost for this reason; it stays."), code="in_use")
    reason.delete()
