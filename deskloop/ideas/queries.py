"""Reading the board: ideas ranked by what they are worth, filtered and paged the same way for every screen (agents'
board, public board, widget, API, the product manager's page).

Without a segment the ranking reads the idea's cached value columns (kept by ``services.values``), so a page is an
index range scan. With a segment only that segment's organizations count: the values are the segment's own cache
(``IdeaSegmentValue``, kept with the idea's values by ``services.values``), read the same way; ideas no organization
of the segment asked for are left out. Pages are keyset pages (the last row's
sort key is the cursor), so page 50 costs what page 1 does and a vote arriving between two pages never repeats or
skips a row.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import Segment
from deskloop.ideas.models import Idea, IdeaSegmentValue, IdeaTicket
from deskloop.ideas.services.values import TRENDING_DAYS as TRENDING_DAYS
from deskloop.ideas.services.values import ensure_segment_values
from deskloop.tickets.inbox import descendant_area_ids

SORTS = ("score", "votes", "newest", "trending")
MAX_LIMIT = 100


@dataclass(frozen=True)
class BoardQuery:
    """Which ideas, in which order. ``product_area_ids`` include the areas below them; ``public_only`` is the
    customers' view (public ideas only; whether the board itself is public is the caller's business)."""

    workspace_id: int
    statuses: Sequence[str] = ()
    product_area_ids: Sequence[int] = ()
    segment: Segment | None = None
    sort: str = "score"
    public_only: bool = False
    text: str = ""


@dataclass(frozen=True)
class BoardRow:
    """An idea and its value: over every organization, or only the segment's when the query has one.
    ``recent_votes``: of the last ``TRENDING_DAYS`` days (what "trending" sorts by)."""

    idea: Idea
    votes: int
    organizations: int
    total_mrr: Decimal
    score: Decimal
    recent_votes: int = 0


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow] = field(default_factory=list)
    # Pass back as ``cursor`` for the next page; None on the last page.
    next_cursor: str | None = None


def board_page(query: BoardQuery, *, cursor: str | None = None, limit: int = 30) -> BoardPage:
    """One page of the board. A bad ``cursor`` or ``sort`` raises ValidationFailed (a 400 for the caller)."""
    if query.sort not in SORTS:
        raise ValidationFailed(_("Unknown sort order."), field="sort")
    limit = max(1, min(limit, MAX_LIMIT))
    after = _decode_cursor(cursor, query.sort)
    ideas = _filtered_ideas(query, prefix="")
    if ideas is None:
        return BoardPage()
    if query.segment is not None:
        rows = _segment_rows(query, after, limit + 1)
    else:
        rows = _plain_rows(ideas, query.sort, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode_cursor(query.sort, rows[-1]) if more and rows else None
    return BoardPage(rows=rows, next_cursor=next_cursor)


def _filtered_ideas(query: BoardQuery, *, prefix: str) -> Q | None:
    """The query's idea conditions as a Q on ``prefix`` (the path to the idea); None when nothing can match."""
    p = f"{prefix}__" if prefix else ""
    q = Q(**{f"{p}workspace_id": query.workspace_id, f"{p}merged_into__isnull": True})
    if query.statuses:
        q &= Q(**{f"{p}status__in": list(query.statuses)})
    if query.product_area_ids:
        areas = descendant_area_ids(query.workspace_id, query.product_area_ids)
        if not areas:
            return None
        q &= Q(**{f"{p}product_area_id__in": areas})
    if query.public_only:
        q &= Q(**{f"{p}is_public": True})
    text = query.text.strip()
    if text:
        q &= Q(**{f"{p}title__icontains": text}) | Q(**{f"{p}description__icontains": text})
    return q


# --- without a segment: the cached columns -------------------------------------------------------------------


def _plain_rows(ideas: Q, sort: str, after: tuple[Any, int] | None, count: int) -> list[BoardRow]:
    qs: QuerySet[Idea] = Idea.objects.filter(ideas)
    if sort == "trending":
        qs = qs.annotate(sort_key=F("recent_vote_count"))
        order: tuple[str, ...] = ("-recent_vote_count", "-score", "-id")
    else:
        column = {"score": "score", "votes": "vote_count", "newest": "created_at"}[sort]
        qs = qs.annotate(sort_key=F(column))
        order = (f"-{column}", "-id")
    if after is not None:
        qs = qs.filter(_after_q(sort, after, id_field="id"))
    found = list(qs.order_by(*order)[:count])
    return [
        BoardRow(
            idea=idea,
            votes=idea.vote_count,
            organizations=idea.organization_count,
            total_mrr=idea.total_mrr,
            score=idea.score,
            recent_votes=idea.recent_vote_count,
        )
        for idea in found
    ]


