"""What an idea is worth: votes, distinct organizations, their MRR, and the score.

score = sum over the distinct organizations that voted of MRR x the weight of the highest importance they gave.
The per-organization stakes (``IdeaOrganization``) are exact; the idea's columns are their cached sum, written here
only: after each vote, merge or weight change for the ideas involved, and by the periodic sweep for all (an
organization's MRR changes in the customers app, which knows nothing of ideas).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Count, DecimalField, F, Max, Q, Sum, Value, When
from django.db.models.expressions import Combinable

from deskloop.ideas.models import Idea, IdeaBoard, IdeaOrganization, IdeaVote, Importance

REFRESH_BATCH = 2000


def board_of(workspace_id: int) -> IdeaBoard:
    """The workspace's board settings (created with the defaults on first use)."""
    board, _created = IdeaBoard.objects.get_or_create(workspace_id=workspace_id)
    return board


def weight_of_importance(board: IdeaBoard, field: str = "importance") -> Case:
    """The board's weight for the importance in ``field``, as an SQL expression (a stake's value is MRR x this)."""
    return Case(
        When(**{field: Importance.NICE_TO_HAVE}, then=Value(board.weight_nice_to_have)),
        When(**{field: Importance.IMPORTANT}, then=Value(board.weight_important)),
        When(**{field: Importance.CRITICAL}, then=Value(board.weight_critical)),
        default=Value(Decimal("0")),
        output_field=DecimalField(max_digits=6, decimal_places=2),
    )


def stake_value(board: IdeaBoard, *, mrr: str = "organization__mrr", importance: str = "importance") -> Combinable:
    """MRR x weight of one stake row (IdeaOrganization, or a query reaching one through a prefix)."""
    return F(mrr) * weight_of_importance(board, importance)


def refresh_stakes(*, idea_id: int, organization_ids: Collection[int]) -> None:
    """Make the stakes of these organizations in the idea equal their votes' aggregate again (after a vote is cast,
    withdrawn or moved by a merge). The caller holds the idea's lock."""
    ids = {pk for pk in organization_ids if pk is not None}
    if not ids:
        return
    aggregates = (
        IdeaVote.objects.filter(idea_id=idea_id, organization_id__in=ids)
        .values("organization_id", "workspace_id")
        .annotate(top=Max("importance"), count=Count("id"))
    )
    IdeaOrganization.objects.filter(idea_id=idea_id, organization_id__in=ids).delete()
    IdeaOrganization.objects.bulk_create(
        IdeaOrganization(
            workspace_id=row["workspace_id"],
            idea_id=idea_id,
            organization_id=row["organization_id"],
            importance=row["top"],
            votes=row["count"],
        )
        for row in aggregates
    )


def refresh_idea_values(idea_ids: Collection[int], *, board: IdeaBoard) -> None:
    """Recompute the cached vote count, organization count, total MRR and score of these ideas (one workspace's,
    ``board`` gives the weights): three grouped reads and one batched UPDATE per ``REFRESH_BATCH`` ideas."""
    ids = list(idea_ids)
    for start in range(0, len(ids), REFRESH_BATCH):
        batch = ids[start : start + REFRESH_BATCH]
        votes = dict(
            IdeaVote.objects.filter(idea_id__in=batch).values_list("idea_id").annotate(n=Count("id")).order_by()
        )
        stakes = {
            row["idea_id"]: row
            for row in IdeaOrganization.objects.filter(idea_id__in=batch)
            .values("idea_id")
            .annotate(orgs=Count("id"), mrr=Sum("organization__mrr"), score=Sum(stake_value(board)))
            .order_by()
        }
        ideas = list(Idea.objects.filter(pk__in=batch).only("pk"))
        for idea in ideas:
            stake = stakes.get(idea.pk, {})
            idea.vote_count = votes.get(idea.pk, 0)
            idea.organization_count = stake.get("orgs", 0)
            idea.total_mrr = stake.get("mrr") or Decimal("0")
            idea.score = (stake.get("score") or Decimal("0")).quantize(Decimal("0.01"))
        Idea.objects.bulk_update(ideas, ["vote_count", "organization_count", "total_mrr", "score"])


def _idea_id_batches(workspace_id: int) -> Iterator[list[int]]:
    last = 0
    while True:
        batch = list(
            Idea.objects.filter(workspace_id=workspace_id, pk__gt=last, merged_into__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:REFRESH_BATCH]
        )
        if not batch:
            return
        yield batch
        last = batch[-1]


def refresh_workspace_values(workspace_id: int) -> int:
    """Every live idea of the workspace (the sweep, and after the weights change), one batch per transaction;
    returns how many ideas."""
    board = board_of(workspace_id)
    refreshed = 0
    for batch in _idea_id_batches(workspace_id):
        with transaction.atomic():
            refresh_idea_values(batch, board=board)
        refreshed += len(batch)
    return refreshed


def refresh_all_workspaces_values() -> int:
    """The periodic sweep: every workspace that has ideas; returns how many ideas."""
    workspace_ids = Idea.objects.values_list("workspace_id", flat=True).distinct().order_by("workspace_id")
    return sum(refresh_workspace_values(workspace_id) for workspace_id in workspace_ids)


def ideas_with_stakes_in(stakes_filter: Q, board: IdeaBoard) -> dict[int, dict[str, Decimal | int]]:
    """Per idea, the organizations, MRR and score counting only the stakes matching ``stakes_filter`` (a segment,
    through ``organization``): how a filtered board values its ideas."""
    rows = (
        IdeaOrganization.objects.filter(stakes_filter)
        .values("idea_id")
        .annotate(orgs=Count("id"), mrr=Sum("organization__mrr"), score=Sum(stake_value(board)))
        .order_by()
    )
    return {row["idea_id"]: row for row in rows}
