"""The weekly random sample of conversations proposed for review: N per agent (the scorecard's ``sample_size``)
among the tickets solved in that week that the agent replied to in that week.

Reproducible: each agent's draw is seeded by (workspace, week, agent), so drawing a week again (the periodic job
runs every hour, a reviewer may press "Draw") proposes the same conversations, and one agent's sample does not
depend on who else worked that week. Rows are unique per (week, agent, ticket), so a second draw adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import WRITER_ROLES, Workspace
from deskloop.core.errors import ValidationFailed
from deskloop.quality.models import ReviewAssignment, Scorecard
from deskloop.quality.weeks import week_bounds, week_of
from deskloop.tickets.models import DONE_CATEGORIES, Message, MessageKind
from deskloop.tickets.queries import live_tickets


def sample_seed(workspace_id: int, week: dt.date, agent_id: int) -> int:
    # A hash, not Python's hash(): the same on every process and every run (PYTHONHASHSEED).
    digest = hashlib.sha256(f"quality-sample:{workspace_id}:{week.isoformat()}:{agent_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def candidates(workspace: Workspace, week: dt.date) -> dict[int, list[int]]:
    """Agent id -> ids of the tickets solved in ``week`` that the agent replied to in ``week``, ascending."""
    start, end = week_bounds(week, workspace.time_zone)
    solved = live_tickets(workspace).filter(
        status__category__in=DONE_CATEGORIES, solved_at__gte=start, solved_at__lt=end
    )
    replies = (
        Message.objects.filter(
            Q(created_at__gte=start) & Q(created_at__lt=end),
            workspace_id=workspace.pk,
            kind=MessageKind.REPLY,
            author_agent__isnull=False,
            author_agent__role__in=WRITER_ROLES,
            author_agent__is_active=True,
            ticket__in=solved,
        )
        .values_list("author_agent_id", "ticket_id")
        .distinct()
    )
    found: dict[int, set[int]] = {}
    for agent_id, ticket_id in replies:
        found.setdefault(agent_id, set()).add(ticket_id)
    return {agent_id: sorted(ticket_ids) for agent_id, ticket_ids in sorted(found.items())}


def draw(workspace_id: int, week: dt.date, agent_id: int, ticket_ids: list[int], size: int) -> list[int]:
    """``size`` of ``ticket_ids`` (all when fewer), the same for the same arguments, in ascending order."""
    if size <= 0 or not ticket_ids:
        return []
    chosen = random.Random(sample_seed(workspace_id, week, agent_id)).sample(
        sorted(ticket_ids), min(size, len(ticket_ids))
    )
    return sorted(chosen)


def propose_sample(*, workspace: Workspace, week: dt.date) -> int:
    """Propose the sample of a week that is over (``week`` is a Monday); returns the rows added, 0 when the week was
    drawn already: a week is drawn once, so the sample never grows when the sample size changes later."""
    if week.weekday() != 0:
        raise ValidationFailed(_("A review week starts on a Monday."), field="week")
    if week > last_complete_week(workspace):
        raise ValidationFailed(_("A week is sampled once it is over."), field="week")
    scorecard = Scorecard.objects.filter(workspace=workspace, is_active=True).first()
    if scorecard is None or scorecard.sample_size == 0:
        return 0
    if ReviewAssignment.objects.filter(workspace=workspace, week=week).exists():
        return 0
    rows = [
        ReviewAssignment(workspace=workspace, week=week, agent_id=agent_id, ticket_id=ticket_id)
        for agent_id, ticket_ids in candidates(workspace, week).items()
        for ticket_id in draw(workspace.pk, week, agent_id, ticket_ids, scorecard.sample_size)
    ]
    # Two draws at once (the job and a reviewer's button): the unique constraint keeps one row of each.
    ReviewAssignment.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def last_complete_week(workspace: Workspace, now: dt.datetime | None = None) -> dt.date:
    return week_of(now or timezone.now(), workspace.time_zone) - dt.timedelta(days=7)


def propose_last_weeks_samples() -> int:
    """The periodic job: last week's sample for every workspace with an active scorecard (idempotent)."""
    added = 0
    for workspace in Workspace.objects.filter(
        pk__in=Scorecard.objects.filter(is_active=True, sample_size__gt=0).values("workspace_id")
    ):
        added += propose_sample(workspace=workspace, week=last_complete_week(workspace))
    return added
