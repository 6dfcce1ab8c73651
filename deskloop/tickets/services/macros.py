"""Macros: canned replies with placeholders that can also change the ticket (status, tags, assignee, priority).

A macro body is a Django template, rendered by the one sandbox for templates people write
(``core.template_sandbox``: allowed tags and filters only, bounded output and loops) with a context of plain
strings. So a macro written by one agent can read nothing but the placeholders listed in ``PLACEHOLDERS``, and
cannot make a reply bigger than the sandbox allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_admin, require_role
from deskloop.accounts.models import Agent
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.core.template_sandbox import TemplateRefused, render_template
from deskloop.tickets import events
from deskloop.tickets.models import EventKind, Macro, Priority, Status, Ticket
from deskloop.tickets.services.tickets import TicketChanges, clean_tag_names, unset_if_none, update_ticket

NAME_MAX = 100
BODY_MAX = 20_000
ACTION_KEYS = frozenset({"status", "add_tags", "remove_tags", "assignee", "priority"})
# Shown to the people who write macros; every other name renders as an empty string.
PLACEHOLDERS = (
    "requester.name",
    "requester.first_name",
    "requester.email",
    "ticket.number",
    "ticket.subject",
    "agent.name",
    "agent.first_name",
    "organization.name",
)

MACRO_NOT_FOUND = gettext_noop("The macro was not found.")


BAD_TEMPLATE = gettext_noop("The reply text has a placeholder error: %(error)s")


def _render(body: str, values: dict[str, dict[str, str]]) -> str:
    try:
        return render_template(body, values, autoescape=False)
    except TemplateRefused as exc:
        raise ValidationFailed(_(BAD_TEMPLATE) % {"error": exc.message}, field="body", code=exc.code) from exc


def _first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


# As long as real values can be: the sandbox budget on save is then no larger than on a real ticket.
_SAMPLE_VALUES = {
    "requester": {"name": "Carmen Customer", "first_name": "Carmen", "email": "carmen@example.com"},
    "ticket": {"number": "1042", "subject": "The invoice shows the wrong VAT number"},
    "agent": {"name": "Maria Agent", "first_name": "Maria"},
    "organization": {"name": "Globex"},
}


def placeholder_values(*, ticket: Ticket, agent: Agent) -> dict[str, dict[str, str]]:
    """The only values a macro can see, as plain strings (no model objects reach the template)."""
    requester = ticket.requester
    requester_name = requester.name or requester.primary_email
    return {
        "requester": {
            "name": requester_name,
            "first_name": _first_name(requester.name) or requester_name,
            "email": requester.primary_email,
        },
        "ticket": {"number": str(ticket.number), "subject": ticket.subject},
        "agent": {"name": agent.name, "first_name": _first_name(agent.name)},
        "organization": {"name": ticket.organization.name if ticket.organization else ""},
    }


def render_macro_body(*, macro: Macro, ticket: Ticket, agent: Agent) -> str:
    """The macro's reply text for this ticket, as plain text to put into the composer."""
    _check_visible(macro, agent)
    if macro.workspace_id != ticket.workspace_id:
        raise NotFound(_(MACRO_NOT_FOUND))
    return _render(macro.body, placeholder_values(ticket=ticket, agent=agent))


@dataclass
class MacroActions:
    """Validated actions: ids and names that exist in the macro's workspace."""

    status_id: int | None = None
    priority: str | None = None
    assignee: int | str | None = None  # an agent id, or "me" (whoever applies the macro)
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {}
        if self.status_id is not None:
            stored["status"] = self.status_id
        if self.priority is not None:
            stored["priority"] = self.priority
        if self.assignee is not None:
            stored["assignee"] = self.assignee
        if self.add_tags:
            stored["add_tags"] = self.add_tags
        if self.remove_tags:
            stored["remove_tags"] = self.remove_tags
        return stored


def _as_int(value: Any, field_name: str, message: str) -> int:
    if isinstance(value, bool):
        raise ValidationFailed(message, field=field_name)
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(message, field=field_name) from exc


def validate_actions(*, workspace_id: int, actions: dict[str, Any]) -> MacroActions:
    """Refuse unknown keys and references to objects outside the workspace (reported as not found)."""
    unknown = sorted(set(actions) - ACTION_KEYS)
    if unknown:
        raise ValidationFailed(_("Unknown macro action “%(key)s”.") % {"key": unknown[0]}, field="actions")
    result = MacroActions()
    status = actions.get("status")
    if status not in (None, ""):
        status_id = _as_int(status, "actions.status", _("The status was not found."))
        if not Status.objects.filter(workspace_id=workspace_id, pk=status_id).exists():
            raise ValidationFailed(_("The status was not found."), field="actions.status")
        result.status_id = status_id
    priority = actions.get("priority")
    if priority not in (None, ""):
        if priority not in Priority.values:
            raise ValidationFailed(_("Unknown priority “%(value)s”.") % {"value": priority}, field="actions.priority")
        result.priority = str(priority)
    assignee = actions.get("assignee")
    if assignee == "me":
        result.assignee = "me"
    elif assignee not in (None, ""):
        agent_id = _as_int(assignee, "actions.assignee", _("The assignee was not found."))
        if not Agent.objects.filter(workspace_id=workspace_id, pk=agent_id, is_active=True).exists():
            raise ValidationFailed(_("The assignee was not found."), field="actions.assignee")
        result.assignee = agent_id
    for key in ("add_tags", "remove_tags"):
        names = actions.get(key) or []
        if isinstance(names, str):
            names = names.split(",")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValidationFailed(_("Tags must be a list of names."), field=f"actions.{key}")
        setattr(result, key, clean_tag_names(names))
    return result


