"""Reads of surveys and their answers for agents: every query is scoped to the agent's workspace; the responses
list is cut by product area (with its sub-areas), saved segment, kind, score, agent, team and dates, in SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from deskloop.accounts.models import Agent
from deskloop.customers.models import Segment
from deskloop.customers.segments import organization_q
from deskloop.surveys.models import Survey, SurveyResponse
from deskloop.tickets.inbox import descendant_area_ids


def surveys_for_agent(agent: Agent) -> QuerySet[Survey]:
    return Survey.objects.filter(workspace_id=agent.workspace_id).select_related("segment")


def get_survey_for_agent(agent: Agent, survey_id: int) -> Survey:
    survey = surveys_for_agent(agent).filter(pk=survey_id).first()
    if survey is None:
        raise Http404("No such survey")
    return survey


def get_segment_for_agent(agent: Agent, segment_id: int | None) -> Segment | None:
    if segment_id is None:
        return None
    segment = Segment.objects.filter(workspace_id=agent.workspace_id, pk=segment_id).first()
    if segment is None:
        raise Http404("No such segment")
    return segment


@dataclass(frozen=True)
class ResponseFilter:
    """What the responses list and the results are cut by; an empty value leaves a condition out."""

    kind: str = ""
    product_area_id: int | None = None
    segment_id: int | None = None
    score_min: int | None = None
    score_max: int | None = None
    agent_id: int | None = None
    team_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    survey_id: int | None = None


def responses_for_agent(agent: Agent, wanted: ResponseFilter = ResponseFilter()) -> QuerySet[SurveyResponse]:
    """Newest first. A product area includes its sub-areas; a segment is the one segment filter
    (``customers.segments.organization_q``); ``until`` includes that day."""
    responses = SurveyResponse.objects.filter(workspace_id=agent.workspace_id).select_related(
        "survey", "contact", "organization", "ticket", "product_area", "agent__user", "team", "follow_up_ticket"
    )
    if wanted.kind:
        responses = responses.filter(kind=wanted.kind)
    if wanted.survey_id is not None:
        responses = responses.filter(survey_id=wanted.survey_id)
    if wanted.product_area_id is not None:
        responses = responses.filter(
            product_area_id__in=descendant_area_ids(agent.workspace_id, [wanted.product_area_id])
        )
    segment = get_segment_for_agent(agent, wanted.segment_id)
    if segment is not None:
        responses = responses.filter(organization_q(segment))
    if wanted.score_min is not None:
        responses = responses.filter(score__gte=wanted.score_min)
    if wanted.score_max is not None:
        responses = responses.filter(score__lte=wanted.score_max)
    if wanted.agent_id is not None:
        responses = responses.filter(agent_id=wanted.agent_id)
    if wanted.team_id is not None:
        responses = responses.filter(team_id=wanted.team_id)
    if wanted.since is not None:
        responses = responses.filter(created_at__date__gte=wanted.since)
    if wanted.until is not None:
        responses = responses.filter(created_at__date__lte=wanted.until)
    return responses.order_by("-created_at", "-id")


def get_response_for_agent(agent: Agent, response_id: int) -> SurveyResponse:
    response = responses_for_agent(agent).filter(pk=response_id).first()
    if response is None:
        raise Http404("No such survey response")
    return response


def with_comments(responses: QuerySet[SurveyResponse]) -> QuerySet[SurveyResponse]:
    return responses.filter(~Q(comment=""))
