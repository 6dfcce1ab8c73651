"""Tickets, their messages, and the workspace's statuses, tags and product areas over the API.

Every write goes through deskloop.tickets.services; the endpoint only turns ids from the request into objects of
the caller's workspace (an id of another workspace reads as "not found") and renders the result.
"""

from typing import TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.params import HeaderEx, P
from ninja.responses import Status as HttpStatus

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ADMIN_ROLES, ALL_ROLES, NOTE_ROLES, WRITER_ROLES, Agent, Team, Workspace
from deskloop.core.api_support import ApiProblem, CursorPage, PageQuery, api_policy, keyset_page, problems
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import Contact
from deskloop.customers.services import find_or_create_contact
from deskloop.tickets import search
from deskloop.tickets.inbox import Page, TicketFilter, filter_tickets, paginate
from deskloop.tickets.models import Channel, Message, ProductArea, Status, Tag, Ticket
from deskloop.tickets.queries import get_ticket_for_agent, ticket_with_relations
from deskloop.tickets.schemas import (
    MessageIn,
    MessageOut,
    MessagePage,
    ProductAreaPage,
    StatusPage,
    TagPage,
    TicketCreateIn,
    TicketFilterQuery,
    TicketImportIn,
    TicketImportOut,
    TicketListQuery,
    TicketOut,
    TicketPage,
    TicketUpdateIn,
)
from deskloop.tickets.services import lifecycle
from deskloop.tickets.services.imports import ImportRow, import_tickets
from deskloop.tickets.services.lifecycle import restore_ticket, soft_delete_ticket
from deskloop.tickets.services.messages import add_agent_reply, add_internal_note
from deskloop.tickets.services.tickets import UNSET, NewTicket, TicketChanges, open_ticket, unset_if_none, update_ticket

router = Router(tags=["tickets"])

M = TypeVar("M", bound=Model)

# What a ticket in a response needs, fetched up front so a page of 100 tickets costs the same queries as 1.
TICKET_RELATED = ("status", "requester", "organization", "assignee__user", "team", "product_area", "merged_into")
TICKET_PREFETCH = ("tags", "requester__emails")


def _pick(model: type[M], workspace_id: int, pk: int | None, field: str, message: str) -> M | None:
    """The object with this id in the caller's workspace; another workspace's id reads as not found."""
    if pk is None:
        return None
    found = model._default_manager.filter(workspace_id=workspace_id, pk=pk).first()
    if found is None:
        raise ValidationFailed(message, field=field)
    return found


def _status(workspace_id: int, pk: int | None) -> Status | None:
    return _pick(Status, workspace_id, pk, "status_id", _("No such status in this workspace."))


def _assignee(workspace_id: int, pk: int | None) -> Agent | None:
    return _pick(Agent, workspace_id, pk, "assignee_id", _("No such agent in this workspace."))


def _team(workspace_id: int, pk: int | None) -> Team | None:
    return _pick(Team, workspace_id, pk, "team_id", _("No such team in this workspace."))


def _product_area(workspace_id: int, pk: int | None) -> ProductArea | None:
    return _pick(ProductArea, workspace_id, pk, "product_area_id", _("No such product area in this workspace."))


def _requester(workspace: Workspace, payload: TicketCreateIn) -> Contact:
    if payload.requester_id is not None:
        found = _pick(
            Contact, workspace.pk, payload.requester_id, "requester_id", _("No such contact in this workspace.")
        )
        assert found is not None
        return found
    if payload.requester_email:
        return find_or_create_contact(workspace=workspace, email=payload.requester_email, name=payload.requester_name)
    raise ValidationFailed(_("Give the requester as requester_id or requester_email."), field="requester_email")


def _expected_version(ticket: Ticket, if_match: str | None) -> int:
    """If-Match is required on updates, so two clients never silently overwrite each other (RFC 9110 §13.1.1)."""
    if not if_match:
        raise ApiProblem(
            428,
            "if_match_required",
            _("Send the ticket's ETag in an If-Match header (read it with GET) so you do not overwrite a change."),
        )
    candidates = [c.strip().removeprefix("W/") for c in if_match.split(",")]
    if ticket.etag not in candidates:
        raise ApiProblem(
            412,
            "stale_etag",
            _("The ticket was changed since you read it. GET it again, reapply your change and retry."),
            headers={"ETag": ticket.etag},
        )
    return ticket.version


