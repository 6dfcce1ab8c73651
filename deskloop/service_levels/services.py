"""Writes for SLA policies (admins): create, change, delete, and the organizations a policy always applies to.

The settings page and the API call these. A policy change applies to clocks started after it: running clocks keep
the deadline they were given (``SlaTarget.target_minutes``); see clocks.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.calendars.models import BusinessCalendar
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.customers.models import Organization
from deskloop.service_levels.models import SlaOrganizationOverride, SlaPolicy
from deskloop.service_levels.queries import CONDITION_KEYS
from deskloop.tickets.models import Channel, Priority, ProductArea

SLA_ADMINS_ONLY = gettext_noop("Only admins can change SLA policies.")
# A year of business minutes: a longer target is a typo (and adding it walks the calendar for years).
MAX_TARGET_MINUTES = 366 * 24 * 60
MAX_WARN_MINUTES = 7 * 24 * 60
MAX_CONDITION_VALUES = 200
NAME_MAX = 100


@dataclass(frozen=True)
class PolicyValues:
    name: str
    position: int = 0
    is_active: bool = True
    conditions: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    calendar_id: int | None = None
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warn_before_minutes: int = 30
    # The organizations this policy always applies to, whatever the conditions (an organization has one).
    override_organization_ids: Sequence[int] = ()


def policy_values(policy: SlaPolicy) -> PolicyValues:
    """The values a policy has now (the start of a partial change)."""
    return PolicyValues(
        name=policy.name,
        position=policy.position,
        is_active=policy.is_active,
        conditions=policy.conditions,
        calendar_id=policy.calendar_id,
        first_response_minutes=policy.first_response_minutes,
        next_response_minutes=policy.next_response_minutes,
        resolution_minutes=policy.resolution_minutes,
        warn_before_minutes=policy.warn_before_minutes,
        override_organization_ids=list(policy.organization_overrides.values_list("organization_id", flat=True)),
    )


def _clean_minutes(value: int | None, name: str, maximum: int, *, allow_zero: bool = False) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1) or value > maximum:
        low = 0 if allow_zero else 1
        raise ValidationFailed(
            _("Enter a whole number of minutes from %(low)d to %(high)d.") % {"low": low, "high": maximum}, field=name
        )
    return value


def _ids_of(
    workspace_id: int, model: type[Organization] | type[ProductArea], raw: Sequence[Any], name: str
) -> list[int]:
    try:
        wanted = sorted({int(value) for value in raw})
    except (TypeError, ValueError):
        raise ValidationFailed(_("Use ids (whole numbers) in “%(key)s”.") % {"key": name}, field="conditions") from None
    found = set(model.objects.filter(workspace_id=workspace_id, pk__in=wanted).values_list("pk", flat=True))
    missing = [value for value in wanted if value not in found]
    if missing:
        raise ValidationFailed(
            _("“%(key)s”: no such id in this workspace: %(id)s.") % {"key": name, "id": missing[0]}, field="conditions"
        )
    return wanted


def _clean_words(raw: Sequence[Any], name: str) -> list[str]:
    words = sorted({str(value).strip() for value in raw if str(value).strip()}, key=str.casefold)
    if any(len(word) > NAME_MAX for word in words):
        raise ValidationFailed(_("“%(key)s”: a value is too long.") % {"key": name}, field="conditions")
    return words


def clean_conditions(workspace_id: int, raw: Mapping[str, Any]) -> dict[str, list[Any]]:
    if not isinstance(raw, Mapping):
        raise ValidationFailed(_("Conditions must be an object of lists."), field="conditions")
    unknown = sorted(set(raw) - set(CONDITION_KEYS))
    if unknown:
        raise ValidationFailed(_("Unknown condition “%(key)s”.") % {"key": unknown[0]}, field="conditions")
    cleaned: dict[str, list[Any]] = {}
    for key in CONDITION_KEYS:
        values = raw.get(key) or []
        if not isinstance(values, list | tuple):
            raise ValidationFailed(_("Condition “%(key)s” must be a list.") % {"key": key}, field="conditions")
        if len(values) > MAX_CONDITION_VALUES:
            raise ValidationFailed(
                _("Condition “%(key)s” has more than %(max)d values.") % {"key": key, "max": MAX_CONDITION_VALUES},
                field="conditions",
            )
        if key == "organization_ids":
            cleaned[key] = _ids_of(workspace_id, Organization, values, key)
        elif key == "product_area_ids":
            cleaned[key] = _ids_of(workspace_id, ProductArea, values, key)
        elif key in ("priorities", "channels"):
            known = Priority.values if key == "priorities" else Channel.values
            bad = [value for value in values if value not in known]
            if bad:
                raise ValidationFailed(
                    _("“%(key)s”: unknown value “%(value)s”.") % {"key": key, "value": bad[0]}, field="conditions"
                )
            cleaned[key] = [value for value in known if value in values]
        else:
            cleaned[key] = _clean_words(values, key)
    return {key: value for key, value in cleaned.items() if value}


def _checked(actor: Agent, values: PolicyValues) -> PolicyValues:
    workspace_id = actor.workspace_id
    name = (values.name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the policy a name."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(
            _("The name is too long (at most %(max)d characters).") % {"max": NAME_MAX}, field="name"
        )
    first = _clean_minutes(values.first_response_minutes, "first_response_minutes", MAX_TARGET_MINUTES)
    following = _clean_minutes(values.next_response_minutes, "next_response_minutes", MAX_TARGET_MINUTES)
    resolution = _clean_minutes(values.resolution_minutes, "resolution_minutes", MAX_TARGET_MINUTES)
    if first is None and following is None and resolution is None:
        raise ValidationFailed(_("Set at least one target."), field="first_response_minutes")
    warn = _clean_minutes(values.warn_before_minutes, "warn_before_minutes", MAX_WARN_MINUTES, allow_zero=True)
    if (
        values.calendar_id is not None
        and not BusinessCalendar.objects.filter(workspace_id=workspace_id, pk=values.calendar_id).exists()
    ):
        raise ValidationFailed(_("The calendar was not found."), field="calendar")
    if isinstance(values.position, bool) or not isinstance(values.position, int) or not 0 <= values.position <= 10_000:
        raise ValidationFailed(_("The position must be a number from 0 to 10000."), field="position")
    overrides = _ids_of(workspace_id, Organization, list(values.override_organization_ids), "override_organization_ids")
    return replace(
        values,
        name=name,
        conditions=clean_conditions(workspace_id, values.conditions),
        warn_before_minutes=warn or 0,
        override_organization_ids=overrides,
        first_response_minutes=first,
        next_response_minutes=following,
        resolution_minutes=resolution,
    )


_COLUMNS = [f.name for f in fields(PolicyValues) if f.name != "override_organization_ids"]


def _save(policy: SlaPolicy, values: PolicyValues) -> SlaPolicy:
    for name in _COLUMNS:
        setattr(policy, name, getattr(values, name))
    policy.updated_at = timezone.now()
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise ValidationFailed(_("A policy with this name exists already."), field="name") from None
    # An organization has one override: giving it to this policy takes it from any other.
    SlaOrganizationOverride.objects.filter(policy=policy).exclude(
        organization_id__in=values.override_organization_ids
    ).delete()
    SlaOrganizationOverride.objects.filter(
        workspace_id=policy.workspace_id, organization_id__in=values.override_organization_ids
    ).exclude(policy=policy).delete()
    have = set(SlaOrganizationOverride.objects.filter(policy=policy).values_list("organization_id", flat=True))
    SlaOrganizationOverride.objects.bulk_create(
        [
            SlaOrganizationOverride(workspace_id=policy.workspace_id, organization_id=org_id, policy=policy)
            for org_id in values.override_organization_ids
            if org_id not in have
        ]
    )
    return policy


def create_policy(*, actor: Agent, values: PolicyValues) -> SlaPolicy:
    require_admin(actor, SLA_ADMINS_ONLY)
    checked = _checked(actor, values)
    with transaction.atomic():
        return _save(SlaPolicy(workspace_id=actor.workspace_id), checked)


def update_policy(*, actor: Agent, policy: SlaPolicy, values: PolicyValues) -> SlaPolicy:
    require_admin(actor, SLA_ADMINS_ONLY)
    if policy.workspace_id != actor.workspace_id:
        raise NotFound(_("SLA policy not found."))
    checked = _checked(actor, values)
    with transaction.atomic():
        return _save(policy, checked)


def delete_policy(*, actor: Agent, policy: SlaPolicy) -> None:
    """Its overrides go with it; clocks it started stay (for the reports) without a policy."""
    require_admin(actor, SLA_ADMINS_ONLY)
    if policy.workspace_id != actor.workspace_id:
        raise NotFound(_("SLA policy not found."))
    policy.delete()
