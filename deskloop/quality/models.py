"""Conversation quality reviews: the workspace's scorecard and its weighted criteria, the reviews reviewers write
about an agent's conversation, and the weekly random sample of conversations proposed for review.

Ratings are 0-4 per criterion ("poor" to "excellent"), or not applicable (null). A review's score is the weighted
mean of its applicable ratings on a 0-100 scale; each rating keeps the criterion's weight at the time of the review,
so changing the scorecard later never rewrites a judgement already given (see docs/architecture.md, "Quality").
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned

RATING_MAX = 4
WEIGHT_MAX = 100
# Conversations proposed per agent per week when an admin has not chosen.
DEFAULT_SAMPLE_SIZE = 3
SAMPLE_SIZE_MAX = 50


class Rating(models.IntegerChoices):
    POOR = 0, _("0 – Poor")
    WEAK = 1, _("1 – Needs work")
    FAIR = 2, _("2 – Fair")
    GOOD = 3, _("3 – Good")
    EXCELLENT = 4, _("4 – Excellent")


class Scorecard(WorkspaceOwned):
    """The workspace's one scorecard: what a conversation is judged on, who may judge, and how many conversations
    per agent are proposed each week."""

    name = models.CharField(_("name"), max_length=100, default="Conversation quality")
    is_active = models.BooleanField(_("active"), default=True)
    sample_size = models.PositiveSmallIntegerField(_("conversations per agent per week"), default=DEFAULT_SAMPLE_SIZE)
    # Agents (role "agent") who may review besides admins and owners; admins and owners always may.
    reviewers = models.ManyToManyField("accounts.Agent", related_name="+", blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="scorecard_one_per_workspace")]

    def __str__(self) -> str:
        return self.name


class ScorecardCriterion(WorkspaceOwned):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    position = models.PositiveSmallIntegerField(default=0)
    # A criterion with ratings is archived instead of deleted, so past reviews still show what they were scored on.
    is_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Review(WorkspaceOwned):
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    # The agent whose conversation was judged.
    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, related_name="quality_reviews")
    reviewer = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, related_name="+")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="reviews")
    # 0-100, the weighted mean of the applicable ratings (rounded to a whole number).
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when its reviewer changed it.
    updated_at = models.DateTimeField(null=True, blank=True)
    # The Monday (workspace time zone) of the week the review counts for: its sample's week, else the week it was
    # written in.
    week = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "reviewer"], name="review_once_per_reviewer_per_ticket"),
        ]
        indexes = [models.Index(fields=["workspace", "agent", "created_at"], name="review_ws_agent_created")]


class ReviewScore(WorkspaceOwned):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(ScorecardCriterion, on_delete=models.PROTECT, related_name="+")
    # Null: not applicable to this conversation (left out of the score).
    rating = models.PositiveSmallIntegerField(choices=Rating.choices, null=True, blank=True)
    # The criterion's weight when the review was written.
    weight = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="review_score_once_per_criterion"),
            models.CheckConstraint(condition=Q(rating__lte=RATING_MAX), name="review_score_rating_range"),
        ]


class ReviewAssignment(WorkspaceOwned):
    """One conversation of the weekly random sample: this agent's solved ticket, proposed for review."""

    week = models.DateField()
    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    # Who reviewed it (null while it waits) and the review itself.
    reviewer = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    review = models.ForeignKey(Review, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["week", "agent_id", "ticket_id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "week", "agent", "ticket"], name="review_assignment_unique"),
        ]
