"""Saved inbox views over the API, as in the inbox: anyone keeps personal views, admins share views with the
workspace (and delete shared ones). The same deskloop.tickets.services.saved_views calls the inbox makes; another
agent's personal view and another workspace's view read as "not found". The filters use the names of
GET /tickets's parameters, so a view's ``filters`` and ``sort`` can be sent to it as they are."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES
from deskloop.core.api_support import api_policy, problems
from deskloop.tickets.api import ticket_filter_from_query
from deskloop.tickets.inbox import TicketFilter
from deskloop.tickets.models import SavedView
from deskloop.tickets.schemas import TicketFilterQuery, TicketSort
from deskloop.tickets.services import saved_views as services

router = Router(tags=["saved views"])

# GET /tickets's parameter -> the TicketFilter attribute a saved view stores it as.
_PARAMETERS = {
    "view": "view",
    "status_id": "status_ids",
    "status_category": "status_categories",
    "assignee_id": "assignee_ids",
    "unassigned": "unassigned",
    "team_id": "team_ids",
    "tag": "tag_names",
    "product_area_id": "product_area_ids",
    "organization_id": "organization_ids",
    "requester_id": "requester_ids",
    "channel": "channels",
    "priority": "priorities",
    "created_from": "created_from",
    "created_to": "created_to",
}


class SavedViewOut(Schema):
    id: int
    name: str
    shared: bool = Field(..., description="Shared with the workspace, or the caller's own.")
    filters: dict[str, Any] = Field(..., description="GET /tickets parameters; those left out do not filter.")
    sort: str

    @staticmethod
    def resolve_shared(obj: SavedView) -> bool:
        return obj.owner_id is None

    @staticmethod
    def resolve_filters(obj: SavedView) -> dict[str, Any]:
        stored = TicketFilter.from_json(obj.filters or {}).to_json()
        return {parameter: stored[name] for parameter, name in _PARAMETERS.items() if name in stored}


class SavedViewList(Schema):
    items: list[SavedViewOut] = Field(..., description="Shared views first, then the caller's own.")
    next_cursor: str | None = Field(None, description="Always null: an agent's views come in one page.")


class SavedViewIn(Schema):
    name: str = Field(..., max_length=services.NAME_MAX_LENGTH)
    filters: TicketFilterQuery = Field(default_factory=lambda: TicketFilterQuery.model_validate({}))
    sort: TicketSort = "-updated_at"
    shared: bool = Field(False, description="Shared with the whole workspace (admins and owners only).")


@router.get("/views", response={200: SavedViewList, **problems(401, 429)}, summary="List saved views")
@api_policy(ALL_ROLES)
def list_views(request: HttpRequest) -> dict[str, object]:
    return {"items": services.visible_saved_views(caller_agent(request)), "next_cursor": None}


@router.post("/views", response={201: SavedViewOut, **problems(401, 403, 409, 422, 429)}, summary="Save a view")
@api_policy(ALL_ROLES, idempotent=True)
def create_view(request: HttpRequest, payload: SavedViewIn, response: HttpResponse) -> Status[SavedView]:
    view = services.create_saved_view(
        agent=caller_agent(request),
        name=payload.name,
        ticket_filter=ticket_filter_from_query(payload.filters),
        sort=payload.sort,
        shared=payload.shared,
    )
    response["Location"] = f"{request.path.rstrip('/')}/{view.pk}"
    return Status(201, view)


@router.get("/views/{view_id}", response={200: SavedViewOut, **problems(401, 404, 429)}, summary="Get a saved view")
@api_policy(ALL_ROLES)
def get_view(request: HttpRequest, view_id: int) -> SavedView:
    return services.get_saved_view_for_agent(caller_agent(request), view_id)


@router.delete(
    "/views/{view_id}",
    response={204: None, **problems(401, 403, 404, 429)},
    summary="Delete a saved view",
    description="One's own view, or a shared one as an admin.",
)
@api_policy(ALL_ROLES)
def delete_view(request: HttpRequest, view_id: int) -> Status[None]:
    agent = caller_agent(request)
    services.delete_saved_view(agent=agent, view=services.get_saved_view_for_agent(agent, view_id))
    return Status(204, None)


__all__ = ["router"]
