"""The demo's conversation quality reviews: a scorecard with weighted criteria, Grace named a reviewer beside the
admins, and six weeks of samples mostly reviewed (last week's half done, so the review queue has work), so the
queue, "My reviews", the scores by agent and the agent performance report show real figures on first run.

The scorecard and each review go through the real services; a review is history, so it is then dated a few days
after its week (the service stamps "now"), as the ticket history is (seed._backdate).
"""

from __future__ import annotations

import datetime as dt
import random

from deskloop.accounts.models import ADMIN_ROLES, Agent, Workspace
from deskloop.quality.models import Review, ReviewAssignment
from deskloop.quality.sampling import last_complete_week, propose_sample
from deskloop.quality.services import (
    CriterionValues,
    ReviewValues,
    ScorecardSettings,
    add_criterion,
    save_scorecard_settings,
    submit_review,
    weighted_score,
)

WEEKS = 6
CRITERIA = [
    ("Greeting and tone", "Friendly, personal, in the customer's language.", 1),
    ("Understood the problem", "Asked what was missing instead of guessing.", 2),
    ("Correct and complete answer", "The fix or the steps were right, nothing left out.", 3),
    ("Clear next steps", "The customer knows what happens next and when.", 1),
    ("Ticket kept tidy", "Product area, request type and tags set.", 1),
]
# How each agent tends to do, added to a "good" rating, so the scores by agent differ believably.
LEAN = {"lucia": 0.6, "sam": 0.2, "grace": 0.0, "dmitry": -0.6}
COMMENTS = {
    "low": [
        "The steps were for the old export screen; check the article before answering.",
        "The customer had to ask twice what happens next.",
    ],
    "mid": ["Right answer, but say when you will follow up.", "Good, set the product area next time."],
    "high": ["Clear, kind and complete. Nice work.", "Exactly what the customer needed.", ""],
}


def _rating(rng: random.Random, lean: float) -> int | None:
    if rng.random() < 0.08:
        return None  # not applicable to this conversation
    return max(0, min(4, round(rng.gauss(3.0 + lean, 0.8))))


def _comment(rng: random.Random, score: int) -> str:
    return rng.choice(COMMENTS["low" if score < 60 else "mid" if score < 85 else "high"])


def seed_quality(*, workspace: Workspace, agents: dict[str, Agent], now: dt.datetime) -> int:
    """Set up the scorecard, draw the last weeks' samples and review them; returns how many reviews."""
    rng = random.Random(12)
    admin = next(agent for agent in agents.values() if agent.role == "admin")
    reviewer_agent = agents.get("grace")
    save_scorecard_settings(
        actor=admin,
        settings=ScorecardSettings(
            name="Support quality",
            is_active=True,
            sample_size=3,
            reviewer_ids=(reviewer_agent.pk,) if reviewer_agent else (),
        ),
    )
    criteria = [
        add_criterion(actor=admin, values=CriterionValues(name=name, description=description, weight=weight))
        for name, description, weight in CRITERIA
    ]
    reviewers = [a for a in agents.values() if a.role in ADMIN_ROLES] + ([reviewer_agent] if reviewer_agent else [])
    key_of = {agent.pk: key for key, agent in agents.items()}
    last = last_complete_week(workspace, now)
    written = 0
    done: set[tuple[int, int]] = set()
    for back in range(WEEKS - 1, -1, -1):
        week = last - dt.timedelta(weeks=back)
        propose_sample(workspace=workspace, week=week)
        proposed = ReviewAssignment.objects.filter(workspace=workspace, week=week).select_related("ticket", "agent")
        for row in proposed:
            if back == 0 and rng.random() < 0.5:
                continue  # last week's sample is half done: the queue has work waiting
            # A ticket two agents replied to is in both samples; each reviewer reviews a ticket once.
            free = [r for r in reviewers if r.pk != row.agent_id and (row.ticket_id, r.pk) not in done]
            if not free:
                continue
            reviewer = rng.choice(free)
            lean = LEAN.get(key_of.get(row.agent_id, ""), 0.0)
            ratings = {c.pk: _rating(rng, lean) for c in criteria}
            if all(value is None for value in ratings.values()):
                ratings[criteria[2].pk] = 3
            score = weighted_score((ratings[c.pk], c.weight) for c in criteria) or 0
            review = submit_review(
                reviewer=reviewer,
                ticket=row.ticket,
                values=ReviewValues(agent=row.agent, ratings=ratings, comment=_comment(rng, score)),
            )
            done.add((row.ticket_id, reviewer.pk))
            day_after = week + dt.timedelta(days=8 + rng.randrange(3))
            written_at = min(dt.datetime.combine(day_after, dt.time(9 + rng.randrange(8)), dt.UTC), now)
            Review.objects.filter(pk=review.pk).update(created_at=written_at)
            written += 1
    return written
