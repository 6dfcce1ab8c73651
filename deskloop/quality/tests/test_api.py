"""GET /api/v1/quality/reviews: filters, who sees which reviews, bad input."""

from __future__ import annotations

import datetime as dt
import json

import time_machine

from deskloop.conftest import Cast, api_client, problem_body
from deskloop.quality.services import ReviewValues, ScorecardSettings, save_scorecard_settings, submit_review
from deskloop.quality.tests.stories import UTC, scorecard_with_criteria, solved_conversation


def _reviewed(acme: Cast) -> None:
    """Adam reviews Maria on 5 November (100) and 20 November (50); Maria, named reviewer, reviews Boris (75)."""
    _scorecard, criteria = scorecard_with_criteria(acme)
    save_scorecard_settings(
        actor=acme.admin,
        settings=ScorecardSettings(name="Q", is_active=True, sample_size=2, reviewer_ids=(acme.agent.pk,)),
    )
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    for when, reviewer, agent, rating in (
        (dt.datetime(2026, 11, 5, 9, tzinfo=UTC), acme.admin, acme.agent, 4),
        (dt.datetime(2026, 11, 20, 9, tzinfo=UTC), acme.admin, acme.agent, 2),
        (dt.datetime(2026, 11, 21, 9, tzinfo=UTC), acme.agent, acme.other_team_agent, 3),
    ):
        ticket = solved_conversation(acme, agent, replied_at=at, solved_at=at)
        with time_machine.travel(when, tick=False):
            submit_review(
                reviewer=reviewer,
                ticket=ticket,
                values=ReviewValues(agent=agent, ratings=dict.fromkeys((c.pk for c in criteria), rating), comment="ok"),
            )


def _items(response: object) -> list[tuple[int, int]]:
    body = json.loads(response.content)  # type: ignore[attr-defined]
    return [(item["agent_id"], item["score"]) for item in body["items"]]


def test_reviewers_list_the_workspaces_reviews_with_filters(acme: Cast) -> None:
    _reviewed(acme)
    owner = api_client(acme.owner)
    response = owner.get("/api/v1/quality/reviews")
    assert response.status_code == 200
    assert _items(response) == [(acme.agent.pk, 100), (acme.agent.pk, 50), (acme.other_team_agent.pk, 75)]
    first = json.loads(response.content)["items"][0]
    assert first["week"] == "2026-11-02"
    assert [(s["criterion"], s["rating"], s["weight"]) for s in first["scores"]] == [
        ("Empathy", 4, 1),
        ("Correctness", 4, 3),
        ("Tone", 4, 1),
    ]
    by_agent = owner.get("/api/v1/quality/reviews", {"agent_id": acme.agent.pk, "since": "2026-11-06"})
    assert _items(by_agent) == [(acme.agent.pk, 50)]
    until = owner.get("/api/v1/quality/reviews", {"until": "2026-11-20"})
    assert _items(until) == [(acme.agent.pk, 100), (acme.agent.pk, 50)]


def test_an_agent_who_is_not_a_reviewer_reads_only_their_own(acme: Cast) -> None:
    _reviewed(acme)
    boris = api_client(acme.other_team_agent)
    assert _items(boris.get("/api/v1/quality/reviews")) == [(acme.other_team_agent.pk, 75)]
    assert _items(boris.get("/api/v1/quality/reviews", {"agent_id": acme.agent.pk})) == []


def test_bad_filters_are_422(acme: Cast, umbrella: Cast) -> None:
    _reviewed(acme)
    owner = api_client(acme.owner)
    backwards = owner.get("/api/v1/quality/reviews", {"since": "2026-11-30", "until": "2026-11-01"})
    assert backwards.status_code == 422
    assert problem_body(backwards)["detail"] == "“since” is after “until”."
    foreign = owner.get("/api/v1/quality/reviews", {"agent_id": umbrella.agent.pk})
    assert foreign.status_code == 422
    assert owner.get("/api/v1/quality/reviews", {"since": "yesterday"}).status_code == 422
