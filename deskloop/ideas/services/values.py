"""What an idea is worth: votes, distinct organizations, their MRR, and the score.

score = sum over the distinct organizations that voted of MRR x the weight of the highest importance they gave.
The per-organization stakes (``IdeaOrganization``) are exact; the idea's columns are their cached sum, written here
only: after each vote, merge or weight change for the ideas involved, and by the periodic sweep for all (an
organization's MRR changes in the customers app, which knows nothing of ideas).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Iterator
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Count, DecimalField, F, Max, Q, Sum, Value, When
from django.db.models.expressions import Combinable
from django.utils import timezone

from deskloop.customers.models import Segment
from deskloop.customers.segments import organization_q
from deskloop.ideas.models import (
    Idea,
    IdeaBoard,
    IdeaOrganization,
    IdeaSegmentValue,
    IdeaVote,
    Importance,
    SegmentValueState,
)

REFRESH_BATCH = 2000
# "Trending" counts the votes of the last this many days.
TRENDING_DAYS = 30


def trending_since() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=TRENDING_DAYS)


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
        since = trending_since()
        votes = {
            idea_id: (n, recent)
            for idea_id, n, recent in IdeaVote.objects.filter(idea_id__in=batch)
            .values_list("idea_id")
            .annotate(n=Count("id"), recent=Count("id", filter=Q(created_at__gte=since)))
            .order_by()
        }
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
            idea.vote_count, idea.recent_vote_count = votes.get(idea.pk, (0, 0))
            idea.organization_count = stake.get("orgs", 0)
            idea.total_mrr = stake.get("mrr") or Decimal("0")
            idea.score = (stake.get("score") or Decimal("0")).quantize(Decimal("0.01"))
        Idea.objects.bulk_update(ideas, ["vote_count", "organization_count", "total_mrr", "score", "recent_vote_count"])
        refresh_segment_values(batch, board=board)


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
    # A new day moves "customer for N months"; rebuild what the batches above could not refresh.
    for segment in Segment.objects.filter(workspace_id=workspace_id):
        ensure_segment_values(segment, board=board)
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


# --- per saved segment: the same values counting only the segment's organizations --------------------------------


def segment_fingerprint(segment: Segment, board: IdeaBoard) -> str:
    """What a segment's values depend on besides the stakes: its rules, the day when it counts months, the weights."""

    def money(value: object) -> str | None:
        # A segment built in memory may hold 400 where the database gives Decimal("400.00"): the same rule.
        return None if value is None else f"{Decimal(str(value)):.2f}"

    parts = [
        money(segment.mrr_above),
        segment.min_customer_months,
        segment.industry.lower(),
        segment.plan.lower(),
        segment.lifecycle_stage,
        segment.owner_id,
        timezone.localdate() if segment.min_customer_months is not None else None,
        money(board.weight_nice_to_have),
        money(board.weight_important),
        money(board.weight_critical),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _write_segment_values(segment: Segment, board: IdeaBoard, idea_ids: list[int] | None) -> None:
    """Upsert the segment's values of these ideas (None: all the workspace's live ideas) and drop the rows of those
    that no longer have a stake from the segment."""
    started = timezone.now()
    ideas = Q(idea__merged_into__isnull=True) if idea_ids is None else Q(idea_id__in=idea_ids)
    rows = (
        IdeaOrganization.objects.filter(ideas, organization_q(segment), workspace_id=segment.workspace_id)
        .values("idea_id")
        .annotate(votes=Sum("votes"), orgs=Count("id"), mrr=Sum("organization__mrr"), score=Sum(stake_value(board)))
        .order_by()
    )
    recent = dict(
        IdeaVote.objects.filter(
            ideas, organization_q(segment), workspace_id=segment.workspace_id, created_at__gte=trending_since()
        )
        .values_list("idea_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    IdeaSegmentValue.objects.bulk_create(
        (
            IdeaSegmentValue(
                workspace_id=segment.workspace_id,
                segment=segment,
                idea_id=row["idea_id"],
                vote_count=row["votes"] or 0,
                organization_count=row["orgs"],
                total_mrr=row["mrr"] or Decimal("0"),
                score=(row["score"] or Decimal("0")).quantize(Decimal("0.01")),
                recent_vote_count=recent.get(row["idea_id"], 0),
                refreshed_at=started,
            )
            for row in rows
        ),
        batch_size=REFRESH_BATCH,
        update_conflicts=True,
        unique_fields=["segment", "idea"],
        update_fields=["vote_count", "organization_count", "total_mrr", "score", "recent_vote_count", "refreshed_at"],
    )
    stale = IdeaSegmentValue.objects.filter(segment=segment, refreshed_at__lt=started)
    if idea_ids is not None:
        stale = stale.filter(idea_id__in=idea_ids)
    stale.delete()


def refresh_segment_values(idea_ids: Collection[int], *, board: IdeaBoard) -> None:
    """Keep every built segment's values of these ideas exact (with the ideas' own, after a vote or a merge). A
    segment whose fingerprint moved is left to ``ensure_segment_values``, which rebuilds it whole."""
    ids = list(idea_ids)
    states = SegmentValueState.objects.filter(workspace_id=board.workspace_id).select_related("segment")
    for state in states:
        if state.fingerprint != segment_fingerprint(state.segment, board):
            continue
        _write_segment_values(state.segment, board, ids)


def ensure_segment_values(segment: Segment, *, board: IdeaBoard | None = None) -> None:
    """Build the segment's values if they were never built, or were built for other rules, another day or other
    weights (one grouped query over the segment's stakes: a second or two at a million votes, once per change)."""
    board = board or board_of(segment.workspace_id)
    fingerprint = segment_fingerprint(segment, board)
    if SegmentValueState.objects.filter(segment=segment, fingerprint=fingerprint).exists():
        return
    with transaction.atomic():
        state, _created = SegmentValueState.objects.get_or_create(
            segment=segment, defaults={"workspace_id": segment.workspace_id, "fingerprint": ""}
        )
        state = SegmentValueState.objects.select_for_update().get(pk=state.pk)
        if state.fingerprint == fingerprint:
            return
        _write_segment_values(segment, board, None)
        state.fingerprint = fingerprint
        state.computed_at = timezone.now()
        state.save(update_fields=["fingerprint", "computed_at"])
