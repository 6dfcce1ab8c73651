"""Surveys over the API: list surveys, list and read responses, and record one from the customer's own app."""

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES, WRITER_ROLES
from deskloop.core.api_support import CursorPage, PageQuery, api_policy, keyset_page, problems
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import Contact
from deskloop.customers.services import find_or_create_contact
from deskloop.surveys import queries
from deskloop.surveys.models import ResponseChannel, Survey, SurveyResponse
from deskloop.surveys.schemas import (
    SurveyPage,
    SurveyResponseIn,
    SurveyResponseListQuery,
    SurveyResponseOut,
    SurveyResponsePage,
)
from deskloop.surveys.services.responses import record_response
from deskloop.tickets.models import Ticket

router = Router(tags=["surveys"])


@router.get("/surveys", response={200: SurveyPage, **problems(401, 422, 429)}, summary="List surveys")
@api_policy(ALL_ROLES)
def list_surveys(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    agent = caller_agent(request)
    return keyset_page(queries.surveys_for_agent(agent), cursor=page.cursor, limit=page.limit)


@router.get(
    "/survey-responses", response={200: SurveyResponsePage, **problems(401, 404, 422, 429)}, summary="List responses"
)
@api_policy(ALL_ROLES)
def list_responses(request: HttpRequest, filters: Query[SurveyResponseListQuery], page: Query[PageQuery]) -> CursorPage:
    agent = caller_agent(request)
    wanted = queries.ResponseFilter(
        kind=filters.kind or "",
        survey_id=filters.survey_id,
        product_area_id=filters.product_area_id,
        segment_id=filters.segment_id,
        score_min=filters.score_min,
        score_max=filters.score_max,
        agent_id=filters.agent_id,
        team_id=filters.team_id,
        since=filters.since,
        until=filters.until,
    )
    return keyset_page(queries.responses_for_agent(agent, wanted), cursor=page.cursor, limit=page.limit)


@router.get(
    "/survey-responses/{response_id}",
    response={200: SurveyResponseOut, **problems(401, 404, 429)},
    summary="Get a response",
)
@api_policy(ALL_ROLES)
def get_response(request: HttpRequest, response_id: int) -> SurveyResponse:
    return queries.get_response_for_agent(caller_agent(request), response_id)


@router.post(
    "/survey-responses",
    response={201: SurveyResponseOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Record a response",
    description=(
        "An answer given in your own application. Refused with 409 (code not_due) when the customer answered or was "
        "asked this survey less than the survey's min_days_between days ago."
    ),
)
@api_policy(WRITER_ROLES, idempotent=True)
def create_response(request: HttpRequest, payload: SurveyResponseIn, response: HttpResponse) -> Status[SurveyResponse]:
    agent = caller_agent(request)
    survey = Survey.objects.filter(workspace_id=agent.workspace_id, pk=payload.survey_id).first()
    if survey is None:
        raise ValidationFailed(_("No such survey in this workspace."), field="survey_id")
    contact: Contact | None
    if payload.contact_id is not None:
        contact = Contact.objects.filter(workspace_id=agent.workspace_id, pk=payload.contact_id).first()
        if contact is None:
            raise ValidationFailed(_("No such contact in this workspace."), field="contact_id")
    elif payload.email:
        contact = find_or_create_contact(workspace=agent.workspace, email=payload.email)
    else:
        raise ValidationFailed(_("Give the customer's contact_id or email."), field="contact_id")
    ticket = None
    if payload.ticket_number is not None:
        ticket = Ticket.objects.filter(workspace_id=agent.workspace_id, number=payload.ticket_number).first()
        if ticket is None:
            raise ValidationFailed(_("No such ticket in this workspace."), field="ticket_number")
    recorded = record_response(
        survey=survey,
        contact=contact,
        score=payload.score,
        comment=payload.comment,
        channel=ResponseChannel.API,
        ticket=ticket,
    )
    response["Location"] = f"{request.path.rstrip('/')}/{recorded.pk}"
    return Status(201, queries.get_response_for_agent(agent, recorded.pk))