# --- with a segment: the segment's stakes, aggregated per idea ------------------------------------------------


def _segment_rows(query: BoardQuery, after: tuple[Any, int] | None, count: int) -> list[BoardRow]:
    """The segment's own cached values (``IdeaSegmentValue``, built on the first read after the segment's rules,
    the day or the weights changed), read in index order like the uncut board."""
    segment = query.segment
    assert segment is not None
    ensure_segment_values(segment)
    ideas = _filtered_ideas(query, prefix="idea")
    assert ideas is not None
    values: QuerySet[IdeaSegmentValue] = IdeaSegmentValue.objects.filter(ideas, segment=segment).select_related("idea")
    if query.sort == "trending":
        values = values.annotate(sort_key=F("recent_vote_count"))
        order: tuple[str, ...] = ("-recent_vote_count", "-score", "-idea_id")
    else:
        column = {"score": "score", "votes": "vote_count", "newest": "idea__created_at"}[query.sort]
        values = values.annotate(sort_key=F(column))
        order = (f"-{column}", "-idea_id")
    if after is not None:
        values = values.filter(_after_q(query.sort, after, id_field="idea_id"))
    return [
        BoardRow(
            idea=value.idea,
            votes=value.vote_count,
            organizations=value.organization_count,
            total_mrr=value.total_mrr,
            score=value.score,
            recent_votes=value.recent_vote_count,
        )
        for value in values.order_by(*order)[:count]
    ]


# --- keyset cursors -------------------------------------------------------------------------------------------


def _after_q(sort: str, after: tuple[Any, int], *, id_field: str) -> Q:
    """Rows strictly after the cursor in descending (key, [score,] id) order."""
    key, last_id = after
    if sort == "trending":
        recent, score = key
        return (
            Q(sort_key__lt=recent)
            | Q(sort_key=recent, score__lt=score)
            | Q(sort_key=recent, score=score, **{f"{id_field}__lt": last_id})
        )
    return Q(sort_key__lt=key) | Q(sort_key=key, **{f"{id_field}__lt": last_id})


def _encode_cursor(sort: str, row: BoardRow) -> str:
    key: Any
    if sort == "score":
        key = str(row.score)
    elif sort == "votes":
        key = row.votes
    elif sort == "newest":
        key = row.idea.created_at.isoformat()
    else:
        key = [row.recent_votes, str(row.score)]
    raw = json.dumps({"s": sort, "k": key, "id": row.idea.pk}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, sort: str) -> tuple[Any, int] | None:
    """The cursor's (key, idea id); it must come from a page of the same sort."""
    if not cursor:
        return None
    bad = ValidationFailed(_("This page link is no longer valid; start from the first page."), field="cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if not isinstance(data, dict) or data.get("s") != sort:
            raise bad
        last_id = data["id"]
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise bad
        return _parsed_key(sort, data["k"]), last_id
    except (ValueError, KeyError, TypeError, InvalidOperation, binascii.Error, UnicodeDecodeError) as exc:
        raise bad from exc


def _parsed_key(sort: str, key: Any) -> Any:
    if sort == "score":
        return _decimal(key)
    if sort == "votes":
        if not isinstance(key, int) or isinstance(key, bool):
            raise ValueError("votes key")
        return key
    if sort == "newest":
        parsed = dt.datetime.fromisoformat(str(key))
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    recent, score = key
    if not isinstance(recent, int) or isinstance(recent, bool):
        raise ValueError("trending key")
    return (recent, _decimal(score))


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError("decimal key")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("decimal key")
    return number


def linked_ticket_ids(*, workspace_id: int, idea_id: int) -> list[int]:
    """The conversations linked to an idea (automation rules on ``idea.status_changed`` act on them)."""
    return list(
        IdeaTicket.objects.filter(workspace_id=workspace_id, idea_id=idea_id)
        .order_by("ticket_id")
        .values_list("ticket_id", flat=True)
    )