# ----------------------------------------------------------------------------------------------------------
# Tickets


@router.get("/tickets", response={200: TicketPage, **problems(401, 422, 429)}, summary="List tickets")
@api_policy(ALL_ROLES)
def list_tickets(request: HttpRequest, filters: Query[TicketListQuery]) -> Page | dict[str, object]:
    agent = caller_agent(request)
    ticket_filter = ticket_filter_from_query(filters)
    if filters.q.strip():
        return _search_page(agent, ticket_filter, filters)
    tickets = filter_tickets(agent, ticket_filter).select_related(*TICKET_RELATED).prefetch_related(*TICKET_PREFETCH)
    page = paginate(tickets, sort=filters.sort, cursor=filters.cursor, size=filters.limit)
    return {"items": page.tickets, "next_cursor": page.next_cursor}


def ticket_filter_from_query(filters: TicketFilterQuery) -> TicketFilter:
    """The inbox filter the list's parameters ask for (also what a saved view stores)."""
    return TicketFilter(
        view=filters.view,
        status_ids=filters.status_id,
        status_categories=[str(c) for c in filters.status_category],
        assignee_ids=filters.assignee_id,
        unassigned=filters.unassigned,
        team_ids=filters.team_id,
        tag_names=filters.tag,
        product_area_ids=filters.product_area_id,
        organization_ids=filters.organization_id,
        requester_ids=filters.requester_id,
        channels=[str(c) for c in filters.channel],
        priorities=[str(p) for p in filters.priority],
        created_from=filters.created_from,
        created_to=filters.created_to,
    )


def _search_page(agent: Agent, ticket_filter: TicketFilter, filters: TicketListQuery) -> dict[str, object]:
    """The agent UI's search (search.search_tickets: same words, same filters, same ranking); the cursor is the
    offset of the next page, since ranked hits have no key to continue from."""
    cursor = filters.cursor or "0"
    if not cursor.isdigit() or len(cursor) > 6:
        raise ValidationFailed(_("This cursor is not one this search gave out."), field="cursor")
    results = search.search_tickets(
        agent=agent, query=filters.q, ticket_filter=ticket_filter, limit=filters.limit, offset=int(cursor)
    )
    # The hits come with their relations; what a ticket in a response also carries (tags, addresses) is one query
    # per relation for the page, not one per hit.
    items = [hit.ticket for hit in results.hits]
    prefetch_related_objects(items, *TICKET_PREFETCH)
    next_offset = results.next_offset
    if next_offset is None or next_offset > search.MAX_OFFSET:
        return {"items": items, "next_cursor": None}
    return {"items": items, "next_cursor": str(next_offset)}


# Declared before "/tickets/{number}": its path would match "import" as a number and answer 405.
@router.post(
    "/tickets/import",
    response={200: TicketImportOut, **problems(401, 403, 409, 422, 429)},
    summary="Import tickets",
    description=(
        "Imports up to 1000 tickets from another helpdesk (admins and owners), each with its first message, and "
        "answers with a result "
        "per row: created, skipped (its external_id was imported before) or error (with the reason; the other "
        "rows still go in). Tags, product areas and organizations the rows name are created. Send an "
        "Idempotency-Key to retry a batch safely; re-sending rows is safe anyway, they come back as skipped."
    ),
)
# Admins and owners: moving in from another helpdesk also creates product areas, which only admins manage.
@api_policy(ADMIN_ROLES, idempotent=True)
def import_tickets_endpoint(request: HttpRequest, payload: TicketImportIn) -> dict[str, object]:
    agent = caller_agent(request)
    rows = [ImportRow(line=position, values=row.model_dump()) for position, row in enumerate(payload.rows, start=1)]
    summary = import_tickets(workspace=agent.workspace, rows=rows, actor=agent)
    return {
        "created": summary.created,
        "skipped": summary.skipped,
        "failed": summary.failed,
        "results": [
            {
                "row": result.line,
                "external_id": result.external_id,
                "status": result.outcome,
                "message": result.message,
                "field": result.field,
                "ticket_number": result.ticket_number,
            }
            for result in summary.results
        ],
    }


