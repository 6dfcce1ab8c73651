"""Macros over the API, as on the Macros settings page and the ticket page's composer.

Shared macros are managed by admins, personal ones by their owner (any agent who can reply); another agent's personal
macro and another workspace's macro read as "not found". Applying a macro is the composer's two steps: its reply
text rendered for the ticket (GET), then its actions applied (POST ``/apply``); the text is sent, edited or not,
as a message (POST /tickets/{number}/messages). Every write is a deskloop.tickets.services.macros call.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import NOTE_ROLES, WRITER_ROLES
from deskloop.core.api_support import CursorPage, PageQuery, api_policy, keyset_page, problems
from deskloop.tickets.models import Macro, Ticket
from deskloop.tickets.queries import get_ticket_for_agent
from deskloop.tickets.schemas import TicketOut
from deskloop.tickets.services import macros as services

router = Router(tags=["macros"])

ACTIONS_HELP = (
    'What applying the macro changes: {"status": <status id>, "priority": "low|normal|high|urgent", '
    '"assignee": <agent id> | "me", "add_tags": [...], "remove_tags": [...]}; all optional.'
)


class MacroOut(Schema):
    id: int
    name: str
    body: str = Field(..., description="The reply text, with placeholders such as {{ requester.name }}.")
    actions: dict[str, Any]
    shared: bool = Field(..., description="Shared with the workspace (admins manage it), or the caller's own.")

    @staticmethod
    def resolve_shared(obj: Macro) -> bool:
        return obj.owner_id is None


class MacroPage(Schema):
    items: list[MacroOut]
    next_cursor: str | None


class MacroIn(Schema):
    name: str = Field(..., max_length=services.NAME_MAX)
    body: str = Field("", max_length=services.BODY_MAX)
    actions: dict[str, Any] = Field(default_factory=dict, description=ACTIONS_HELP)
    shared: bool = Field(True, description="Shared macros need an admin; a personal one only its owner sees.")


class MacroUpdateIn(Schema):
    """Only the fields sent change."""

    name: str | None = Field(None, max_length=services.NAME_MAX)
    body: str | None = Field(None, max_length=services.BODY_MAX)
    actions: dict[str, Any] | None = Field(None, description=ACTIONS_HELP)


class RenderedMacroOut(Schema):
    id: int
    name: str
    body: str = Field(..., description="The reply text with this ticket's and the caller's values filled in.")
    has_actions: bool


@router.get("/macros", response={200: MacroPage, **problems(401, 403, 422, 429)}, summary="List macros")
@api_policy(NOTE_ROLES)
def list_macros(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    """Shared macros and the caller's own."""
    return keyset_page(services.macros_for_agent(caller_agent(request)), cursor=page.cursor, limit=page.limit)


@router.post("/macros", response={201: MacroOut, **problems(401, 403, 409, 422, 429)}, summary="Create a macro")
@api_policy(WRITER_ROLES, idempotent=True)
def create_macro(request: HttpRequest, payload: MacroIn, response: HttpResponse) -> Status[Macro]:
    macro = services.create_macro(
        agent=caller_agent(request),
        name=payload.name,
        body=payload.body,
        actions=payload.actions,
        shared=payload.shared,
    )
    response["Location"] = f"{request.path.rstrip('/')}/{macro.pk}"
    return Status(201, macro)


@router.get("/macros/{macro_id}", response={200: MacroOut, **problems(401, 403, 404, 429)}, summary="Get a macro")
@api_policy(NOTE_ROLES)
def get_macro(request: HttpRequest, macro_id: int) -> Macro:
    return services.get_macro_for_agent(caller_agent(request), macro_id)


@router.patch(
    "/macros/{macro_id}", response={200: MacroOut, **problems(401, 403, 404, 422, 429)}, summary="Change a macro"
)
@api_policy(WRITER_ROLES)
def update_macro(request: HttpRequest, macro_id: int, payload: MacroUpdateIn) -> Macro:
    agent = caller_agent(request)
    macro = services.get_macro_for_agent(agent, macro_id)
    return services.update_macro(
        macro=macro,
        agent=agent,
        name=payload.name if payload.name is not None else macro.name,
        body=payload.body if payload.body is not None else macro.body,
        actions=payload.actions if payload.actions is not None else macro.actions,
    )


@router.delete("/macros/{macro_id}", response={204: None, **problems(401, 403, 404, 429)}, summary="Delete a macro")
@api_policy(WRITER_ROLES)
def delete_macro(request: HttpRequest, macro_id: int) -> Status[None]:
    agent = caller_agent(request)
    services.delete_macro(macro=services.get_macro_for_agent(agent, macro_id), agent=agent)
    return Status(204, None)


@router.get(
    "/tickets/{number}/macros/{macro_id}",
    response={200: RenderedMacroOut, **problems(401, 403, 404, 422, 429)},
    summary="A macro's reply text for a ticket",
    description="What the composer inserts; nothing is sent or changed.",
)
@api_policy(NOTE_ROLES)
def render_macro(request: HttpRequest, number: int, macro_id: int) -> dict[str, object]:
    agent = caller_agent(request)
    ticket = get_ticket_for_agent(agent, number)
    macro = services.get_macro_for_agent(agent, macro_id)
    body = services.render_macro_body(macro=macro, ticket=ticket, agent=agent)
    return {"id": macro.pk, "name": macro.name, "body": body, "has_actions": bool(macro.actions)}


@router.post(
    "/tickets/{number}/macros/{macro_id}/apply",
    response={200: TicketOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Apply a macro's actions to a ticket",
    description="Sets what the macro sets (status, priority, assignee, tags) and records that it was applied. "
    "Light agents may apply only macros without actions.",
)
@api_policy(NOTE_ROLES)
def apply_macro(request: HttpRequest, number: int, macro_id: int, response: HttpResponse) -> Ticket:
    agent = caller_agent(request)
    ticket = get_ticket_for_agent(agent, number)
    macro = services.get_macro_for_agent(agent, macro_id)
    services.apply_macro(ticket=ticket, macro=macro, agent=agent, via="api")
    applied = get_ticket_for_agent(agent, number)
    response["ETag"] = applied.etag
    return applied


__all__ = ["router"]
