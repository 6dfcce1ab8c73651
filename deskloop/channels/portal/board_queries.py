"""What a customer may read of the ideas board (the public board pages and the widget's Ideas tab).

A board is readable by anyone when the workspace made it public, and by a contact signed in to the workspace's
portal (or identified in its widget) when it is private; otherwise it does not exist (404). Of the board only public
ideas that were not merged away show, with their counts and never who voted: no voter's name, email, organization
or MRR, and no score (a ranking by value would tell competitors and customers which accounts pay most). Comments
show without their customer authors' names for the same reason; agents' public comments show the agent's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404

from deskloop.accounts.models import Workspace
from deskloop.customers.models import Contact
from deskloop.ideas.models import Idea, IdeaBoard, IdeaComment, IdeaStatus, IdeaSubscription, IdeaVote, VoteSource
from deskloop.ideas.queries import BoardPage, BoardQuery, board_page
from deskloop.tickets.models import ProductArea

# The sorts a customer may choose; "score" ranks by MRR and stays on the agents' side.
CUSTOMER_SORTS = ("votes", "newest", "trending")
# What the board shows unless a status is asked for: declined ideas only when asked.
OPEN_STATUSES = (IdeaStatus.UNDER_REVIEW, IdeaStatus.PLANNED, IdeaStatus.IN_PROGRESS, IdeaStatus.SHIPPED)
ROADMAP_STATUSES = (IdeaStatus.PLANNED, IdeaStatus.IN_PROGRESS, IdeaStatus.SHIPPED)
ROADMAP_COLUMN_SIZE = 30
CHANGELOG_PAGE_SIZE = 20
# Votes a customer cast themselves, and so may take back; an agent's vote from a ticket stays the team's record.
CUSTOMER_VOTE_SOURCES = (VoteSource.PORTAL, VoteSource.WIDGET, VoteSource.BOARD)


def board_settings(workspace: Workspace | int) -> IdeaBoard | None:
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return IdeaBoard.objects.filter(workspace_id=workspace_id).first()


def readable_board(workspace: Workspace, contact: Contact | None) -> None:
    """404 unless the board is public or ``contact`` (signed in to this workspace) reads it."""
    if contact is not None and contact.workspace_id == workspace.pk:
        return
    board = board_settings(workspace)
    if board is None or not board.is_public:
        raise Http404("No such board")


def public_ideas(workspace_id: int) -> QuerySet[Idea]:
    return Idea.objects.filter(workspace_id=workspace_id, is_public=True)


def public_idea(workspace: Workspace, idea_id: int) -> Idea:
    """A public idea of the workspace (merged ones too: the caller redirects to where they went), or 404."""
    idea = public_ideas(workspace.pk).select_related("product_area").filter(pk=idea_id).first()
    if idea is None:
        raise Http404("No such idea")
    return idea


def surviving_idea(idea: Idea) -> Idea | None:
    """Where a merged idea went, when that one is public too (else None: the customer sees a 404)."""
    seen = {idea.pk}
    current = idea
    while current.merged_into_id is not None and current.merged_into_id not in seen:
        seen.add(current.merged_into_id)
        found = public_ideas(current.workspace_id).filter(pk=current.merged_into_id).first()
        if found is None:
            return None
        current = found
    return current if current.merged_into_id is None else None


@dataclass(frozen=True)
class BoardFilters:
    sort: str = "votes"
    status: str = ""
    product_area: ProductArea | None = None
    text: str = ""
    cursor: str = ""
    # Which statuses "any status" means here (the widget offers only what is still open to votes).
    default_statuses: Sequence[str] = OPEN_STATUSES

    def statuses(self) -> Sequence[str]:
        return (self.status,) if self.status else self.default_statuses


def board_rows(workspace: Workspace, filters: BoardFilters, *, limit: int = 30) -> BoardPage:
    """One page of the board's public ideas (E's ``board_page``, the one board read); ValidationFailed on a bad
    cursor."""
    query = BoardQuery(
        workspace_id=workspace.pk,
        statuses=filters.statuses(),
        product_area_ids=(filters.product_area.pk,) if filters.product_area else (),
        sort=filters.sort,
        public_only=True,
        text=filters.text,
    )
    page = board_page(query, cursor=filters.cursor or None, limit=limit)
    # The rows show their product area: one query for the page, not one per idea.
    prefetch_related_objects([row.idea for row in page.rows], "product_area")
    return page


def product_areas(workspace: Workspace) -> list[ProductArea]:
    return list(ProductArea.objects.filter(workspace=workspace).order_by("path"))


def product_area(workspace: Workspace, raw: str) -> ProductArea | None:
    """The area a filter or form names, None when it names none; Http404 when it is not one of the workspace's."""
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 15:
        raise Http404("No such product area")
    found = ProductArea.objects.filter(workspace=workspace, pk=int(raw)).first()
    if found is None:
        raise Http404("No such product area")
    return found


def listed_product_area(workspace: Workspace, raw: str) -> tuple[ProductArea | None, bool]:
    """The area a form chose from the list (None for none), and whether the value was one of the list's at all."""
    try:
        return product_area(workspace, raw), True
    except Http404:
        return None, False


@dataclass
class ContactStake:
    """What the signed-in contact did on some ideas: which they voted for (and may take back), which they follow."""

    voted: set[int] = field(default_factory=set)
    withdrawable: set[int] = field(default_factory=set)
    following: set[int] = field(default_factory=set)


def contact_stake(contact: Contact | None, idea_ids: Iterable[int]) -> ContactStake:
    stake = ContactStake()
    ids = list(idea_ids)
    if contact is None or not ids:
        return stake
    for idea_id, source in IdeaVote.objects.filter(contact=contact, idea_id__in=ids).values_list("idea_id", "source"):
        stake.voted.add(idea_id)
        if source in CUSTOMER_VOTE_SOURCES:
            stake.withdrawable.add(idea_id)
    stake.following = set(
        IdeaSubscription.objects.filter(contact=contact, idea_id__in=ids).values_list("idea_id", flat=True)
    )
    return stake


def own_vote(contact: Contact, idea: Idea) -> IdeaVote | None:
    return IdeaVote.objects.filter(contact=contact, idea=idea).first()


def public_comments(idea: Idea) -> QuerySet[IdeaComment]:
    """The idea's comments a customer may read: never agents' internal ones; oldest first."""
    return (
        IdeaComment.objects.filter(idea=idea, is_internal=False)
        .select_related("author_agent")
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class RoadmapColumn:
    status: str
    label: str
    ideas: list[Idea]


def roadmap(workspace: Workspace) -> list[RoadmapColumn]:
    """Planned, in progress and shipped public ideas: the first two by votes, shipped by date, newest first."""
    columns = []
    for status in ROADMAP_STATUSES:
        ideas = public_ideas(workspace.pk).filter(merged_into__isnull=True, status=status)
        order = ("-shipped_at", "-pk") if status == IdeaStatus.SHIPPED else ("-vote_count", "-pk")
        columns.append(
            RoadmapColumn(status, str(IdeaStatus(status).label), list(ideas.order_by(*order)[:ROADMAP_COLUMN_SIZE]))
        )
    return columns


def changelog(workspace: Workspace, page_number: str | None) -> Page[Idea]:
    """Shipped public ideas with what shipped, newest first."""
    shipped = (
        public_ideas(workspace.pk)
        .filter(merged_into__isnull=True, status=IdeaStatus.SHIPPED, shipped_at__isnull=False)
        .order_by("-shipped_at", "-pk")
    )
    return Paginator(shipped, CHANGELOG_PAGE_SIZE).get_page(page_number)
