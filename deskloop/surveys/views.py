"""Agents' survey pages: results (NPS and CSAT with n and margin, broken down), the responses list, one response
(turn its comment into a vote on an idea), and the surveys themselves (admins)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES, WRITER_ROLES, Agent, Team
from deskloop.core.refusals import refusal
from deskloop.customers.models import Segment
from deskloop.ideas.models import Idea, IdeaStatus
from deskloop.surveys import queries, stats
from deskloop.surveys.forms import GROUP_LABELS, FilterForm, SurveyForm, VoteForm
from deskloop.surveys.models import Survey, SurveyKind
from deskloop.surveys.services.responses import vote_from_comment
from deskloop.surveys.services.surveys import SurveySettings, save_survey
from deskloop.tickets.inbox import descendant_area_ids
from deskloop.tickets.models import ProductArea

PAGE_SIZE = 50
# The results are NPS and CSAT of every answer in the window, area and segment: per-answer filters do not apply.
RESULTS_HIDDEN_FILTERS = ("kind", "score_min", "score_max", "agent", "team")
LIST_HIDDEN_FILTERS = ("group",)
IDEA_CHOICES_MAX = 500


def _filter_choices(agent: Agent) -> dict[str, list[tuple[object, str]]]:
    workspace_id = agent.workspace_id
    agents = Agent.objects.filter(workspace_id=workspace_id).select_related("user")
    return {
        "product_area": [(a.pk, a.localized_path()) for a in ProductArea.objects.filter(workspace_id=workspace_id)],
        "segment": list(Segment.objects.filter(workspace_id=workspace_id).order_by("name").values_list("id", "name")),
        "agent": sorted(((a.pk, a.name) for a in agents), key=lambda choice: choice[1].lower()),
        "team": [(t.pk, t.localized_name()) for t in Team.objects.filter(workspace_id=workspace_id).order_by("name")],
    }


def _filters(request: AgentRequest) -> tuple[FilterForm, queries.ResponseFilter]:
    form = FilterForm(request.GET, choices=_filter_choices(request.agent))
    if not form.is_valid():
        return form, queries.ResponseFilter()
    data = form.cleaned_data
    return form, queries.ResponseFilter(
        kind=data["kind"] or "",
        product_area_id=data["product_area"],
        segment_id=data["segment"],
        score_min=data["score_min"],
        score_max=data["score_max"],
        agent_id=data["agent"],
        team_id=data["team"],
        since=data["since"],
        until=data["until"],
    )


def _window(wanted: queries.ResponseFilter) -> tuple[dt.datetime | None, dt.datetime | None]:
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(wanted.since, dt.time.min, zone) if wanted.since else None
    until = dt.datetime.combine(wanted.until + dt.timedelta(days=1), dt.time.min, zone) if wanted.until else None
    return since, until


@agent_view()
@require_GET
def results(request: AgentRequest) -> HttpResponse:
    """NPS and CSAT overall and broken down by one group, with the answers' count and the 95% margin."""
    form, wanted = _filters(request)
    agent = request.agent
    group = form.cleaned_data.get("group") if form.is_valid() else ""
    group = group or "product_area"
    since, until = _window(wanted)
    segment = queries.get_segment_for_agent(agent, wanted.segment_id)
    areas = (
        descendant_area_ids(agent.workspace_id, [wanted.product_area_id]) if wanted.product_area_id is not None else []
    )
    if wanted.product_area_id is not None and not areas:
        areas = [-1]  # an area of another workspace matches nothing
    scope: dict[str, Any] = {"since": since, "until": until, "segment": segment, "product_area_ids": areas}
    context = {
        "form": form,
        "results_hidden": RESULTS_HIDDEN_FILTERS,
        "group": group,
        "group_label": GROUP_LABELS[group],
        "nps": stats.nps_of(agent.workspace_id, **scope),
        "csat": stats.csat_of(agent.workspace_id, **scope),
        "nps_rows": stats.nps_by(agent.workspace_id, group=group, **scope),  # type: ignore[arg-type]
        "csat_rows": stats.csat_by(agent.workspace_id, group=group, **scope),  # type: ignore[arg-type]
    }
    return render(request, "surveys/results.html", context, status=400 if form.errors else 200)


