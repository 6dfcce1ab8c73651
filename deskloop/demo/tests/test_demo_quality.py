"""The demo's quality reviews: the queue, the scores by agent and "My reviews" show real figures on first run."""

from __future__ import annotations

import datetime as dt

import time_machine

from deskloop.accounts.models import Agent
from deskloop.conftest import signed_in_client
from deskloop.demo.seed import seed_demo
from deskloop.quality.models import Review, ReviewAssignment
from deskloop.quality.queries import quality_by_agent

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


def test_the_demo_has_six_weeks_of_reviewed_samples_and_work_waiting(db: None) -> None:
    with time_machine.travel(NOW, tick=False):
        workspace = seed_demo(tickets=120).workspace
        reviews = Review.objects.filter(workspace=workspace)
        assert reviews.count() >= 15
        assert reviews.filter(created_at__gt=NOW).count() == 0
        weeks = set(ReviewAssignment.objects.filter(workspace=workspace).values_list("week", flat=True))
        assert dt.date(2025, 5, 26) in weeks
        assert len(weeks) >= 4
        waiting = ReviewAssignment.objects.filter(workspace=workspace, week=dt.date(2025, 5, 26), review__isnull=True)
        assert waiting.exists()
        figures = quality_by_agent(workspace.pk, NOW.date() - dt.timedelta(days=60), NOW.date())
        assert len(figures) >= 3
        assert all(0 <= mean <= 100 and n > 0 for mean, n in figures.values())
        owner = Agent.objects.get(workspace=workspace, role="owner")
        queue = signed_in_client(owner).get("/quality/")
        first = reviews.order_by("id").first()
        assert first is not None
        reviewed = first.agent
        mine = signed_in_client(reviewed).get("/quality/mine/")
    assert queue.status_code == 200
    assert "data-proposed-ticket" in queue.content.decode()
    assert "data-my-review" in mine.content.decode()