@router.get("/tickets/{number}", response={200: TicketOut, **problems(401, 404, 429)}, summary="Get a ticket")
@api_policy(ALL_ROLES)
def get_ticket(request: HttpRequest, number: int, response: HttpResponse) -> Ticket:
    ticket = get_ticket_for_agent(caller_agent(request), number)
    response["ETag"] = ticket.etag
    return ticket


@router.post(
    "/tickets",
    response={201: TicketOut, **problems(401, 403, 409, 422, 429)},
    summary="Create a ticket",
    description="Opens a ticket with the requester's first message. Send an Idempotency-Key to retry safely.",
)
@api_policy(WRITER_ROLES, idempotent=True)
def create_ticket_endpoint(request: HttpRequest, payload: TicketCreateIn, response: HttpResponse) -> HttpStatus[Ticket]:
    agent = caller_agent(request)
    workspace = agent.workspace
    wid = workspace.pk
    # One transaction: a contact found-or-created for a ticket that is then refused must not stay behind.
    with transaction.atomic():
        ticket = open_ticket(
            workspace=workspace,
            ticket=NewTicket(
                requester=_requester(workspace, payload),
                subject=payload.subject,
                body_text=payload.body_text,
                body_html=payload.body_html,
                channel=Channel.API,
                priority=payload.priority,
                assignee=_assignee(wid, payload.assignee_id),
                team=_team(wid, payload.team_id),
                product_area=_product_area(wid, payload.product_area_id),
                request_type=payload.request_type,
                tags=payload.tags,
                custom_fields=payload.custom_fields,
                status=_status(wid, payload.status_id),
            ),
            created_by=agent,
            via="api",
        )[0]
    created = ticket_with_relations(wid, ticket.pk)
    response["ETag"] = created.etag
    response["Location"] = f"{request.path.rstrip('/')}/{created.number}"
    return HttpStatus(201, created)


@router.patch(
    "/tickets/{number}",
    response={200: TicketOut, **problems(401, 403, 404, 412, 422, 428, 429)},
    summary="Update a ticket",
    description="Requires If-Match with the ETag from GET; a stale ETag gets 412 and changes nothing.",
)
@api_policy(WRITER_ROLES)
def update_ticket_endpoint(
    request: HttpRequest,
    number: int,
    payload: TicketUpdateIn,
    response: HttpResponse,
    if_match: HeaderEx[str | None, P(alias="If-Match", description="The ETag from GET (required).")] = None,
) -> Ticket:
    agent = caller_agent(request)
    ticket = get_ticket_for_agent(agent, number)
    expected = _expected_version(ticket, if_match)
    wid = agent.workspace_id
    sent = payload.model_fields_set
    if "status_id" in sent and payload.status_id is None:
        raise ValidationFailed(_("A ticket always has a status."), field="status_id")
    changes = TicketChanges(
        subject=unset_if_none(payload.subject),
        status=unset_if_none(_status(wid, payload.status_id)),
        priority=unset_if_none(payload.priority),
        assignee=_assignee(wid, payload.assignee_id) if "assignee_id" in sent else UNSET,
        team=_team(wid, payload.team_id) if "team_id" in sent else UNSET,
        product_area=_product_area(wid, payload.product_area_id) if "product_area_id" in sent else UNSET,
        request_type=unset_if_none(payload.request_type),
        custom_fields=unset_if_none(payload.custom_fields),
        due_at=payload.due_at if "due_at" in sent else UNSET,
        add_tags=payload.add_tags,
        remove_tags=payload.remove_tags,
    )
    with transaction.atomic():
        changed = update_ticket(ticket=ticket, changes=changes, agent=agent, expected_version=expected, via="api")
        if payload.is_spam is not None and payload.is_spam != changed.is_spam:
            spam_change = lifecycle.mark_spam if payload.is_spam else lifecycle.unmark_spam
            spam_change(ticket=changed, agent=agent, via="api")
    updated = get_ticket_for_agent(agent, number)
    response["ETag"] = updated.etag
    return updated


