"""Custom ticket fields over the API, as on the Custom fields settings page: admins only, the same
deskloop.tickets.services.configuration calls. A ticket's values are set with ``custom_fields`` on the tickets."""

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.api_support import api_policy, problems
from deskloop.tickets.models import CustomField, CustomFieldType
from deskloop.tickets.services import configuration as config

router = Router(tags=["custom fields"])


class CustomFieldOut(Schema):
    id: int
    key: str = Field(..., description="The name of the field in a ticket's custom_fields.")
    label: str
    field_type: str
    choices: list[str]
    required_on_solve: bool
    visible_to_customers: bool = Field(..., description="Asked in the customer portal's and the widget's form.")
    position: int


class CustomFieldList(Schema):
    items: list[CustomFieldOut] = Field(..., description="Every field of the workspace, in display order.")
    next_cursor: str | None = Field(None, description="Always null: a workspace's fields come in one page.")


class CustomFieldIn(Schema):
    label: str = Field(..., max_length=100)
    field_type: CustomFieldType
    choices: list[str] = Field(default_factory=list, description="Choice fields only.")
    required_on_solve: bool = False
    visible_to_customers: bool = Field(False, description="Ask it in the customer portal's and the widget's form.")
    key: str = Field("", max_length=60, description="Made from the label unless given; never changes afterwards.")


class CustomFieldUpdateIn(Schema):
    """Only the fields sent change; the key and type never do (stored values depend on them)."""

    label: str | None = Field(None, max_length=100)
    choices: list[str] | None = None
    required_on_solve: bool | None = None
    visible_to_customers: bool | None = None


class MoveIn(Schema):
    # Defaults to 0 (no move) so an id of another workspace is answered 404 before the body is judged.
    offset: int = Field(0, ge=-1000, le=1000, description="Places to move: -1 up, 1 down, 0 stays.")


@router.get("/custom-fields", response={200: CustomFieldList, **problems(401, 403, 429)}, summary="List custom fields")
@api_policy(ADMIN_ROLES)
def list_fields(request: HttpRequest) -> dict[str, object]:
    return {"items": config.custom_fields_for_admin(caller_agent(request)), "next_cursor": None}


@router.post(
    "/custom-fields",
    response={201: CustomFieldOut, **problems(401, 403, 409, 422, 429)},
    summary="Add a custom field",
)
@api_policy(ADMIN_ROLES, idempotent=True)
def create_field(request: HttpRequest, payload: CustomFieldIn, response: HttpResponse) -> Status[CustomField]:
    field = config.create_custom_field(
        actor=caller_agent(request),
        label=payload.label,
        field_type=str(payload.field_type),
        choices=payload.choices,
        required_on_solve=payload.required_on_solve,
        key=payload.key,
        visible_to_customers=payload.visible_to_customers,
    )
    response["Location"] = f"{request.path.rstrip('/')}/{field.pk}"
    return Status(201, field)


@router.get(
    "/custom-fields/{field_id}",
    response={200: CustomFieldOut, **problems(401, 403, 404, 429)},
    summary="Get a custom field",
)
@api_policy(ADMIN_ROLES)
def get_field(request: HttpRequest, field_id: int) -> CustomField:
    return config.get_custom_field_for_admin(caller_agent(request), field_id)


@router.patch(
    "/custom-fields/{field_id}",
    response={200: CustomFieldOut, **problems(401, 403, 404, 422, 429)},
    summary="Change a custom field",
    description="A choice still set on some ticket cannot be removed (422 names how many).",
)
@api_policy(ADMIN_ROLES)
def update_field(request: HttpRequest, field_id: int, payload: CustomFieldUpdateIn) -> CustomField:
    agent = caller_agent(request)
    field = config.get_custom_field_for_admin(agent, field_id)
    return config.update_custom_field(
        actor=agent,
        field=field,
        label=payload.label if payload.label is not None else field.label,
        choices=payload.choices if payload.choices is not None else field.choices,
        required_on_solve=(
            payload.required_on_solve if payload.required_on_solve is not None else field.required_on_solve
        ),
        visible_to_customers=(
            payload.visible_to_customers if payload.visible_to_customers is not None else field.visible_to_customers
        ),
    )


@router.post(
    "/custom-fields/{field_id}/move",
    response={200: CustomFieldList, **problems(401, 403, 404, 422, 429)},
    summary="Move a custom field up or down",
)
@api_policy(ADMIN_ROLES)
def move_field(request: HttpRequest, field_id: int, payload: MoveIn) -> dict[str, object]:
    agent = caller_agent(request)
    config.move_custom_field(
        actor=agent, field=config.get_custom_field_for_admin(agent, field_id), offset=payload.offset
    )
    return {"items": config.custom_fields_for_admin(agent), "next_cursor": None}


@router.delete(
    "/custom-fields/{field_id}",
    response={204: None, **problems(401, 403, 404, 422, 429)},
    summary="Delete a custom field",
    description="Only a field no ticket has a value for (422 otherwise).",
)
@api_policy(ADMIN_ROLES)
def delete_field(request: HttpRequest, field_id: int) -> Status[None]:
    agent = caller_agent(request)
    config.delete_custom_field(actor=agent, field=config.get_custom_field_for_admin(agent, field_id))
    return Status(204, None)


__all__ = ["router"]
