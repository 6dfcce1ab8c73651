"""Reads of surveys and their answers for agents: every query is scoped to the agent's workspace; the responses
list is cut by product area (with its sub-areas), saved segment, kind, score, agent, team and dates, in SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from deskloop.accounts.models import Agent
from deskloop.customers.models import Contact, Organization, Segment
from deskloop.customers.segments import organization_q
from deskloop.surveys.models import Survey, SurveyInvitation, SurveyKind, SurveyResponse
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


def last_asked(survey: Survey, contact: Contact) -> dt.datetime | None:
    """When ``contact`` was last asked ``survey`` or answered it, whichever is later."""
    invited = (
        SurveyInvitation.objects.filter(survey=survey, contact=contact)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    answered = (
        SurveyResponse.objects.filter(survey=survey, contact=contact)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    moments = [moment for moment in (invited, answered) if moment is not None]
    return max(moments) if moments else None


def is_due(survey: Survey, contact: Contact, now: dt.datetime | None = None) -> bool:
    """Whether ``contact`` may be asked ``survey`` now: never more often than once per ``min_days_between`` days,
    whichever channel asked or answered before."""
    last = last_asked(survey, contact)
    gap = dt.timedelta(days=survey.min_days_between)
    return last is None or gap.days == 0 or last <= (now or timezone.now()) - gap


def in_segment(contact: Contact, segment: Segment | None) -> bool:
    """Whether the contact's organization is in ``segment`` (None: everyone); a contact without an organization is
    in no segment that sets a condition."""
    if segment is None:
        return True
    if contact.organization_id is None:
        return False
    return Organization.objects.filter(organization_q(segment, path=""), pk=contact.organization_id).exists()


def due_widget_survey(contact: Contact) -> Survey | None:
    """The survey the widget asks ``contact`` now: an active NPS survey that is due, else an active micro-survey of
    their segment that is due (oldest first); None when nothing is due."""
    candidates = Survey.objects.filter(
        workspace_id=contact.workspace_id, is_active=True, kind__in=[SurveyKind.NPS, SurveyKind.MICRO]
    ).select_related("segment")
    ordered = sorted(candidates, key=lambda survey: (survey.kind != SurveyKind.NPS, survey.pk))
    for survey in ordered:
        if in_segment(contact, survey.segment) and is_due(survey, contact):
            return survey
    return None


def get_survey_for_workspace(workspace_id: int, survey_id: int) -> Survey:
    """A survey a customer answers (the widget): 404 for another workspace's."""
    survey = Survey.objects.filter(workspace_id=workspace_id, pk=survey_id).first()
    if survey is None:
        raise Http404("No such survey")
    return survey
