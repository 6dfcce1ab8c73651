"""Bulk changes from the inbox: assign, set status, add or remove a tag on many selected tickets at once.

Each ticket goes through ``update_ticket`` (so every change writes its TicketEvent, notifies, publishes the
webhook event, and respects required-on-solve fields) inside one transaction: either every selected ticket
changes or none does, and the agent is told which ticket stopped the batch and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent
from deskloop.core.errors import DomainError, ValidationFailed
from deskloop.tickets.models import Status, Ticket
from deskloop.tickets.services.tickets import TicketChanges, clean_tag_names, update_ticket

# One inbox page: a bigger batch would hold the row locks for too long.
MAX_BULK_TICKETS = 100

ROLE_CANNOT_BULK = gettext_noop("Your role cannot change tickets, so bulk actions are not available to you.")
NOTHING_SELECTED = gettext_noop("Select at least one ticket first.")
TOO_MANY = gettext_noop("Select at most %(max)d tickets at a time.")
NOTHING_TO_CHANGE = gettext_noop("Choose what to change: an assignee, a status or a tag.")
TICKETS_NOT_FOUND = gettext_noop("Some of the selected tickets no longer exist. Reload the list and try again.")
ASSIGNEE_NOT_FOUND = gettext_noop("That agent was not found in this workspace.")
ASSIGNEE_INACTIVE = gettext_noop("%(name)s is deactivated and cannot be assigned tickets.")
STATUS_NOT_FOUND = gettext_noop("That status was not found in this workspace.")
TICKET_REFUSED = gettext_noop("Nothing was changed: ticket #%(number)s refused the change: %(reason)s")


@dataclass
class BulkChange:
    """What to do to every selected ticket. ``unassign`` clears the assignee; ids refer to the agent's workspace."""

    assignee_id: int | None = None
    unassign: bool = False
    status_id: int | None = None
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return (
            self.assignee_id is None
            and not self.unassign
            and self.status_id is None
            and not self.add_tags
            and not self.remove_tags
        )


@dataclass(frozen=True)
class BulkResult:
    selected: int
    changed: int


def _ticket_changes(*, agent: Agent, change: BulkChange) -> TicketChanges:
    changes = TicketChanges(add_tags=clean_tag_names(change.add_tags), remove_tags=clean_tag_names(change.remove_tags))
    if change.unassign:
        changes.assignee = None
    elif change.assignee_id is not None:
        assignee = (
            Agent.objects.select_related("user").filter(workspace_id=agent.workspace_id, pk=change.assignee_id).first()
        )
        if assignee is None:
            raise ValidationFailed(_(ASSIGNEE_NOT_FOUND), field="assignee")
        if not assignee.is_active:
            raise ValidationFailed(_(ASSIGNEE_INACTIVE) % {"name": assignee.name}, field="assignee")
        changes.assignee = assignee
    if change.status_id is not None:
        status = Status.objects.filter(workspace_id=agent.workspace_id, pk=change.status_id).first()
        if status is None:
            raise ValidationFailed(_(STATUS_NOT_FOUND), field="status")
        changes.status = status
    return changes


def bulk_update_tickets(*, agent: Agent, ticket_ids: Sequence[int], change: BulkChange) -> BulkResult:
    """Apply ``change`` to the selected tickets of the agent's workspace, all or nothing.

    Preconditions checked here: the agent's role may change tickets; 1..MAX_BULK_TICKETS tickets are selected,
    all of them live tickets of the agent's workspace (ids of another workspace are refused, never touched);
    the assignee and status belong to the same workspace.
    """
    require_role(agent, Capability.WRITE, ROLE_CANNOT_BULK)
    wanted = sorted(set(ticket_ids))
    if not wanted:
        raise ValidationFailed(_(NOTHING_SELECTED), field="ticket")
    if len(wanted) > MAX_BULK_TICKETS:
        raise ValidationFailed(_(TOO_MANY) % {"max": MAX_BULK_TICKETS}, field="ticket")
    if change.is_empty:
        raise ValidationFailed(_(NOTHING_TO_CHANGE), field="action")
    changes = _ticket_changes(agent=agent, change=change)
    if changes.is_empty:
        # Tag names that clean up to nothing ("  ", ",") leave nothing to do.
        raise ValidationFailed(_(NOTHING_TO_CHANGE), field="action")

    tickets = list(
        Ticket.objects.filter(workspace_id=agent.workspace_id, pk__in=wanted, deleted_at__isnull=True).order_by("pk")
    )
    if len(tickets) != len(wanted):
        raise ValidationFailed(_(TICKETS_NOT_FOUND), field="ticket")

    changed = 0
    # One transaction for the batch: update_ticket's own atomic blocks become savepoints, and a refusal on
    # any ticket (a required field missing before solving, say) rolls back the ones already changed.
    with transaction.atomic():
        for ticket in tickets:
            try:
                updated = update_ticket(ticket=ticket, changes=changes, agent=agent, via="bulk")
            except DomainError as refused:
                raise type(refused)(
                    _(TICKET_REFUSED) % {"number": ticket.number, "reason": refused.message},
                    code=refused.code,
                    field=refused.field,
                ) from refused
            if updated.version != ticket.version:
                changed += 1
    return BulkResult(selected=len(tickets), changed=changed)
