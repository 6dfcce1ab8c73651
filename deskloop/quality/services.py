"""Writes for quality reviews: the scorecard (admins), its criteria, and a reviewer's review of a conversation.

A reviewer is an admin or owner, or an agent an admin named on the scorecard. A review judges one agent's part in
one conversation: that agent must have replied to the customer on the ticket, and nobody reviews themselves. Each
reviewer reviews a ticket once; the score is computed here from the ratings and the criteria's weights (the one
implementation: ``weighted_score``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import ADMIN_ROLES, WRITER_ROLES, Agent, Role, Workspace
from deskloop.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from deskloop.quality.models import (
    RATING_MAX,
    SAMPLE_SIZE_MAX,
    WEIGHT_MAX,
    Review,
    ReviewAssignment,
    ReviewScore,
    Scorecard,
    ScorecardCriterion,
)
from deskloop.quality.weeks import week_of
from deskloop.tickets.models import Message, MessageKind, Ticket

SCORECARD_ADMINS_ONLY = gettext_noop("Only admins and owners can change the scorecard.")
REVIEWERS_ONLY = gettext_noop("Only reviewers can review conversations.")
OWN_REVIEWS_ONLY = gettext_noop("Only the reviewer who wrote a review can change it.")
NAME_MAX = 100
DESCRIPTION_MAX = 500
COMMENT_MAX = 5000
CRITERIA_MAX = 30


def scorecard_of(workspace: Workspace) -> Scorecard:
    """The workspace's scorecard, made (empty, active) the first time it is asked for."""
    scorecard, _created = Scorecard.objects.get_or_create(workspace=workspace)
    return scorecard


def is_reviewer(agent: Agent, scorecard: Scorecard | None) -> bool:
    """Admins and owners, and the agents named on the scorecard (only roles that may write: a viewer or a light
    agent named before a demotion reviews no more)."""
    if not agent.is_active:
        return False
    if agent.role in ADMIN_ROLES:
        return True
    if scorecard is None or agent.role not in WRITER_ROLES:
        return False
    return scorecard.reviewers.filter(pk=agent.pk).exists()


def weighted_score(ratings: Iterable[tuple[int | None, int]]) -> int | None:
    """The 0-100 score of (rating 0-4 or None for not applicable, weight) pairs: the weighted mean of the applicable
    ratings over the best possible, rounded half up. None when nothing applies."""
    pairs = [(rating, weight) for rating, weight in ratings if rating is not None and weight > 0]
    total_weight = sum(weight for _rating, weight in pairs)
    if not total_weight:
        return None
    # Integer arithmetic, so 62.5 rounds to 63 the same way on every database and platform.
    numerator = 100 * sum(rating * weight for rating, weight in pairs)
    denominator = RATING_MAX * total_weight
    return (2 * numerator + denominator) // (2 * denominator)


# ---- the scorecard ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorecardSettings:
    name: str
    is_active: bool
    sample_size: int
    reviewer_ids: tuple[int, ...] = ()


