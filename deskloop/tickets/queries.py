"""Reads with rules: every ticket lookup goes through a helper that scopes it to the caller's workspace."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.http import Http404

from deskloop.accounts.models import Agent, Team, User, Workspace
from deskloop.core.plain_sql import JoinedRows
from deskloop.customers.models import Contact, Organization
from deskloop.tickets.models import EventKind, ProductArea, Status, StatusCategory, Ticket, TicketEvent


def live_tickets(workspace: Workspace | int) -> QuerySet[Ticket]:
    """Tickets an agent works with: not deleted, not merged away, not spam."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return Ticket.objects.filter(
        workspace_id=workspace_id, deleted_at__isnull=True, merged_into__isnull=True, is_spam=False
    )


def may_see_trash_and_spam(agent: Agent) -> bool:
    """The trash and the Spam are for agents who can change tickets (they restore or rescue from there): the one
    rule behind the Trash and Spam views (inbox.check_view_allowed) and every read of one ticket."""
    return agent.can_write


def get_ticket_for_agent(agent: Agent, number: int, *, include_trashed: bool = False) -> Ticket:
    """The ticket with this number in the agent's workspace, or 404 (never another workspace's ticket).

    Merged tickets are returned so their page can point at the survivor; deleted ones only on request. A ticket
    in the trash or the Spam does not exist for an agent who may not open those views (may_see_trash_and_spam).
    """
    tickets = Ticket.objects.filter(workspace_id=agent.workspace_id)
    if not include_trashed or not may_see_trash_and_spam(agent):
        tickets = tickets.filter(deleted_at__isnull=True)
    if not may_see_trash_and_spam(agent):
        tickets = tickets.filter(is_spam=False)
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


def _ticket_with_relations_tail(quote: Callable[[str], str]) -> str:
    def table(model: type[models.Model]) -> str:
        return quote(model._meta.db_table)

    pk = quote("id")

    def join(kind: str, model: type[models.Model], alias: str, on: str) -> str:
        return f"{kind} JOIN {table(model)} {alias} ON {alias}.{pk} = {on} "

    return (
        f"FROM {table(Ticket)} t "
        + join("INNER", Status, "s", f"t.{quote('status_id')}")
        + join("INNER", Contact, "c", f"t.{quote('requester_id')}")
        + join("LEFT", Organization, "o", f"t.{quote('organization_id')}")
        + join("LEFT", Agent, "a", f"t.{quote('assignee_id')}")
        + join("LEFT", User, "u", f"a.{quote('user_id')}")
        + join("LEFT", Team, "tm", f"t.{quote('team_id')}")
        + join("LEFT", ProductArea, "p", f"t.{quote('product_area_id')}")
        + join("LEFT", Ticket, "m", f"t.{quote('merged_into_id')}")
        + f"WHERE t.{quote('workspace_id')} = %s AND t.{pk} = %s"
    )


# get_ticket_for_agent's select_related join, built once per process: the ORM compiled this nine-table join for
# every API create (after the write, for the response) in more time than the database took to run it.
_TICKET_WITH_RELATIONS = JoinedRows(
    [
        (Ticket, "t"),
        (Status, "s"),
        (Contact, "c"),
        (Organization, "o"),
        (Agent, "a"),
        (User, "u"),
        (Team, "tm"),
        (ProductArea, "p"),
        (Ticket, "m"),
    ],
    _ticket_with_relations_tail,
)


def ticket_with_relations(workspace_id: int, pk: int) -> Ticket:
    """The ticket by primary key in this workspace with what ``get_ticket_for_agent`` loads along (status,
    requester, organization, assignee and user, team, product area, merged-into ticket), by one prepared statement;
    404 when there is none. For a ticket just written, whose key is known."""
    rows = _TICKET_WITH_RELATIONS.fetch([workspace_id, pk])
    if not rows:
        raise Http404("No such ticket")
    ticket, status, requester, organization, assignee, user, team, product_area, merged_into = rows[0]
    assert isinstance(ticket, Ticket)
    ticket.status = status
    ticket.requester = requester
    ticket.organization = organization
    if assignee is not None:
        assignee.user = user
    ticket.assignee = assignee
    ticket.team = team
    ticket.product_area = product_area
    ticket.merged_into = merged_into
    return ticket


def spam_filter_verdicts(ticket_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Ticket id -> the verdict ({source, score, evidence}) a spam filter recorded, for those of these tickets whose
    latest spam event is a filter's; an agent's later mark or unmark (a boolean) replaces it. One query."""
    latest: dict[int, Any] = {}
    events = (
        TicketEvent.objects.filter(ticket_id__in=list(ticket_ids), kind=EventKind.SPAM)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "new_value")
    )
    for ticket_id, verdict in events:
        latest[ticket_id] = verdict
    return {ticket_id: verdict for ticket_id, verdict in latest.items() if isinstance(verdict, dict)}


def default_status(workspace_id: int, category: StatusCategory) -> Status:
    status = (
        Status.objects.filter(workspace_id=workspace_id, category=category)
        .order_by("-is_default", "position", "id")
        .first()
    )
    if status is None:
        raise LookupError(f"workspace {workspace_id} has no status in category {category}")
    return status
