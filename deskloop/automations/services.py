"""Writes for automation rules (admins only): save, switch on or off, delete.

A save checks every condition, action and reference inside the saving admin's workspace and makes that admin the
rule's ``created_by``: the rule acts with their rights from then on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.automations import rules
from deskloop.automations.models import AutomationRule, MatchMode, RuleKind, TriggerEvent
from deskloop.core.errors import NotFound, ValidationFailed

AUTOMATIONS_ADMINS_ONLY = gettext_noop("Only admins can manage automations.")
NAME_MAX = 200


@dataclass(frozen=True)
class RuleDraft:
    """A rule as a form or an API call gives it; references by id or by name (see ``rules``)."""

    name: str
    kind: str = RuleKind.EVENT
    events: Iterable[str] = ()
    time_condition: Mapping[str, Any] = field(default_factory=dict)
    match: str = MatchMode.ALL
    conditions: Iterable[Mapping[str, Any]] = ()
    actions: Iterable[Mapping[str, Any]] = ()
    is_active: bool = True


@dataclass(frozen=True)
class CleanRule:
    name: str
    kind: str
    events: list[str]
    time_condition: dict[str, Any]
    match: str
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    is_active: bool


def clean_draft(workspace_id: int, draft: RuleDraft, *, for_preview: bool = False) -> CleanRule:
    """``draft`` checked and with its references resolved in the workspace; ValidationFailed naming the field.
    A dry run (``for_preview``) needs no actions yet."""
    name = " ".join((draft.name or "").split())
    if not name:
        raise ValidationFailed(_("Give the rule a name."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(_("At most %(max)d characters.") % {"max": NAME_MAX}, field="name")
    if draft.kind not in RuleKind.values:
        raise ValidationFailed(_("Unknown kind of rule."), field="kind")
    if draft.match not in MatchMode.values:
        raise ValidationFailed(_("Choose all or any."), field="match")
    events: list[str] = []
    time_condition: dict[str, Any] = {}
    if draft.kind == RuleKind.EVENT:
        chosen = {name.strip() for name in draft.events if name and name.strip()}
        unknown = sorted(chosen - set(TriggerEvent.values))
        if unknown:
            raise ValidationFailed(_("Unknown event “%(event)s”.") % {"event": unknown[0]}, field="events")
        if not chosen:
            raise ValidationFailed(_("Choose at least one event the rule reacts to."), field="events")
        events = [value for value in TriggerEvent.values if value in chosen]
    else:
        time_condition = rules.clean_time_condition(draft.time_condition)
    conditions, actions = rules.clean_all(
        workspace_id, draft.conditions, draft.actions, require_actions=not for_preview
    )
    return CleanRule(name, draft.kind, events, time_condition, draft.match, conditions, actions, draft.is_active)


def create_rule(*, actor: Agent, draft: RuleDraft) -> AutomationRule:
    require_admin(actor, AUTOMATIONS_ADMINS_ONLY)
    clean = clean_draft(actor.workspace_id, draft)
    with transaction.atomic():
        last = AutomationRule.objects.filter(workspace_id=actor.workspace_id).aggregate(last=Max("position"))["last"]
        return AutomationRule.objects.create(
            workspace_id=actor.workspace_id,
            position=(last or 0) + 1,
            created_by=actor,
            **_fields(clean),
        )


def update_rule(*, actor: Agent, rule: AutomationRule, draft: RuleDraft) -> AutomationRule:
    require_admin(actor, AUTOMATIONS_ADMINS_ONLY)
    _require_same_workspace(actor, rule)
    clean = clean_draft(actor.workspace_id, draft)
    for name, value in _fields(clean).items():
        setattr(rule, name, value)
    rule.created_by = actor
    rule.updated_at = timezone.now()
    rule.save()
    return rule


def set_rule_active(*, actor: Agent, rule: AutomationRule, is_active: bool) -> AutomationRule:
    """Switching a rule on is saving it: it then acts with this admin's rights."""
    require_admin(actor, AUTOMATIONS_ADMINS_ONLY)
    _require_same_workspace(actor, rule)
    rule.is_active = is_active
    rule.created_by = actor
    rule.updated_at = timezone.now()
    rule.save(update_fields=["is_active", "created_by", "updated_at"])
    return rule


def delete_rule(*, actor: Agent, rule: AutomationRule) -> None:
    """Deletes the rule and its run log; the tickets' history keeps what it did."""
    require_admin(actor, AUTOMATIONS_ADMINS_ONLY)
    _require_same_workspace(actor, rule)
    rule.delete()


def _require_same_workspace(actor: Agent, rule: AutomationRule) -> None:
    if rule.workspace_id != actor.workspace_id:
        raise NotFound(_("Automation rule not found."))


def _fields(clean: CleanRule) -> dict[str, Any]:
    return {
        "name": clean.name,
        "kind": clean.kind,
        "events": clean.events,
        "time_condition": clean.time_condition,
        "match": clean.match,
        "conditions": clean.conditions,
        "actions": clean.actions,
        "is_active": clean.is_active,
    }