@agent_view()
@require_GET
def responses(request: AgentRequest) -> HttpResponse:
    form, wanted = _filters(request)
    page = Paginator(queries.responses_for_agent(request.agent, wanted), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "list_hidden": LIST_HIDDEN_FILTERS}
    return render(request, "surveys/responses.html", context, status=400 if form.errors else 200)


def _idea_choices(agent: Agent) -> list[tuple[object, str]]:
    ideas = (
        Idea.objects.filter(workspace_id=agent.workspace_id, merged_into__isnull=True)
        .exclude(status=IdeaStatus.DECLINED)
        .order_by("title")
        .values_list("id", "title")[:IDEA_CHOICES_MAX]
    )
    return list(ideas)


@agent_view()
@require_GET
def response_detail(request: AgentRequest, response_id: int) -> HttpResponse:
    response = queries.get_response_for_agent(request.agent, response_id)
    form = VoteForm(idea_choices=_idea_choices(request.agent))
    return render(request, "surveys/response.html", {"response": response, "form": form})


@agent_view(roles=WRITER_ROLES)
@require_POST
def response_vote(request: AgentRequest, response_id: int) -> HttpResponse:
    """Turn the response's comment into a vote for an idea (the customer's vote, source "survey")."""
    response = queries.get_response_for_agent(request.agent, response_id)
    form = VoteForm(request.POST, idea_choices=_idea_choices(request.agent))
    if form.is_valid():
        idea = Idea.objects.get(workspace_id=request.agent.workspace_id, pk=form.cleaned_data["idea"])
        with refusal(form):
            vote_from_comment(
                response=response, idea=idea, agent=request.agent, importance=form.cleaned_data["importance"]
            )
            return redirect("surveys:response", response_id=response.pk)
    context = {"response": response, "form": form}
    return render(request, "surveys/response.html", context, status=400)


@agent_view(roles=ADMIN_ROLES)
@require_GET
def survey_list(request: AgentRequest) -> HttpResponse:
    return render(request, "surveys/survey_list.html", {"surveys": queries.surveys_for_agent(request.agent)})


def _segment_choices(agent: Agent) -> list[tuple[object, str]]:
    return list(Segment.objects.filter(workspace_id=agent.workspace_id).order_by("name").values_list("id", "name"))


def _initial(survey: Survey) -> dict[str, Any]:
    translations = survey.question_translations if isinstance(survey.question_translations, dict) else {}
    return {
        "kind": survey.kind,
        "name": survey.name,
        "question": survey.question,
        "question_es": translations.get("es", ""),
        "question_ru": translations.get("ru", ""),
        "is_active": survey.is_active,
        "min_days_between": survey.min_days_between,
        "segment": survey.segment_id,
        "csat_scale": survey.csat_scale,
        "answer_type": survey.answer_type,
    }


@agent_view(roles=ADMIN_ROLES)
@require_http_methods(["GET", "POST"])
def survey_edit(request: AgentRequest, survey_id: int | None = None) -> HttpResponse:
    agent = request.agent
    survey = queries.get_survey_for_agent(agent, survey_id) if survey_id is not None else None
    initial = _initial(survey) if survey else {"kind": request.GET.get("kind", SurveyKind.NPS), "is_active": True}
    form = SurveyForm(request.POST or None, initial=initial, segment_choices=_segment_choices(agent))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        segment = queries.get_segment_for_agent(agent, data["segment"])
        with refusal(form):
            save_survey(
                agent=agent,
                survey=survey,
                settings=SurveySettings(
                    kind=data["kind"],
                    name=data["name"],
                    question=data["question"],
                    question_translations={"es": data["question_es"], "ru": data["question_ru"]},
                    is_active=data["is_active"],
                    min_days_between=data["min_days_between"],
                    segment=segment,
                    csat_scale=data["csat_scale"],
                    answer_type=data["answer_type"],
                ),
            )
            return redirect("surveys:surveys")
    context = {"form": form, "survey": survey, "title": survey.name if survey else _("New survey")}
    return render(request, "surveys/survey_form.html", context, status=400 if form.errors else 200)
