"""Ideas: what customers ask the product to do, with the votes that say who asks and how badly.

An idea's value to the business is counted per distinct organization: an organization with ten voting contacts
weighs what one does, at the highest importance any of them gave. ``IdeaOrganization`` holds that per (idea,
organization) pair, kept exact by every vote write (``services.votes``); the idea's own counters are a cache of it
(``services.values``) so the board sorts by an indexed column, refreshed on each vote and by a periodic sweep
(an organization's MRR changes without touching its votes).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned


class IdeaStatus(models.TextChoices):
    UNDER_REVIEW = "under_review", _("Under review")
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    SHIPPED = "shipped", _("Shipped")
    DECLINED = "declined", _("Declined")


class Importance(models.IntegerChoices):
    """How much the voter needs it; the rank orders them, the workspace's weights value them."""

    NICE_TO_HAVE = 1, _("Nice to have")
    IMPORTANT = 2, _("Important")
    CRITICAL = 3, _("Critical")


class VoteSource(models.TextChoices):
    PORTAL = "portal", _("Portal")
    WIDGET = "widget", _("Widget")
    BOARD = "board", _("Public board")
    AGENT = "agent", _("Agent, for a customer")
    SURVEY = "survey", _("Survey comment")
    DEAL = "deal", _("Lost deal")
    API = "api", _("API")
    IMPORT = "import", _("Import")


class IdeaBoard(WorkspaceOwned):
    """The workspace's board settings: one row per workspace, created on first use."""

    # A public board is readable without signing in (titles, descriptions, statuses, vote counts; never who voted).
    is_public = models.BooleanField(_("public board"), default=False)
    # The value of a vote by importance: score = sum over distinct organizations of MRR x weight.
    weight_nice_to_have = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    weight_important = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("2"))
    weight_critical = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("3"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="idea_board_one_per_workspace")]

    def weight_of(self, importance: int) -> Decimal:
        return {
            Importance.NICE_TO_HAVE: self.weight_nice_to_have,
            Importance.IMPORTANT: self.weight_important,
            Importance.CRITICAL: self.weight_critical,
        }[Importance(importance)]


class Idea(WorkspaceOwned):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=IdeaStatus.choices, default=IdeaStatus.UNDER_REVIEW)
    product_area = models.ForeignKey(
        "tickets.ProductArea", on_delete=models.SET_NULL, null=True, blank=True, related_name="ideas"
    )
    # Who posted it: a customer (portal, widget, board) or an agent.
    author_contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_agent = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Private ideas are for agents only, even on a public board (an internal note, a competitor's name).
    is_public = models.BooleanField(_("shown to customers"), default=True)
    # Set on the idea merged away: its pages redirect to the survivor, which now holds its votes and links.
    merged_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # What shipped, for the changelog and the closing-the-loop message.
    shipped_note = models.TextField(_("what shipped"), blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # A cache of IdeaOrganization (and the votes), written only by services.values.
    vote_count = models.PositiveIntegerField(default=0)
    organization_count = models.PositiveIntegerField(default=0)
    total_mrr = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    score = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    # Votes of the last ``ideas.queries.TRENDING_DAYS`` days ("trending"): exact after each vote on the idea, aged by
    # the sweep (a vote leaving the window is no write to catch).
    recent_vote_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The board: live ideas by score (or newest), optionally within a status or a product area.
            models.Index(
                fields=["workspace", "score", "id"], condition=Q(merged_into__isnull=True), name="idea_ws_score"
            ),
            models.Index(
                fields=["workspace", "status", "score", "id"],
                condition=Q(merged_into__isnull=True),
                name="idea_ws_status_score",
            ),
            models.Index(
                fields=["workspace", "product_area", "score", "id"],
                condition=Q(merged_into__isnull=True),
                name="idea_ws_area_score",
            ),
            models.Index(fields=["workspace", "created_at", "id"], name="idea_ws_created"),
            models.Index(
                fields=["workspace", "recent_vote_count", "score", "id"],
                condition=Q(merged_into__isnull=True),
                name="idea_ws_trending",
            ),
            # The board sorted by votes.
            models.Index(
                fields=["workspace", "vote_count", "id"], condition=Q(merged_into__isnull=True), name="idea_ws_votes"
            ),
            models.Index(fields=["workspace", "shipped_at"], name="idea_ws_shipped"),
        ]

    def __str__(self) -> str:
        return self.title


class IdeaVote(WorkspaceOwned):
    """One voter's vote. A contact votes once per idea (a second vote raises the importance, never the count); a
    vote without a contact is an organization's (a lost deal's prospect), once per idea too."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="votes")
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="idea_votes"
    )
    # The voter's organization when the vote was cast: the value counts it even if the contact moves later.
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="idea_votes"
    )
    importance = models.PositiveSmallIntegerField(choices=Importance.choices, default=Importance.NICE_TO_HAVE)
    source = models.CharField(max_length=10, choices=VoteSource.choices)
    # The conversation it came from, when an agent voted from a ticket.
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="idea_votes"
    )
    # The agent who cast it for the customer (from a ticket, or by hand).
    cast_by = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["idea", "contact"], condition=Q(contact__isnull=False), name="idea_vote_one_per_contact"
            ),
            models.UniqueConstraint(
                fields=["idea", "organization"],
                condition=Q(contact__isnull=True),
                name="idea_vote_one_per_organization_without_contact",
            ),
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(organization__isnull=False), name="idea_vote_has_a_voter"
            ),
        ]
        indexes = [
            models.Index(fields=["idea", "created_at"], name="idea_vote_idea_created"),
            # Trending and the areas' recent votes: the workspace's votes of the last 30 days.
            models.Index(fields=["workspace", "created_at", "idea"], name="idea_vote_ws_created"),
            models.Index(fields=["contact"], name="idea_vote_contact"),
        ]


class IdeaOrganization(WorkspaceOwned):
    """An organization's stake in an idea: the highest importance any of its votes gave, and how many votes. Exactly
    the votes' aggregate (services.votes keeps it), so value and segment filters read one row per organization."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="organization_stakes")
    organization = models.ForeignKey("customers.Organization", on_delete=models.CASCADE, related_name="+")
    importance = models.PositiveSmallIntegerField(choices=Importance.choices)
    votes = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idea", "organization"], name="idea_organization_unique"),
        ]
        indexes = [models.Index(fields=["organization", "idea"], name="idea_org_by_org")]