SHARED_MACROS_ADMINS_ONLY = gettext_noop("Only admins can manage shared macros.")
MACROS_WRITERS_ONLY = gettext_noop("Your role cannot create macros.")
MACRO_CHANGES_WRITERS_ONLY = gettext_noop("Your role cannot apply this macro: it changes the ticket.")
MACROS_NOTE_ROLES_ONLY = gettext_noop("Your role cannot apply macros.")


def _check_manage(agent: Agent, *, shared: bool) -> None:
    if shared:
        require_admin(agent, SHARED_MACROS_ADMINS_ONLY)
    else:
        require_role(agent, Capability.WRITE, MACROS_WRITERS_ONLY)


def _check_visible(macro: Macro, agent: Agent) -> None:
    if macro.workspace_id != agent.workspace_id or (macro.owner_id is not None and macro.owner_id != agent.pk):
        raise NotFound(_(MACRO_NOT_FOUND))


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValidationFailed(_("A macro needs a name."), field="name")
    if len(cleaned) > NAME_MAX:
        raise ValidationFailed(_("A macro name can be at most %(max)d characters.") % {"max": NAME_MAX}, field="name")
    return cleaned


def _clean_body(body: str) -> str:
    if len(body or "") > BODY_MAX:
        raise ValidationFailed(_("The reply text can be at most %(max)d characters.") % {"max": BODY_MAX}, field="body")
    # Rendered with made-up values, so what the sandbox refuses (a filter, a width, a loop) is refused on save.
    _render(body or "", _SAMPLE_VALUES)
    return body or ""


def create_macro(
    *, agent: Agent, name: str, body: str = "", actions: dict[str, Any] | None = None, shared: bool = True
) -> Macro:
    """A shared macro (admins) or a personal one only its owner sees (any agent who can reply)."""
    _check_manage(agent, shared=shared)
    cleaned = validate_actions(workspace_id=agent.workspace_id, actions=actions or {})
    return Macro.objects.create(
        workspace_id=agent.workspace_id,
        name=_clean_name(name),
        body=_clean_body(body),
        actions=cleaned.as_json(),
        owner=None if shared else agent,
    )


def update_macro(
    *, macro: Macro, agent: Agent, name: str, body: str = "", actions: dict[str, Any] | None = None
) -> Macro:
    _check_visible(macro, agent)
    _check_manage(agent, shared=macro.owner_id is None)
    cleaned = validate_actions(workspace_id=agent.workspace_id, actions=actions or {})
    macro.name = _clean_name(name)
    macro.body = _clean_body(body)
    macro.actions = cleaned.as_json()
    macro.save(update_fields=["name", "body", "actions"])
    return macro


def delete_macro(*, macro: Macro, agent: Agent) -> None:
    _check_visible(macro, agent)
    _check_manage(agent, shared=macro.owner_id is None)
    macro.delete()


def macros_for_agent(agent: Agent) -> QuerySet[Macro]:
    """Shared macros and the agent's own, by name."""
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=agent), workspace_id=agent.workspace_id).order_by(
        "name", "id"
    )


def get_macro_for_agent(agent: Agent, macro_id: int) -> Macro:
    macro = macros_for_agent(agent).filter(pk=macro_id).first()
    if macro is None:
        raise NotFound(_(MACRO_NOT_FOUND))
    return macro


def apply_macro(*, ticket: Ticket, macro: Macro, agent: Agent, via: str = "web") -> Ticket:
    """Apply the macro's actions to the ticket and record that it was applied.

    The reply text is not sent here: the agent edits it in the composer and sends it as a message.
    Actions are validated again because a status or agent may have been removed since the macro was saved.
    """
    _check_visible(macro, agent)
    if macro.workspace_id != ticket.workspace_id:
        raise NotFound(_(MACRO_NOT_FOUND))
    actions = validate_actions(workspace_id=ticket.workspace_id, actions=macro.actions or {})
    has_changes = bool(actions.as_json())
    if has_changes:
        require_role(agent, Capability.WRITE, MACRO_CHANGES_WRITERS_ONLY)
    require_role(agent, Capability.NOTE, MACROS_NOTE_ROLES_ONLY)
    changes = TicketChanges(
        priority=unset_if_none(actions.priority), add_tags=actions.add_tags, remove_tags=actions.remove_tags
    )
    if actions.status_id is not None:
        changes.status = Status.objects.get(pk=actions.status_id)
    if actions.assignee is not None:
        changes.assignee = agent if actions.assignee == "me" else Agent.objects.get(pk=actions.assignee)
    with transaction.atomic():
        updated = update_ticket(ticket=ticket, changes=changes, agent=agent, via="macro") if has_changes else ticket
        events.record_event(
            ticket=updated,
            kind=EventKind.MACRO_APPLIED,
            agent=agent,
            new={"id": macro.pk, "name": macro.name},
            via=via,
        )
    return updated