@router.delete(
    "/tickets/{number}",
    response={204: None, **problems(401, 403, 404, 429)},
    summary="Move a ticket to the trash",
    description="As the agent UI's Delete: the ticket leaves every list and search, and can be restored for "
    "DESKLOOP_TRASH_DAYS days (30 by default); then it is purged for good.",
)
@api_policy(WRITER_ROLES)
def delete_ticket_endpoint(request: HttpRequest, number: int) -> HttpStatus[None]:
    agent = caller_agent(request)
    soft_delete_ticket(ticket=_ticket_for_writer(agent, number), agent=agent, via="api")
    return HttpStatus(204, None)


@router.post(
    "/tickets/{number}/restore",
    response={200: TicketOut, **problems(401, 403, 404, 429)},
    summary="Restore a ticket from the trash",
    description="As the agent UI's Restore; a ticket that is not in the trash is returned unchanged.",
)
@api_policy(WRITER_ROLES)
def restore_ticket_endpoint(request: HttpRequest, number: int, response: HttpResponse) -> Ticket:
    agent = caller_agent(request)
    restore_ticket(ticket=_ticket_for_writer(agent, number), agent=agent, via="api")
    restored = get_ticket_for_agent(agent, number)
    response["ETag"] = restored.etag
    return restored


def _ticket_for_writer(agent: Agent, number: int) -> Ticket:
    """As the ticket page finds it: writers also reach trashed tickets (to restore them)."""
    return get_ticket_for_agent(agent, number, include_trashed=True)


# ----------------------------------------------------------------------------------------------------------
# Messages


def _messages(ticket: Ticket) -> QuerySet[Message]:
    return (
        Message.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket)
        .select_related("ticket", "author_agent__user", "author_contact")
        .prefetch_related("attachments", "author_contact__emails")
    )


@router.get(
    "/tickets/{number}/messages",
    response={200: MessagePage, **problems(401, 404, 422, 429)},
    summary="List a ticket's messages",
    description="Oldest first; replies, internal notes and system messages.",
)
@api_policy(ALL_ROLES)
def list_messages(request: HttpRequest, number: int, page: Query[PageQuery]) -> CursorPage:
    ticket = get_ticket_for_agent(caller_agent(request), number)
    return keyset_page(_messages(ticket), cursor=page.cursor, limit=page.limit, order=("created_at", "id"))


@router.post(
    "/tickets/{number}/messages",
    response={201: MessageOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Reply or add an internal note",
    description="Light agents may only add notes (kind=note).",
)
@api_policy(NOTE_ROLES, idempotent=True, description="light agents: internal notes only")
def create_message(request: HttpRequest, number: int, payload: MessageIn) -> HttpStatus[Message]:
    agent = caller_agent(request)
    ticket = get_ticket_for_agent(agent, number)
    if payload.kind == "note":
        if payload.status_id is not None:
            raise ValidationFailed(_("Only a reply can change the status."), field="status_id")
        message = add_internal_note(
            ticket=ticket, agent=agent, body_text=payload.body_text, body_html=payload.body_html, via="api"
        )
    else:
        message = add_agent_reply(
            ticket=ticket,
            agent=agent,
            body_text=payload.body_text,
            body_html=payload.body_html,
            status=_status(agent.workspace_id, payload.status_id),
            via="api",
        )
    return HttpStatus(201, _messages(ticket).get(pk=message.pk))


# ----------------------------------------------------------------------------------------------------------
# The workspace's ticket vocabulary (read only)


@router.get("/statuses", response={200: StatusPage, **problems(401, 422, 429)}, summary="List statuses")
@api_policy(ALL_ROLES)
def list_statuses(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    statuses = Status.objects.filter(workspace_id=caller_agent(request).workspace_id)
    return keyset_page(statuses, cursor=page.cursor, limit=page.limit)


@router.get("/tags", response={200: TagPage, **problems(401, 422, 429)}, summary="List tags")
@api_policy(ALL_ROLES)
def list_tags(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    tags = Tag.objects.filter(workspace_id=caller_agent(request).workspace_id)
    return keyset_page(tags, cursor=page.cursor, limit=page.limit)


@router.get("/product-areas", response={200: ProductAreaPage, **problems(401, 422, 429)}, summary="List product areas")
@api_policy(ALL_ROLES)
def list_product_areas(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    areas = ProductArea.objects.filter(workspace_id=caller_agent(request).workspace_id)
    return keyset_page(areas, cursor=page.cursor, limit=page.limit)