class IdeaTicket(WorkspaceOwned):
    """A conversation that asked for the idea: its requester hears when it ships, and the ticket shows it."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="idea_links")
    linked_by = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "ticket"], name="idea_ticket_unique")]


class IdeaComment(WorkspaceOwned):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    author_contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_agent = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("comment"))
    # Agents' internal comments are never shown to customers.
    is_internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["idea", "created_at"], name="idea_comment_idea_created")]


class IdeaSubscription(WorkspaceOwned):
    """Who hears about the idea's status changes: voters and authors are subscribed on their vote or post."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="subscriptions")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["idea", "contact"], condition=Q(contact__isnull=False), name="idea_subscription_contact"
            ),
            models.UniqueConstraint(
                fields=["idea", "agent"], condition=Q(agent__isnull=False), name="idea_subscription_agent"
            ),
        ]


class ProductTask(WorkspaceOwned):
    """Work for a product manager that the system opened (a deal lost for missing functionality), shown on the
    product manager's page until done."""

    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(blank=True)
    product_area = models.ForeignKey(
        "tickets.ProductArea", on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    idea = models.ForeignKey(Idea, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks")
    assignee = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="product_tasks"
    )
    # What opened it ("deal", its id): the same source never opens two tasks.
    source_kind = models.CharField(max_length=20, blank=True)
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "source_kind", "source_id"],
                condition=Q(source_id__isnull=False),
                name="product_task_one_per_source",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "assignee", "done_at"], name="product_task_open")]


class IdeaSegmentValue(WorkspaceOwned):
    """An idea's value counting only one saved segment's organizations: the segment's own cached columns, so a board
    cut by a segment reads an index like the uncut board does instead of aggregating every stake of the segment.

    Written only by ``services.values`` (with the idea's own values, after every vote, merge or weight change, and by
    the sweep); rebuilt whole when the segment's rules, the day (for "customer for N months") or the weights change.
    Only ideas with at least one stake from the segment have a row."""

    segment = models.ForeignKey("customers.Segment", on_delete=models.CASCADE, related_name="+")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="+")
    vote_count = models.PositiveIntegerField(default=0)
    organization_count = models.PositiveIntegerField(default=0)
    total_mrr = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    score = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    recent_vote_count = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "idea"], name="idea_segment_value_unique")]
        indexes = [
            models.Index(fields=["segment", "score", "idea"], name="idea_segment_value_score"),
            models.Index(fields=["segment", "vote_count", "idea"], name="idea_segment_value_votes"),
            models.Index(fields=["segment", "recent_vote_count", "score", "idea"], name="idea_segment_value_trending"),
        ]


class SegmentValueState(WorkspaceOwned):
    """What a segment's ``IdeaSegmentValue`` rows were computed for (its rules, the day, the weights): a read that
    finds another fingerprint rebuilds them first."""

    segment = models.OneToOneField("customers.Segment", on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    computed_at = models.DateTimeField(default=timezone.now)
