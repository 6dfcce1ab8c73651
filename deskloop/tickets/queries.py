"""Reads with rules: every ticket lookup goes through a helper that scopes it to the caller's workspace."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from deskloop.accounts.models import Agent, Workspace
from deskloop.tickets.models import Status, StatusCategory, Ticket


def live_tickets(workspace: Workspace | int) -> QuerySet[Ticket]:
    """Tickets an agent works with: not deleted, not merged away, not spam."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return Ticket.objects.filter(
        workspace_id=workspace_id, deleted_at__isnull=True, merged_into__isnull=True, is_spam=False
    )


def get_ticket_for_agent(agent: Agent, number: int, *, include_trashed: bool = False) -> Ticket:
    """The ticket with this number in the agent's workspace, or 404 (never another workspace's ticket).

    Merged tickets are returned so their page can point at the survivor; deleted ones only on request.
    """
    tickets = Ticket.objects.filter(workspace_id=agent.workspace_id)
    if not include_trashed:
        tickets = tickets.filter(deleted_at__isnull=True)
    ticket = (
        tickets.select_related(
            "status", "requester", "organization", "assignee__user", "team", "product_area", "merged_into"
        )
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise Http404("No such ticket")
    return ticket


def default_status(workspace_id: int, category: StatusCategory) -> Status:
    status = (
        Status.objects.filter(workspace_id=workspace_id, category=category)
        .order_by("-is_default", "position", "id")
        .first()
    )
    if status is None:
        raise LookupError(f"workspace {workspace_id} has no status in category {category}")
    return status
