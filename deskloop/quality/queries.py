"""Reads for quality reviews, scoped to the caller's workspace: the reviewer's queue (a week's sample), the reviews
an agent may see, one agent's own reviews, and the per-agent averages the agent performance report shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, QuerySet
from django.http import Http404

from deskloop.accounts.models import Agent, Workspace
from deskloop.quality.models import Review, ReviewAssignment, Scorecard, ScorecardCriterion
from deskloop.quality.services import is_reviewer
from deskloop.quality.weeks import day_bounds


def scorecard_for(workspace_id: int) -> Scorecard | None:
    return Scorecard.objects.filter(workspace_id=workspace_id).first()


def may_review(agent: Agent) -> bool:
    return is_reviewer(agent, scorecard_for(agent.workspace_id))


def may_see_all_reviews(agent: Agent) -> bool:
    """Reviewers see every review of the workspace; everyone else only the reviews of their own conversations."""
    return may_review(agent)


def live_criteria(workspace_id: int) -> list[ScorecardCriterion]:
    return list(ScorecardCriterion.objects.filter(workspace_id=workspace_id, is_archived=False))


def _bounds(
    workspace_id: int, since: dt.date | dt.datetime | None, until: dt.date | dt.datetime | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Dates are whole days in the workspace's time zone (``until`` included); datetimes are taken as they are
    (``until`` excluded)."""
    zone = Workspace.objects.filter(pk=workspace_id).values_list("time_zone", flat=True).first() or "UTC"
    start: dt.datetime | None
    end: dt.datetime | None
    start = since if isinstance(since, dt.datetime) or since is None else day_bounds(since, since, zone)[0]
    end = until if isinstance(until, dt.datetime) or until is None else day_bounds(until, until, zone)[1]
    return start, end


def reviews_in(
    workspace_id: int, since: dt.date | dt.datetime | None = None, until: dt.date | dt.datetime | None = None
) -> QuerySet[Review]:
    """The workspace's reviews written in [since, until) (see ``_bounds``), newest first."""
    start, end = _bounds(workspace_id, since, until)
    reviews = Review.objects.filter(workspace_id=workspace_id)
    if start is not None:
        reviews = reviews.filter(created_at__gte=start)
    if end is not None:
        reviews = reviews.filter(created_at__lt=end)
    return reviews.order_by("-created_at", "-id")


def quality_by_agent(
    workspace_id: int, since: dt.date | dt.datetime | None, until: dt.date | dt.datetime | None
) -> dict[int, tuple[float, int]]:
    """Agent id -> (mean review score 0-100 rounded to one decimal, number of reviews) for the reviews written in
    the range: dates are whole days in the workspace's time zone with ``until`` included, aware datetimes are
    [since, until). Agents without a review in the range are absent. One query."""
    rows = (
        reviews_in(workspace_id, since, until)
        .order_by()
        .values("agent_id")
        .annotate(mean=Avg("score"), n=Count("id"))
        .values_list("agent_id", "mean", "n")
    )
    return {agent_id: (round(float(mean), 1), n) for agent_id, mean, n in rows}


@dataclass(frozen=True)
class AgentScore:
    agent: Agent
    mean: float
    reviews: int


def agent_scores(workspace_id: int, since: dt.date, until: dt.date) -> list[AgentScore]:
    """``quality_by_agent`` with the agents, by name."""
    figures = quality_by_agent(workspace_id, since, until)
    agents = Agent.objects.filter(workspace_id=workspace_id, pk__in=figures).select_related("user")
    rows = [AgentScore(agent=a, mean=figures[a.pk][0], reviews=figures[a.pk][1]) for a in agents]
    return sorted(rows, key=lambda row: row.agent.name.lower())


def reviews_for_agent(
    agent: Agent,
    *,
    reviewed_agent_id: int | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
) -> QuerySet[Review]:
    """The reviews ``agent`` may read: all of the workspace's for a reviewer, else only their own."""
    reviews = reviews_in(agent.workspace_id, since, until)
    if not may_see_all_reviews(agent):
        reviews = reviews.filter(agent=agent)
    if reviewed_agent_id is not None:
        reviews = reviews.filter(agent_id=reviewed_agent_id)
    return reviews.select_related("ticket", "agent__user", "reviewer__user").prefetch_related("scores__criterion")


def own_reviews(agent: Agent) -> QuerySet[Review]:
    """What "My reviews" lists: the reviews of the agent's conversations, newest first."""
    return (
        Review.objects.filter(workspace_id=agent.workspace_id, agent=agent)
        .select_related("ticket", "reviewer__user")
        .prefetch_related("scores__criterion")
        .order_by("-created_at", "-id")
    )


def sample_for_week(agent: Agent, week: dt.date) -> list[ReviewAssignment]:
    """The week's proposed conversations, by agent then ticket number."""
    return list(
        ReviewAssignment.objects.filter(workspace_id=agent.workspace_id, week=week)
        .select_related("ticket", "agent__user", "reviewer__user", "review")
        .order_by("agent__display_name", "agent__user__name", "agent_id", "ticket__number")
    )


def reviews_of_ticket(agent: Agent, ticket_id: int) -> list[Review]:
    """The reviews of one conversation that ``agent`` may read."""
    reviews = Review.objects.filter(workspace_id=agent.workspace_id, ticket_id=ticket_id)
    if not may_see_all_reviews(agent):
        reviews = reviews.filter(agent=agent)
    return list(reviews.select_related("agent__user", "reviewer__user").order_by("created_at", "id"))


def get_review_for_agent(agent: Agent, review_id: int) -> Review:
    found = reviews_for_agent(agent).filter(pk=review_id).first()
    if found is None:
        raise Http404("No such review")
    return found
