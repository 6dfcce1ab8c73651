"""Scorecards, reviews and the weekly sample, through the services every page and the API call."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from deskloop.conftest import Cast
from deskloop.core.errors import Conflict, PermissionDenied, ValidationFailed
from deskloop.quality import queries, sampling
from deskloop.quality.models import Review, ReviewAssignment, ReviewScore, ScorecardCriterion
from deskloop.quality.services import (
    CriterionValues,
    ReviewValues,
    ScorecardSettings,
    remove_criterion,
    save_scorecard_settings,
    submit_review,
    update_criterion,
    weighted_score,
)
from deskloop.quality.tests.stories import UTC, scorecard_with_criteria, solved_conversation

MONDAY = dt.date(2026, 11, 2)


def test_the_score_is_the_weighted_mean_of_the_applicable_ratings_over_the_best_possible() -> None:
    # (4*1 + 2*3) / (4 * (1+3)) = 10/16 = 62.5%, rounded half up.
    assert weighted_score([(4, 1), (2, 3), (None, 5)]) == 63
    assert weighted_score([(4, 1), (4, 3)]) == 100
    assert weighted_score([(0, 2), (1, 2)]) == 13  # 2/16 = 12.5%
    assert weighted_score([(None, 1), (None, 3)]) is None


def test_a_review_scores_the_agents_part_with_the_weights_of_its_day(acme: Cast) -> None:
    _scorecard, (empathy, correctness, tone) = scorecard_with_criteria(acme)
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    ticket = solved_conversation(acme, acme.agent, replied_at=at, solved_at=at + dt.timedelta(hours=1))
    with time_machine.travel(dt.datetime(2026, 11, 10, 9, tzinfo=UTC), tick=False):
        review = submit_review(
            reviewer=acme.admin,
            ticket=ticket,
            values=ReviewValues(
                agent=acme.agent, ratings={empathy.pk: 4, correctness.pk: 2, tone.pk: None}, comment=" Kind, but wrong "
            ),
        )
    assert (review.score, review.comment, review.week) == (63, "Kind, but wrong", dt.date(2026, 11, 9))
    update_criterion(actor=acme.admin, criterion=correctness, values=CriterionValues(name="Correctness", weight=1))
    scores = sorted(ReviewScore.objects.filter(review=review).values_list("criterion__name", "rating", "weight"))
    assert scores == [("Correctness", 2, 3), ("Empathy", 4, 1), ("Tone", None, 1)]
    assert Review.objects.get(pk=review.pk).score == 63


def test_refused_reviews_change_nothing(acme: Cast) -> None:
    _scorecard, (empathy, correctness, tone) = scorecard_with_criteria(acme)
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    ticket = solved_conversation(acme, acme.agent, replied_at=at, solved_at=at)
    every = {empathy.pk: 3, correctness.pk: 3, tone.pk: 3}
    refusals = [
        (acme.agent, acme.agent, every, PermissionDenied),  # an agent not named a reviewer
        (acme.admin, acme.other_team_agent, every, ValidationFailed),  # never replied on this ticket
        (acme.admin, acme.agent, {empathy.pk: 3, correctness.pk: 3}, ValidationFailed),  # Tone not answered
        (acme.admin, acme.agent, {**every, tone.pk: 5}, ValidationFailed),  # out of 0-4
        (acme.admin, acme.agent, {**every, 999999: 1}, ValidationFailed),  # not on the scorecard
        (acme.admin, acme.agent, dict.fromkeys(every), ValidationFailed),  # nothing applies
    ]
    for reviewer, agent, ratings, error in refusals:
        with pytest.raises(error):
            submit_review(reviewer=reviewer, ticket=ticket, values=ReviewValues(agent=agent, ratings=ratings))
    assert Review.objects.count() == 0
    submit_review(reviewer=acme.admin, ticket=ticket, values=ReviewValues(agent=acme.agent, ratings=every))
    with pytest.raises(Conflict):
        submit_review(reviewer=acme.admin, ticket=ticket, values=ReviewValues(agent=acme.agent, ratings=every))
    assert Review.objects.count() == 1


def test_an_agent_named_reviewer_reviews_others_but_never_themselves(acme: Cast) -> None:
    scorecard, criteria = scorecard_with_criteria(acme)
    save_scorecard_settings(
        actor=acme.admin,
        settings=ScorecardSettings(name=scorecard.name, is_active=True, sample_size=2, reviewer_ids=(acme.agent.pk,)),
    )
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    ticket = solved_conversation(acme, acme.agent, replied_at=at, solved_at=at)
    ratings = {c.pk: 4 for c in criteria}
    with pytest.raises(ValidationFailed, match="your own"):
        submit_review(reviewer=acme.agent, ticket=ticket, values=ReviewValues(agent=acme.agent, ratings=ratings))
    other = solved_conversation(acme, acme.other_team_agent, replied_at=at, solved_at=at)
    review = submit_review(
        reviewer=acme.agent, ticket=other, values=ReviewValues(agent=acme.other_team_agent, ratings=ratings)
    )
    assert review.score == 100
    with pytest.raises(ValidationFailed):  # a light agent cannot be named
        save_scorecard_settings(
            actor=acme.admin,
            settings=ScorecardSettings(name="x", is_active=True, sample_size=2, reviewer_ids=(acme.light_agent.pk,)),
        )
    with pytest.raises(PermissionDenied):
        save_scorecard_settings(actor=acme.agent, settings=ScorecardSettings(name="x", is_active=True, sample_size=9))


def test_a_rated_criterion_is_archived_not_deleted(acme: Cast) -> None:
    _scorecard, (empathy, correctness, tone) = scorecard_with_criteria(acme)
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    ticket = solved_conversation(acme, acme.agent, replied_at=at, solved_at=at)
    submit_review(
        reviewer=acme.admin,
        ticket=ticket,
        values=ReviewValues(agent=acme.agent, ratings={empathy.pk: 1, correctness.pk: 1, tone.pk: 1}),
    )
    remove_criterion(actor=acme.admin, criterion=tone)
    remove_criterion(actor=acme.admin, criterion=empathy)
    assert list(ScorecardCriterion.objects.values_list("name", "is_archived")) == [
        ("Empathy", True),
        ("Correctness", False),
        ("Tone", True),
    ]
    assert [c.name for c in queries.live_criteria(acme.workspace.pk)] == ["Correctness"]


def _week_of_work(acme: Cast) -> dict[str, list[int]]:
    """Maria solves five tickets in the week of 2 November, Boris two; one more of Maria's is solved the next week
    and one was replied to the week before (neither is a candidate)."""
    made: dict[str, list[int]] = {"maria": [], "boris": [], "outside": []}
    for day in range(5):
        at = dt.datetime(2026, 11, 2 + day, 10, tzinfo=UTC)
        made["maria"].append(solved_conversation(acme, acme.agent, replied_at=at, solved_at=at).pk)
    for day in (1, 3):
        at = dt.datetime(2026, 11, 2 + day, 15, tzinfo=UTC)
        made["boris"].append(solved_conversation(acme, acme.other_team_agent, replied_at=at, solved_at=at).pk)
    sunday_night = dt.datetime(2026, 11, 8, 23, 30, tzinfo=UTC)
    made["outside"].append(
        solved_conversation(
            acme, acme.agent, replied_at=sunday_night, solved_at=sunday_night + dt.timedelta(hours=1)
        ).pk
    )
    made["outside"].append(
        solved_conversation(
            acme,
            acme.agent,
            replied_at=dt.datetime(2026, 11, 1, 12, tzinfo=UTC),
            solved_at=dt.datetime(2026, 11, 2, 9, tzinfo=UTC),
        ).pk
    )
    return made


def test_the_weekly_sample_is_n_per_agent_from_that_weeks_solved_conversations_and_reproducible(acme: Cast) -> None:
    scorecard_with_criteria(acme, sample_size=2)
    made = _week_of_work(acme)
    with time_machine.travel(dt.datetime(2026, 11, 10, 8, tzinfo=UTC), tick=False):
        assert sampling.propose_sample(workspace=acme.workspace, week=MONDAY) == 4
        assert sampling.propose_sample(workspace=acme.workspace, week=MONDAY) == 0
    rows = list(ReviewAssignment.objects.values_list("agent_id", "ticket_id"))
    maria = sorted(t for a, t in rows if a == acme.agent.pk)
    boris = sorted(t for a, t in rows if a == acme.other_team_agent.pk)
    assert len(maria) == 2
    assert set(maria) <= set(made["maria"])
    assert boris == sorted(made["boris"])
    # The same seed draws the same conversations again, and they are exactly the seeded draw.
    assert maria == sampling.draw(acme.workspace.pk, MONDAY, acme.agent.pk, made["maria"], 2)
    ReviewAssignment.objects.all().delete()
    with time_machine.travel(dt.datetime(2026, 11, 12, 8, tzinfo=UTC), tick=False):
        assert sampling.propose_sample(workspace=acme.workspace, week=MONDAY) == 4
    assert sorted(ReviewAssignment.objects.filter(agent=acme.agent).values_list("ticket_id", flat=True)) == maria


def test_the_sample_is_seeded_by_workspace_and_week() -> None:
    tickets = list(range(1, 101))
    first = sampling.draw(1, MONDAY, 7, tickets, 5)
    # sha256("quality-sample:1:2026-11-02:7") seeds Python's Mersenne Twister: the same on every machine.
    assert first == [3, 35, 36, 82, 88]
    assert first == sampling.draw(1, MONDAY, 7, list(reversed(tickets)), 5)
    assert first != sampling.draw(2, MONDAY, 7, tickets, 5)
    assert first != sampling.draw(1, MONDAY + dt.timedelta(days=7), 7, tickets, 5)


def test_a_week_not_over_is_not_sampled_and_the_job_samples_last_week(acme: Cast) -> None:
    scorecard_with_criteria(acme, sample_size=1)
    _week_of_work(acme)
    with time_machine.travel(dt.datetime(2026, 11, 8, 22, tzinfo=UTC), tick=False), pytest.raises(ValidationFailed):
        sampling.propose_sample(workspace=acme.workspace, week=MONDAY)
    with time_machine.travel(dt.datetime(2026, 11, 9, 0, 1, tzinfo=UTC), tick=False):
        assert sampling.propose_last_weeks_samples() == 2
        assert sampling.propose_last_weeks_samples() == 0
    assert set(ReviewAssignment.objects.values_list("week", flat=True)) == {MONDAY}


def test_reviewing_a_proposed_conversation_fills_its_row_and_counts_for_its_week(acme: Cast) -> None:
    _scorecard, criteria = scorecard_with_criteria(acme, sample_size=1)
    _week_of_work(acme)
    with time_machine.travel(dt.datetime(2026, 11, 20, 8, tzinfo=UTC), tick=False):
        sampling.propose_sample(workspace=acme.workspace, week=MONDAY)
        proposed = ReviewAssignment.objects.get(agent=acme.agent)
        review = submit_review(
            reviewer=acme.owner,
            ticket=proposed.ticket,
            values=ReviewValues(agent=acme.agent, ratings={c.pk: 3 for c in criteria}),
        )
    proposed.refresh_from_db()
    assert (proposed.review_id, proposed.reviewer_id, review.week, review.score) == (
        review.pk,
        acme.owner.pk,
        MONDAY,
        75,
    )


def test_quality_by_agent_averages_the_reviews_written_in_the_range(acme: Cast) -> None:
    _scorecard, (empathy, correctness, tone) = scorecard_with_criteria(acme)
    save_scorecard_settings(
        actor=acme.admin,
        settings=ScorecardSettings(name="Q", is_active=True, sample_size=2, reviewer_ids=(acme.agent.pk,)),
    )
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    maria = [solved_conversation(acme, acme.agent, replied_at=at, solved_at=at) for _ in range(2)]
    boris = solved_conversation(acme, acme.other_team_agent, replied_at=at, solved_at=at)

    def review(reviewer: object, ticket: object, agent: object, rating: int, when: dt.datetime) -> None:
        with time_machine.travel(when, tick=False):
            submit_review(
                reviewer=reviewer,  # type: ignore[arg-type]
                ticket=ticket,  # type: ignore[arg-type]
                values=ReviewValues(agent=agent, ratings=dict.fromkeys((empathy.pk, correctness.pk, tone.pk), rating)),  # type: ignore[arg-type]
            )

    review(acme.admin, maria[0], acme.agent, 4, dt.datetime(2026, 11, 5, 12, tzinfo=UTC))  # 100
    review(acme.owner, maria[0], acme.agent, 1, dt.datetime(2026, 11, 6, 12, tzinfo=UTC))  # 25
    review(acme.admin, maria[1], acme.agent, 3, dt.datetime(2026, 11, 6, 12, tzinfo=UTC))  # 75
    review(acme.agent, boris, acme.other_team_agent, 2, dt.datetime(2026, 11, 30, 23, 59, tzinfo=UTC))  # 50
    assert queries.quality_by_agent(acme.workspace.pk, dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == {
        acme.agent.pk: (66.7, 3),
        acme.other_team_agent.pk: (50.0, 1),
    }
    assert queries.quality_by_agent(acme.workspace.pk, dt.date(2026, 11, 6), dt.date(2026, 11, 29)) == {
        acme.agent.pk: (50.0, 2)
    }
    since = dt.datetime(2026, 11, 5, 12, tzinfo=UTC)
    assert queries.quality_by_agent(acme.workspace.pk, since, since + dt.timedelta(seconds=1)) == {
        acme.agent.pk: (100.0, 1)
    }


def test_the_sample_week_runs_monday_to_sunday_in_the_workspaces_time_zone(acme: Cast) -> None:
    """Madrid is UTC+1 in November: Sunday 23:30 there is 22:30 UTC (this week); Monday 00:30 there is Sunday 23:30
    UTC (next week), and Monday 00:30 UTC of 2 November is Monday 01:30 there (this week)."""
    acme.workspace.time_zone = "Europe/Madrid"
    acme.workspace.save(update_fields=["time_zone"])
    scorecard_with_criteria(acme, sample_size=10)
    inside_late = dt.datetime(2026, 11, 8, 22, 30, tzinfo=UTC)
    outside = dt.datetime(2026, 11, 8, 23, 30, tzinfo=UTC)
    inside_early = dt.datetime(2026, 11, 2, 0, 30, tzinfo=UTC)
    before = dt.datetime(2026, 11, 1, 22, 59, tzinfo=UTC)  # Sunday 23:59 in Madrid: the week before
    made = {
        name: solved_conversation(acme, acme.agent, replied_at=at, solved_at=at).pk
        for name, at in (("late", inside_late), ("outside", outside), ("early", inside_early), ("before", before))
    }
    assert sampling.candidates(acme.workspace, MONDAY) == {acme.agent.pk: sorted([made["late"], made["early"]])}
