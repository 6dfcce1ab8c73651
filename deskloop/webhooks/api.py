"""Webhook endpoints and their deliveries over the API: what an admin does on the Webhooks settings page.

Admins only, as on the page. Every write is a deskloop.webhooks.services call and every read a queries call, the same
ones the settings views make; an id of another workspace reads as "not found".
"""

import datetime as dt

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.api_support import CursorPage, PageQuery, api_policy, keyset_page, problems
from deskloop.webhooks import queries, services
from deskloop.webhooks.models import Delivery, Endpoint, WebhookEvent

router = Router(tags=["webhooks"])


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    is_active: bool
    secret: str = Field(..., description="The HMAC-SHA256 signing key of X-Deskloop-Signature (admins may read it).")
    created_at: dt.datetime
    updated_at: dt.datetime


class EndpointPage(Schema):
    items: list[EndpointOut]
    next_cursor: str | None


class EndpointIn(Schema):
    url: str = Field(..., max_length=services.URL_MAX, description="http(s); private addresses only if allowed.")
    events: list[WebhookEvent] = Field(..., min_length=1)
    description: str = Field("", max_length=200)
    is_active: bool = True


class EndpointUpdateIn(Schema):
    """Only the fields sent change."""

    url: str | None = Field(None, max_length=services.URL_MAX)
    events: list[WebhookEvent] | None = Field(None, min_length=1)
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class DeliveryOut(Schema):
    id: int
    uuid: str
    endpoint_id: int
    event: str
    state: str
    attempt_count: int
    is_replay: bool
    next_attempt_at: dt.datetime | None
    last_response_status: int | None
    last_error: str
    delivered_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_uuid(obj: Delivery) -> str:
        return str(obj.uuid)


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


@router.get("/webhooks", response={200: EndpointPage, **problems(401, 403, 422, 429)}, summary="List webhooks")
@api_policy(ADMIN_ROLES)
def list_endpoints(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    return keyset_page(queries.endpoints_for_agent(caller_agent(request)), cursor=page.cursor, limit=page.limit)


@router.post(
    "/webhooks",
    response={201: EndpointOut, **problems(401, 403, 409, 422, 429)},
    summary="Add a webhook",
    description="The URL is checked now (and again before every send); the response carries the new secret.",
)
@api_policy(ADMIN_ROLES, idempotent=True)
def create_endpoint(request: HttpRequest, payload: EndpointIn, response: HttpResponse) -> Status[Endpoint]:
    endpoint = services.create_endpoint(
        actor=caller_agent(request),
        url=payload.url,
        events=[str(event) for event in payload.events],
        description=payload.description,
        is_active=payload.is_active,
    )
    response["Location"] = f"{request.path.rstrip('/')}/{endpoint.pk}"
    return Status(201, endpoint)


@router.get(
    "/webhooks/{endpoint_id}", response={200: EndpointOut, **problems(401, 403, 404, 429)}, summary="Get a webhook"
)
@api_policy(ADMIN_ROLES)
def get_endpoint(request: HttpRequest, endpoint_id: int) -> Endpoint:
    return queries.get_endpoint_for_agent(caller_agent(request), endpoint_id)


@router.patch(
    "/webhooks/{endpoint_id}",
    response={200: EndpointOut, **problems(401, 403, 404, 422, 429)},
    summary="Change a webhook",
)
@api_policy(ADMIN_ROLES)
def update_endpoint(request: HttpRequest, endpoint_id: int, payload: EndpointUpdateIn) -> Endpoint:
    agent = caller_agent(request)
    endpoint = queries.get_endpoint_for_agent(agent, endpoint_id)
    return services.update_endpoint(
        actor=agent,
        endpoint=endpoint,
        url=payload.url if payload.url is not None else endpoint.url,
        events=[str(event) for event in payload.events] if payload.events is not None else endpoint.events,
        description=payload.description if payload.description is not None else endpoint.description,
        is_active=payload.is_active if payload.is_active is not None else endpoint.is_active,
    )


@router.delete(
    "/webhooks/{endpoint_id}",
    response={204: None, **problems(401, 403, 404, 429)},
    summary="Delete a webhook",
    description="Deletes the endpoint and its delivery log; queued sends to it do nothing.",
)
@api_policy(ADMIN_ROLES)
def delete_endpoint(request: HttpRequest, endpoint_id: int) -> Status[None]:
    agent = caller_agent(request)
    services.delete_endpoint(actor=agent, endpoint=queries.get_endpoint_for_agent(agent, endpoint_id))
    return Status(204, None)


@router.post(
    "/webhooks/{endpoint_id}/rotate-secret",
    response={200: EndpointOut, **problems(401, 403, 404, 429)},
    summary="Give a webhook a new signing secret",
    description="Effective for the next attempt; the old secret stops verifying at once.",
)
@api_policy(ADMIN_ROLES)
def rotate_secret(request: HttpRequest, endpoint_id: int) -> Endpoint:
    agent = caller_agent(request)
    return services.rotate_secret(actor=agent, endpoint=queries.get_endpoint_for_agent(agent, endpoint_id))


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    response={200: DeliveryPage, **problems(401, 403, 404, 422, 429)},
    summary="List a webhook's deliveries",
    description="Oldest first, page by page.",
)
@api_policy(ADMIN_ROLES)
def list_deliveries(request: HttpRequest, endpoint_id: int, page: Query[PageQuery]) -> CursorPage:
    endpoint = queries.get_endpoint_for_agent(caller_agent(request), endpoint_id)
    return keyset_page(queries.deliveries_for_endpoint(endpoint), cursor=page.cursor, limit=page.limit)


@router.post(
    "/webhooks/deliveries/{delivery_id}/replay",
    response={200: DeliveryOut, **problems(401, 403, 404, 429)},
    summary="Send a delivery again",
    description="A delivered or failed delivery gets exactly one more try; a pending one is moved forward.",
)
@api_policy(ADMIN_ROLES)
def replay_delivery(request: HttpRequest, delivery_id: int) -> Delivery:
    agent = caller_agent(request)
    return services.replay_delivery(actor=agent, delivery=queries.get_delivery_for_agent(agent, delivery_id))


__all__ = ["router"]
