"""Quality review pages: the reviewer's queue (a week's sample), the review form of a conversation, an agent's own
reviews ("My reviews"), and the scorecard settings (admins)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES, ALL_ROLES, WRITER_ROLES, Agent, Role
from deskloop.core.refusals import refusal
from deskloop.quality import queries, sampling
from deskloop.quality.forms import NOT_APPLICABLE, CriterionForm, RangeForm, ReviewForm, ScorecardForm
from deskloop.quality.models import Review, ScorecardCriterion
from deskloop.quality.services import (
    CriterionValues,
    ReviewValues,
    ScorecardSettings,
    add_criterion,
    remove_criterion,
    save_scorecard_settings,
    scorecard_of,
    submit_review,
    update_criterion,
    update_review,
)
from deskloop.quality.ticket_panel import review_form_for
from deskloop.quality.weeks import monday_of, zone_of
from deskloop.tickets.queries import get_ticket_for_agent


def _week_from(request: AgentRequest) -> tuple[dt.date, str]:
    """The week asked for in the URL (any day of it), else the last complete one; and an error for a bad value."""
    raw = request.GET.get("week", "") or request.POST.get("week", "")
    default = sampling.last_complete_week(request.agent.workspace)
    if not raw:
        return default, ""
    try:
        return monday_of(dt.date.fromisoformat(raw[:10])), ""
    except ValueError:
        return default, _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": raw[:20]}


@agent_view(roles=ALL_ROLES, description="Reviewer's queue: the week's sample; others go to their own reviews")
@require_GET
def queue(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    if not queries.may_review(agent):
        return redirect("quality:mine")
    week, error = _week_from(request)
    proposed = queries.sample_for_week(agent, week)
    context = {
        "week": week,
        "week_end": week + dt.timedelta(days=6),
        "previous_week": week - dt.timedelta(days=7),
        "next_week": week + dt.timedelta(days=7) if week < sampling.last_complete_week(agent.workspace) else None,
        "proposed": proposed,
        "done": sum(1 for row in proposed if row.review_id is not None),
        "scorecard": queries.scorecard_for(agent.workspace_id),
        "may_draw": week <= sampling.last_complete_week(agent.workspace),
        "recent": queries.reviews_for_agent(agent)[:20],
        "error": error,
    }
    return render(request, "quality/queue.html", context, status=400 if error else 200)


# The per-agent scores show the last 30 days unless the URL says otherwise.
DEFAULT_RANGE_DAYS = 30


@agent_view(roles=ALL_ROLES, description="Quality per agent over a date range (reviewers); others go to their own")
@require_GET
def by_agent(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    if not queries.may_review(agent):
        return redirect("quality:mine")
    today = timezone.now().astimezone(zone_of(agent.workspace.time_zone)).date()
    form = RangeForm(request.GET)
    valid = form.is_valid()
    since = (valid and form.cleaned_data["since"]) or today - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
    until = (valid and form.cleaned_data["until"]) or today
    rows = queries.agent_scores(agent.workspace_id, since, until)
    context = {"form": form, "since": since, "until": until, "rows": rows}
    return render(request, "quality/agents.html", context, status=200 if valid else 400)


@agent_view(roles=WRITER_ROLES, description="Draw a week's sample of conversations to review (reviewers)")
@require_POST
def draw_sample(request: AgentRequest) -> HttpResponse:
    week, error = _week_from(request)
    if error:
        messages.error(request, error)
        return redirect("quality:queue")
    if not queries.may_review(request.agent):
        messages.error(request, _("Only reviewers can review conversations."))
        return redirect("quality:mine")
    with refusal() as refused:
        added = sampling.propose_sample(workspace=request.agent.workspace, week=week)
        messages.success(
            request,
            ngettext("%(count)s conversation proposed.", "%(count)s conversations proposed.", added) % {"count": added},
        )
        return redirect(f"{reverse('quality:queue')}?week={week.isoformat()}")
    return refused.redirect(request, "quality:queue")


@agent_view(roles=WRITER_ROLES, description="Score an agent's part in a conversation (reviewers)")
@require_http_methods(["GET", "POST"])
def review(request: AgentRequest, number: int) -> HttpResponse:
    """The review form on its own page (the ticket page's panel posts here too); a refused review shows the form
    again with the reason and changes nothing."""
    agent = request.agent
    ticket = get_ticket_for_agent(agent, number)
    if not queries.may_review(agent):
        if request.method == "GET":
            messages.error(request, _("Only reviewers can review conversations."))
            return redirect("tickets:detail", number=ticket.number)
        return render(request, "quality/review.html", {"ticket": ticket, "refused": True}, status=403)
    form = review_form_for(ticket, agent, request.POST or None)
    status = 200
    if request.method == "POST":
        # Nobody to review (no other agent replied): 422; bad ratings: 400; a refusal: its own status (409 twice).
        status = 422 if form is None else 400
        if form is not None and form.is_valid():
            reviewed = get_object_or_404(Agent, workspace_id=agent.workspace_id, pk=form.cleaned_data["agent"])
            with refusal(form) as refused:
                submit_review(
                    reviewer=agent,
                    ticket=ticket,
                    values=ReviewValues(agent=reviewed, ratings=form.ratings(), comment=form.cleaned_data["comment"]),
                )
                messages.success(request, _("Review saved."))
                return redirect("tickets:detail", number=ticket.number)
            status = refused.status
    reviews = queries.reviews_of_ticket(agent, ticket.pk)
    own = next((r for r in reviews if r.reviewer_id == agent.pk), None)
    if own is not None and request.method == "GET":
        form = None
    context = {"ticket": ticket, "form": form, "reviews": reviews, "own": own}
    return render(request, "quality/review.html", context, status=status)


def _edit_form(review: Review, data: QueryDict | None) -> ReviewForm:
    """The reviewer's form to correct their review, filled with its ratings (criteria of the scorecard as it is)."""
    given = {score.criterion_id: score.rating for score in review.scores.all()}
    initial: dict[str, object] = {"comment": review.comment}
    for criterion_id, rating in given.items():
        initial[f"criterion_{criterion_id}"] = NOT_APPLICABLE if rating is None else str(rating)
    criteria = queries.live_criteria(review.workspace_id)
    return ReviewForm(data, initial=initial, criteria=criteria, agent_choices=None)


@agent_view(roles=WRITER_ROLES, description="One review: its ratings; its reviewer may correct it")
@require_http_methods(["GET", "POST"])
def review_detail(request: AgentRequest, review_id: int) -> HttpResponse:
    agent = request.agent
    review = queries.get_review_for_agent(agent, review_id)
    may_edit = review.reviewer_id == agent.pk and queries.may_review(agent)
    form = _edit_form(review, request.POST or None) if may_edit else None
    status = 200
    if request.method == "POST":
        if form is None:
            context = {"review": review, "refused": _("Only the reviewer who wrote a review can change it.")}
            return render(request, "quality/review_detail.html", context, status=403)
        if form.is_valid():
            with refusal(form):
                update_review(
                    reviewer=agent, review=review, ratings=form.ratings(), comment=form.cleaned_data["comment"]
                )
                messages.success(request, _("Review saved."))
                return redirect("quality:review_detail", review_id=review.pk)
        status = 400
    return render(request, "quality/review_detail.html", {"review": review, "form": form}, status=status)


@agent_view(roles=ALL_ROLES, description="My reviews: the reviews of the agent's own conversations")
@require_GET
def mine(request: AgentRequest) -> HttpResponse:
    reviews = list(queries.own_reviews(request.agent)[:200])
    count = len(reviews)
    mean = round(sum(r.score for r in reviews) / count, 1) if count else None
    context = {"reviews": reviews, "mean": mean, "count": count, "may_review": queries.may_review(request.agent)}
    return render(request, "quality/mine.html", context)


def _agent_choices(agent: Agent) -> list[tuple[int, str]]:
    agents = Agent.objects.filter(workspace_id=agent.workspace_id, is_active=True, role=Role.AGENT)
    return sorted(((a.pk, a.name) for a in agents.select_related("user")), key=lambda choice: choice[1].lower())


def _scorecard_form(agent: Agent, data: QueryDict | None) -> ScorecardForm:
    scorecard = scorecard_of(agent.workspace)
    initial = {
        "name": scorecard.name,
        "is_active": scorecard.is_active,
        "sample_size": scorecard.sample_size,
        "reviewers": list(scorecard.reviewers.values_list("pk", flat=True)),
    }
    return ScorecardForm(data, initial=initial, agent_choices=_agent_choices(agent))


@agent_view(roles=ADMIN_ROLES, description="Scorecard settings: criteria, weights, sample size, reviewers")
@require_http_methods(["GET", "POST"])
def settings(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    form = _scorecard_form(agent, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal(form):
            save_scorecard_settings(
                actor=agent,
                settings=ScorecardSettings(
                    name=data["name"],
                    is_active=data["is_active"],
                    sample_size=data["sample_size"],
                    reviewer_ids=tuple(data["reviewers"]),
                ),
            )
            messages.success(request, _("Scorecard saved."))
            return redirect("quality:settings")
    return _settings_page(request, form, CriterionForm(), status=400 if form.errors else 200)


def _settings_page(
    request: AgentRequest, form: ScorecardForm | None, criterion_form: CriterionForm, *, status: int
) -> HttpResponse:
    agent = request.agent
    form = form or _scorecard_form(agent, None)
    criteria = queries.live_criteria(agent.workspace_id)
    total = sum(c.weight for c in criteria)
    shares = [(c, round(100 * c.weight / total) if total else 0) for c in criteria]
    context = {"form": form, "criterion_form": criterion_form, "criteria": shares}
    return render(request, "quality/settings.html", context, status=status)


@agent_view(roles=ADMIN_ROLES, description="Add a criterion to the scorecard")
@require_POST
def criterion_add(request: AgentRequest) -> HttpResponse:
    form = CriterionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with refusal(form):
            add_criterion(
                actor=request.agent,
                values=CriterionValues(name=data["name"], description=data["description"], weight=data["weight"]),
            )
            return redirect("quality:settings")
    return _settings_page(request, None, form, status=400)


def _criterion(agent: Agent, criterion_id: int) -> ScorecardCriterion:
    found = ScorecardCriterion.objects.filter(workspace_id=agent.workspace_id, pk=criterion_id, is_archived=False)
    criterion = found.first()
    if criterion is None:
        raise Http404("No such criterion")
    return criterion


@agent_view(roles=ADMIN_ROLES, description="Edit a scorecard criterion")
@require_http_methods(["GET", "POST"])
def criterion(request: AgentRequest, criterion_id: int) -> HttpResponse:
    found = _criterion(request.agent, criterion_id)
    initial = {"name": found.name, "description": found.description, "weight": found.weight}
    form = CriterionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal(form):
            update_criterion(
                actor=request.agent,
                criterion=found,
                values=CriterionValues(name=data["name"], description=data["description"], weight=data["weight"]),
            )
            return redirect("quality:settings")
    context = {"form": form, "criterion": found}
    return render(request, "quality/criterion.html", context, status=400 if form.errors else 200)


@agent_view(roles=ADMIN_ROLES, description="Remove a scorecard criterion (archived when it has ratings)")
@require_POST
def criterion_remove(request: AgentRequest, criterion_id: int) -> HttpResponse:
    found = _criterion(request.agent, criterion_id)
    with refusal() as refused:
        remove_criterion(actor=request.agent, criterion=found)
        return redirect("quality:settings")
    return refused.redirect(request, "quality:settings")