def save_scorecard_settings(*, actor: Agent, settings: ScorecardSettings) -> Scorecard:
    require_admin(actor, SCORECARD_ADMINS_ONLY)
    name = (settings.name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the scorecard a name."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(_("The name is too long."), field="name")
    if not 0 <= settings.sample_size <= SAMPLE_SIZE_MAX:
        raise ValidationFailed(
            _("Propose between 0 and %(max)s conversations per agent per week.") % {"max": SAMPLE_SIZE_MAX},
            field="sample_size",
        )
    wanted = set(settings.reviewer_ids)
    reviewers = list(
        Agent.objects.filter(workspace_id=actor.workspace_id, pk__in=wanted, is_active=True, role=Role.AGENT)
    )
    if len(reviewers) != len(wanted):
        raise ValidationFailed(_("Reviewers must be active agents of this workspace."), field="reviewers")
    with transaction.atomic():
        scorecard = Scorecard.objects.select_for_update().get(pk=scorecard_of(actor.workspace).pk)
        scorecard.name = name
        scorecard.is_active = settings.is_active
        scorecard.sample_size = settings.sample_size
        scorecard.updated_at = timezone.now()
        scorecard.save(update_fields=["name", "is_active", "sample_size", "updated_at"])
        scorecard.reviewers.set(reviewers)
    return scorecard


@dataclass(frozen=True)
class CriterionValues:
    name: str
    description: str = ""
    weight: int = 1


def _checked_criterion(values: CriterionValues) -> CriterionValues:
    name = (values.name or "").strip()
    if not name:
        raise ValidationFailed(_("Name the criterion."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(_("The name is too long."), field="name")
    description = (values.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValidationFailed(_("The description is too long."), field="description")
    if not 1 <= values.weight <= WEIGHT_MAX:
        raise ValidationFailed(_("The weight must be between 1 and %(max)s.") % {"max": WEIGHT_MAX}, field="weight")
    return CriterionValues(name=name, description=description, weight=values.weight)


def add_criterion(*, actor: Agent, values: CriterionValues) -> ScorecardCriterion:
    require_admin(actor, SCORECARD_ADMINS_ONLY)
    checked = _checked_criterion(values)
    scorecard = scorecard_of(actor.workspace)
    live = ScorecardCriterion.objects.filter(scorecard=scorecard, is_archived=False)
    if live.count() >= CRITERIA_MAX:
        raise ValidationFailed(_("A scorecard has at most %(max)s criteria.") % {"max": CRITERIA_MAX}, field="name")
    last = live.order_by("-position").values_list("position", flat=True).first()
    return ScorecardCriterion.objects.create(
        workspace_id=actor.workspace_id,
        scorecard=scorecard,
        name=checked.name,
        description=checked.description,
        weight=checked.weight,
        position=(last or 0) + 1,
    )


def _own_criterion(actor: Agent, criterion: ScorecardCriterion) -> None:
    if criterion.workspace_id != actor.workspace_id or criterion.is_archived:
        raise NotFound(_("Criterion not found."))


def update_criterion(*, actor: Agent, criterion: ScorecardCriterion, values: CriterionValues) -> ScorecardCriterion:
    """A new name, description or weight counts for reviews written from now on; past reviews keep the weight they
    were scored with."""
    require_admin(actor, SCORECARD_ADMINS_ONLY)
    _own_criterion(actor, criterion)
    checked = _checked_criterion(values)
    criterion.name, criterion.description, criterion.weight = checked.name, checked.description, checked.weight
    criterion.save(update_fields=["name", "description", "weight"])
    return criterion


def remove_criterion(*, actor: Agent, criterion: ScorecardCriterion) -> None:
    """Deleted when never rated; archived otherwise, so past reviews still show what they were scored on."""
    require_admin(actor, SCORECARD_ADMINS_ONLY)
    _own_criterion(actor, criterion)
    if ReviewScore.objects.filter(criterion=criterion).exists():
        criterion.is_archived = True
        criterion.save(update_fields=["is_archived"])
    else:
        criterion.delete()


# ---- reviews ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewValues:
    # The agent whose part in the conversation is judged.
    agent: Agent
    # Criterion id -> rating 0-4, or None for not applicable. Every criterion of the scorecard must be answered.
    ratings: Mapping[int, int | None]
    comment: str = ""


def agents_who_replied(ticket: Ticket) -> list[Agent]:
    """The agents with a public reply on the ticket (the only ones its conversation can be judged for)."""
    ids = (
        Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY, author_agent__isnull=False)
        .values_list("author_agent_id", flat=True)
        .distinct()
    )
    return list(Agent.objects.filter(workspace_id=ticket.workspace_id, pk__in=ids).select_related("user"))


def _checked_ratings(
    criteria: list[ScorecardCriterion], ratings: Mapping[int, int | None]
) -> list[tuple[ScorecardCriterion, int | None]]:
    known = {c.pk for c in criteria}
    unknown = sorted(set(ratings) - known)
    if unknown:
        raise ValidationFailed(_("That criterion is not on the scorecard."), field="ratings")
    missing = [c for c in criteria if c.pk not in ratings]
    if missing:
        raise ValidationFailed(
            _("Rate “%(criterion)s” (or mark it not applicable).") % {"criterion": missing[0].name}, field="ratings"
        )
    for criterion in criteria:
        rating = ratings[criterion.pk]
        if rating is not None and not 0 <= rating <= RATING_MAX:
            raise ValidationFailed(
                _("Ratings go from 0 to %(max)s (“%(criterion)s”).") % {"max": RATING_MAX, "criterion": criterion.name},
                field="ratings",
            )
    return [(criterion, ratings[criterion.pk]) for criterion in criteria]


def _check_reviewable(reviewer: Agent, ticket: Ticket, agent: Agent) -> Scorecard:
    scorecard = Scorecard.objects.filter(workspace_id=reviewer.workspace_id).first()
    if not is_reviewer(reviewer, scorecard):
        raise PermissionDenied(_(REVIEWERS_ONLY))
    if ticket.workspace_id != reviewer.workspace_id:
        raise NotFound(_("Ticket not found."))
    if scorecard is None or not scorecard.is_active:
        raise ValidationFailed(_("Quality reviews are switched off in this workspace."))
    if agent.workspace_id != reviewer.workspace_id or agent.pk not in {a.pk for a in agents_who_replied(ticket)}:
        raise ValidationFailed(_("Choose an agent who replied in this conversation."), field="agent")
    if agent.pk == reviewer.pk:
        raise ValidationFailed(_("You cannot review your own conversation."), field="agent")
    return scorecard


def _scored(
    scorecard: Scorecard, ratings: Mapping[int, int | None], comment: str
) -> tuple[list[tuple[ScorecardCriterion, int | None]], int, str]:
    """The ratings checked against the scorecard's criteria, the score they make, and the cleaned comment."""
    criteria = list(ScorecardCriterion.objects.filter(scorecard=scorecard, is_archived=False))
    if not criteria:
        raise ValidationFailed(_("The scorecard has no criteria yet: an admin adds them in the quality settings."))
    rated = _checked_ratings(criteria, ratings)
    score = weighted_score((rating, criterion.weight) for criterion, rating in rated)
    if score is None:
        raise ValidationFailed(_("Rate at least one criterion."), field="ratings")
    cleaned = (comment or "").strip()
    if len(cleaned) > COMMENT_MAX:
        raise ValidationFailed(_("The comment is too long."), field="comment")
    return rated, score, cleaned


def _score_rows(review: Review, rated: list[tuple[ScorecardCriterion, int | None]]) -> list[ReviewScore]:
    return [
        ReviewScore(
            workspace_id=review.workspace_id, review=review, criterion=criterion, rating=rating, weight=criterion.weight
        )
        for criterion, rating in rated
    ]


def submit_review(*, reviewer: Agent, ticket: Ticket, values: ReviewValues) -> Review:
    """Score ``values.agent``'s part in the conversation. Counts for the week of the sample that proposed it, else
    the week it is written in; fills that sample's row."""
    scorecard = _check_reviewable(reviewer, ticket, values.agent)
    rated, score, comment = _scored(scorecard, values.ratings, values.comment)
    if Review.objects.filter(ticket=ticket, reviewer=reviewer).exists():
        raise Conflict(_("You have already reviewed this conversation."))
    now = timezone.now()
    try:
        with transaction.atomic():
            proposed = (
                ReviewAssignment.objects.select_for_update()
                .filter(workspace_id=ticket.workspace_id, ticket=ticket, agent=values.agent, review__isnull=True)
                .order_by("-week")
                .first()
            )
            week = proposed.week if proposed else week_of(now, reviewer.workspace.time_zone)
            review = Review.objects.create(
                workspace_id=ticket.workspace_id,
                ticket=ticket,
                agent=values.agent,
                reviewer=reviewer,
                scorecard=scorecard,
                score=score,
                comment=comment,
                created_at=now,
                week=week,
            )
            ReviewScore.objects.bulk_create(_score_rows(review, rated))
            if proposed is not None:
                proposed.review, proposed.reviewer = review, reviewer
                proposed.save(update_fields=["review", "reviewer"])
    except IntegrityError as error:
        # Two submits of one reviewer at once: the unique constraint lets one through.
        raise Conflict(_("You have already reviewed this conversation.")) from error
    return review


def update_review(*, reviewer: Agent, review: Review, ratings: Mapping[int, int | None], comment: str) -> Review:
    """The reviewer corrects their own review: it is scored again on the scorecard as it is now (its criteria and
    weights), since a changed review is a new judgement. It keeps its agent, week and date."""
    if review.workspace_id != reviewer.workspace_id:
        raise NotFound(_("Review not found."))
    scorecard = Scorecard.objects.filter(workspace_id=reviewer.workspace_id).first()
    if not is_reviewer(reviewer, scorecard) or review.reviewer_id != reviewer.pk:
        raise PermissionDenied(_(OWN_REVIEWS_ONLY))
    if scorecard is None or not scorecard.is_active:
        raise ValidationFailed(_("Quality reviews are switched off in this workspace."))
    rated, score, cleaned = _scored(scorecard, ratings, comment)
    with transaction.atomic():
        locked = Review.objects.select_for_update().get(pk=review.pk)
        ReviewScore.objects.filter(review=locked).delete()
        ReviewScore.objects.bulk_create(_score_rows(locked, rated))
        locked.score, locked.comment, locked.updated_at = score, cleaned, timezone.now()
        locked.save(update_fields=["score", "comment", "updated_at"])
    return locked
