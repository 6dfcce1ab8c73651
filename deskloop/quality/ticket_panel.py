"""The ticket page's "Review this conversation" panel (sidebar), registered on tickets' page panel registry from
``QualityConfig.ready``. Reviewers see the reviews of the conversation and the form; an agent sees the reviews of
their own part in it; everyone else no panel."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef

from deskloop.accounts.models import ADMIN_ROLES, WRITER_ROLES, Agent
from deskloop.quality.forms import ReviewForm
from deskloop.quality.models import Review, ReviewAssignment, Scorecard, ScorecardCriterion
from deskloop.quality.services import agents_who_replied
from deskloop.tickets.models import Ticket


def _scorecard_and_role(agent: Agent) -> tuple[Scorecard | None, bool]:
    """The workspace's scorecard and whether ``agent`` is named a reviewer on it, in one query."""
    named = Scorecard.reviewers.through.objects.filter(scorecard_id=OuterRef("pk"), agent_id=agent.pk)
    scorecard = Scorecard.objects.filter(workspace_id=agent.workspace_id).annotate(named=Exists(named)).first()
    return scorecard, bool(scorecard is not None and getattr(scorecard, "named", False))


def review_form_for(ticket: Ticket, reviewer: Agent, data: Any = None) -> ReviewForm | None:
    """The form for ``reviewer`` on this ticket, or None when there is nobody to review (no other agent replied)."""
    replied = [a for a in agents_who_replied(ticket) if a.pk != reviewer.pk]
    if not replied:
        return None
    proposed = (
        ReviewAssignment.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket, review__isnull=True)
        .order_by("-week")
        .values_list("agent_id", flat=True)
        .first()
    )
    default = proposed or (ticket.assignee_id if ticket.assignee_id in {a.pk for a in replied} else replied[0].pk)
    criteria = list(ScorecardCriterion.objects.filter(workspace_id=ticket.workspace_id, is_archived=False))
    choices = sorted(((a.pk, a.name) for a in replied), key=lambda choice: choice[1].lower())
    return ReviewForm(data, initial={"agent": default}, criteria=criteria, agent_choices=choices)


def review_panel(*, ticket: Ticket, agent: Agent) -> dict[str, Any] | None:
    if agent.role not in WRITER_ROLES or ticket.deleted_at is not None:
        return None
    scorecard, named = _scorecard_and_role(agent)
    if scorecard is None:
        return None
    reviewer = agent.role in ADMIN_ROLES or named
    reviews = Review.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket)
    if not reviewer:
        reviews = reviews.filter(agent=agent)
    shown = list(reviews.select_related("agent__user", "reviewer__user").order_by("created_at", "id"))
    if not reviewer and not shown:
        return None
    own = next((r for r in shown if r.reviewer_id == agent.pk), None)
    form = review_form_for(ticket, agent) if reviewer and scorecard.is_active and own is None else None
    return {"ticket": ticket, "reviews": shown, "form": form, "is_reviewer": reviewer, "own": own}
