"""Doing what a rule says to one ticket, with the rights of the admin who saved it.

Every ticket change goes through the tickets app's one write path (``update_ticket``, ``add_internal_note``) with
the rule's admin as the actor and ``via="automation:<rule id>"``, so the history, the version, the search document,
notifications and webhooks are exactly what a person's change produces. Field actions are gathered into one
``TicketChanges``: one write, one ``ticket.updated`` event for the lot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent, Team
from deskloop.assignment.services import auto_assign
from deskloop.automations import outside, rules
from deskloop.automations.models import AutomationRule
from deskloop.core.errors import ValidationFailed
from deskloop.tickets.models import Priority, ProductArea, RequestType, Status, Ticket
from deskloop.tickets.services.messages import add_internal_note
from deskloop.tickets.services.notifications import notify_for_automation
from deskloop.tickets.services.tickets import TicketChanges, update_ticket


def via_of(rule: AutomationRule) -> str:
    return f"automation:{rule.pk}"


def _row(model: type[Model], workspace_id: int, pk: Any) -> Any:
    """The rule's referenced row, still in its workspace; a rule must never reach another workspace's object."""
    if pk is None:
        return None
    found = model._default_manager.filter(workspace_id=workspace_id, pk=pk).first()
    if found is None:
        raise ValidationFailed(_("Something this rule refers to no longer exists; edit the rule."), field="actions")
    return found


def _label(choices: Any, value: str) -> str:
    return str(dict(choices.choices).get(value, value)) if value else _("none")


def _field_change(changes: TicketChanges, action: Mapping[str, Any], workspace_id: int) -> str | None:
    """Put a field action into ``changes``; its description, or None when ``action`` is not a field action."""
    kind, value = action["type"], action.get("value")
    if kind == "set_status":
        status: Status = _row(Status, workspace_id, value)
        changes.status = status
        return _("set status to %(value)s") % {"value": status.name}
    if kind == "set_priority":
        changes.priority = str(value)
        return _("set priority to %(value)s") % {"value": _label(Priority, str(value))}
    if kind == "set_team":
        team: Team | None = _row(Team, workspace_id, value)
        changes.team = team
        return _("set team to %(value)s") % {"value": team.name if team else _("none")}
    if kind == "set_assignee":
        agent: Agent | None = _row(Agent, workspace_id, value)
        changes.assignee = agent
        return _("set assignee to %(value)s") % {"value": agent.name if agent else _("nobody")}
    if kind == "set_product_area":
        area: ProductArea | None = _row(ProductArea, workspace_id, value)
        changes.product_area = area
        return _("set product area to %(value)s") % {"value": str(area) if area else _("none")}
    if kind == "set_request_type":
        changes.request_type = str(value)
        return _("set request type to %(value)s") % {"value": _label(RequestType, str(value))}
    if kind == "add_tag":
        changes.add_tags = [*changes.add_tags, str(value)]
        return _("added the tag “%(value)s”") % {"value": value}
    if kind == "remove_tag":
        changes.remove_tags = [*changes.remove_tags, str(value)]
        return _("removed the tag “%(value)s”") % {"value": value}
    return None


def would_change_fields(rule: AutomationRule, ticket: Ticket) -> bool:
    """Whether the rule's field and tag actions would change ``ticket`` as it is now (a rule matching again in its
    cycle with something to change is a loop; with nothing to change, it is done)."""
    current = {
        "set_status": ticket.status_id,
        "set_priority": ticket.priority,
        "set_team": ticket.team_id,
        "set_assignee": ticket.assignee_id,
        "set_product_area": ticket.product_area_id,
        "set_request_type": ticket.request_type,
    }
    tags = {name.lower() for name in ticket.tags.values_list("name", flat=True)}
    for action in rule.actions:
        kind, value = action.get("type"), action.get("value")
        if kind in current and current[kind] != value:
            return True
        if (kind == "add_tag" and str(value).lower() not in tags) or (
            kind == "remove_tag" and str(value).lower() in tags
        ):
            return True
    return False


def apply_actions(*, rule: AutomationRule, ticket: Ticket, actor: Agent) -> list[str]:
    """Apply the rule's actions to ``ticket`` as ``actor``; what was done, one phrase per action. Raises DomainError
    (nothing of this rule's run kept: the caller holds a savepoint) when an action is refused."""
    workspace_id = ticket.workspace_id
    changes = TicketChanges()
    steps: list[str] = []
    later: list[Mapping[str, Any]] = []
    for action in rule.actions:
        if action.get("type") not in rules.ACTION_TYPES:
            raise ValidationFailed(_("Unknown action “%(action)s”.") % {"action": action.get("type")})
        described = _field_change(changes, action, workspace_id)
        if described is None:
            later.append(action)
        else:
            steps.append(described)
    if not changes.is_empty:
        ticket = update_ticket(ticket=ticket, changes=changes, agent=actor, via=via_of(rule))
    for action in later:
        steps.append(_other_action(rule, ticket, actor, action))
    return steps


def _other_action(rule: AutomationRule, ticket: Ticket, actor: Agent, action: Mapping[str, Any]) -> str:
    kind, value = action["type"], action.get("value")
    if kind == "add_note":
        add_internal_note(ticket=ticket, agent=actor, body_text=str(value), via=via_of(rule))
        return _("added an internal note")
    if kind == "assign_in_team":
        team: Team = _row(Team, ticket.workspace_id, value)
        picked = auto_assign(ticket=ticket, team=team, actor=actor)
        if picked is None:
            return _("nobody in %(team)s is available: left as it was") % {"team": team.name}
        return _("assigned to %(agent)s in %(team)s") % {"agent": picked.name, "team": team.name}
    if kind == "notify_agent":
        agent: Agent = _row(Agent, ticket.workspace_id, value)
        if agent.is_active:
            notify_for_automation(ticket=ticket, agents=[agent], rule_name=rule.name)
        return _("notified %(agent)s") % {"agent": agent.name}
    if kind == "send_email":
        return outside.email_requester(rule=rule, ticket=ticket, subject=str(value), body=str(action.get("text", "")))
    if kind == "call_webhook":
        return outside.call_webhook(rule=rule, ticket=ticket, endpoint_id=int(str(value)))
    raise ValidationFailed(_("Unknown action “%(action)s”.") % {"action": kind})
