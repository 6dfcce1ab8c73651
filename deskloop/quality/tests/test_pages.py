"""The quality pages from the browser's side of HTTP: the reviewer's queue and its weekly sample, the review form on
the ticket page, "My reviews", and the scorecard settings."""

from __future__ import annotations

import datetime as dt
import re

import time_machine

from deskloop.conftest import Cast, signed_in_client
from deskloop.quality.models import Review, ReviewAssignment, ScorecardCriterion
from deskloop.quality.services import ScorecardSettings, save_scorecard_settings
from deskloop.quality.tests.stories import UTC, scorecard_with_criteria, solved_conversation

MONDAY = "2026-11-02"
AFTER_THE_WEEK = dt.datetime(2026, 11, 10, 9, tzinfo=UTC)


def _ratings(criteria: list[ScorecardCriterion], *values: str) -> dict[str, str]:
    return {f"criterion_{c.pk}": value for c, value in zip(criteria, values, strict=True)}


def test_a_reviewer_draws_the_sample_scores_a_conversation_and_the_agent_sees_it(acme: Cast) -> None:
    _scorecard, criteria = scorecard_with_criteria(acme, sample_size=1)
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    ticket = solved_conversation(acme, acme.agent, replied_at=at, solved_at=at, subject="Refund never arrived")
    admin = signed_in_client(acme.admin)
    with time_machine.travel(AFTER_THE_WEEK, tick=False):
        queue = admin.get("/quality/")
        assert queue.status_code == 200
        assert f'data-queue-week="{MONDAY}"' in queue.content.decode()
        assert "data-draw-sample" in queue.content.decode()
        drawn = admin.post("/quality/draw/", {"week": MONDAY})
        assert drawn.status_code == 302
        queue = admin.get("/quality/", {"week": MONDAY}).content.decode()
        assert f'data-proposed-ticket="{ticket.number}"' in queue
        page = admin.get(f"/tickets/{ticket.number}/").content.decode()
        assert "Review this conversation" in page
        assert "data-quality-review-form" in page
        saved = admin.post(
            f"/quality/tickets/{ticket.number}/review/",
            {
                "agent": acme.agent.pk,
                **_ratings(criteria, "4", "2", "na"),
                "comment": "Kind, but the steps were wrong.",
            },
        )
    assert saved.status_code == 302
    assert saved["Location"] == f"/tickets/{ticket.number}/"
    review = Review.objects.get()
    assert (review.agent_id, review.reviewer_id, review.score, review.week) == (
        acme.agent.pk,
        acme.admin.pk,
        63,
        dt.date(2026, 11, 2),
    )
    assert ReviewAssignment.objects.get().review_id == review.pk
    queue = admin.get("/quality/", {"week": MONDAY}).content.decode()
    assert "<strong>63%</strong>" in queue
    mine = signed_in_client(acme.agent).get("/quality/mine/").content.decode()
    assert "Refund never arrived" in mine
    assert "Kind, but the steps were wrong." in mine
    assert "Average score 63.0% over 1 review." in mine
    assert re.search(r"<td>Correctness</td><td class=\"num\">2 / 4</td><td class=\"num\">3</td>", mine)
    assert "Reviews of your replies" in signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/").content.decode()
    # Boris's own reviews page does not show Maria's.
    assert "Refund never arrived" not in signed_in_client(acme.other_team_agent).get("/quality/mine/").content.decode()


def test_bad_reviews_are_refused_with_the_reason_and_store_nothing(acme: Cast) -> None:
    _scorecard, criteria = scorecard_with_criteria(acme)
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    ticket = solved_conversation(acme, acme.agent, replied_at=at, solved_at=at)
    admin = signed_in_client(acme.admin)
    url = f"/quality/tickets/{ticket.number}/review/"
    missing = admin.post(url, {"agent": acme.agent.pk, **_ratings(criteria[:2], "3", "3")})
    assert missing.status_code == 400
    assert "This field is required." in missing.content.decode()
    out_of_range = admin.post(url, {"agent": acme.agent.pk, **_ratings(criteria, "3", "9", "3")})
    assert out_of_range.status_code == 400
    not_in_it = admin.post(url, {"agent": acme.other_team_agent.pk, **_ratings(criteria, "3", "3", "3")})
    assert not_in_it.status_code == 400
    nothing = admin.post(url, {"agent": acme.agent.pk, **_ratings(criteria, "na", "na", "na")})
    assert nothing.status_code == 422
    assert "Rate at least one criterion." in nothing.content.decode()
    assert Review.objects.count() == 0
    assert admin.post(url, {"agent": acme.agent.pk, **_ratings(criteria, "3", "3", "3")}).status_code == 302
    again = admin.post(url, {"agent": acme.agent.pk, **_ratings(criteria, "1", "1", "1")})
    assert again.status_code == 409
    assert "You have already reviewed this conversation." in again.content.decode()
    assert list(Review.objects.values_list("score", flat=True)) == [75]


def test_agents_who_are_not_reviewers_cannot_review_and_see_only_their_own(acme: Cast) -> None:
    _scorecard, criteria = scorecard_with_criteria(acme)
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    ticket = solved_conversation(acme, acme.other_team_agent, replied_at=at, solved_at=at)
    maria = signed_in_client(acme.agent)
    assert maria.get("/quality/")["Location"] == "/quality/mine/"
    assert "data-quality-review-form" not in maria.get(f"/tickets/{ticket.number}/").content.decode()
    refused = maria.post(
        f"/quality/tickets/{ticket.number}/review/",
        {"agent": acme.other_team_agent.pk, **_ratings(criteria, "0", "0", "0")},
    )
    assert refused.status_code == 403
    assert Review.objects.count() == 0
    # Named a reviewer, Maria reviews Boris.
    save_scorecard_settings(
        actor=acme.admin,
        settings=ScorecardSettings(name="Q", is_active=True, sample_size=3, reviewer_ids=(acme.agent.pk,)),
    )
    assert maria.get("/quality/").status_code == 200
    assert "data-quality-review-form" in maria.get(f"/tickets/{ticket.number}/").content.decode()
    saved = maria.post(
        f"/quality/tickets/{ticket.number}/review/",
        {"agent": acme.other_team_agent.pk, **_ratings(criteria, "4", "4", "4")},
    )
    assert saved.status_code == 302
    assert list(Review.objects.values_list("reviewer_id", "score")) == [(acme.agent.pk, 100)]


def test_an_admin_edits_the_scorecard_and_agents_may_not(acme: Cast) -> None:
    admin = signed_in_client(acme.admin)
    page = admin.get("/quality/settings/")
    assert page.status_code == 200
    assert "No criteria yet." in page.content.decode()
    assert admin.post("/quality/settings/criteria/", {"name": "Empathy", "weight": "1"}).status_code == 302
    assert admin.post("/quality/settings/criteria/", {"name": "Correctness", "weight": "3"}).status_code == 302
    bad = admin.post("/quality/settings/criteria/", {"name": "Tone", "weight": "0"})
    assert bad.status_code == 400
    settings = admin.get("/quality/settings/").content.decode()
    assert re.search(r'data-criterion="Correctness">.*?<td class="num">3</td><td class="num">75%</td>', settings, re.S)
    correctness = ScorecardCriterion.objects.get(name="Correctness")
    assert (
        admin.post(f"/quality/settings/criteria/{correctness.pk}/", {"name": "Accuracy", "weight": "2"}).status_code
        == 302
    )
    saved = admin.post(
        "/quality/settings/",
        {"name": "Support QA", "is_active": "on", "sample_size": "5", "reviewers": [str(acme.agent.pk)]},
    )
    assert saved.status_code == 302
    too_many = admin.post("/quality/settings/", {"name": "Support QA", "is_active": "on", "sample_size": "500"})
    assert too_many.status_code == 400
    foreign_reviewer = admin.post(
        "/quality/settings/", {"name": "Support QA", "sample_size": "2", "reviewers": [str(acme.viewer.pk)]}
    )
    assert foreign_reviewer.status_code == 400
    assert list(ScorecardCriterion.objects.values_list("name", "weight")) == [("Empathy", 1), ("Accuracy", 2)]
    scorecard = ScorecardCriterion.objects.get(name="Empathy").scorecard
    assert (scorecard.name, scorecard.sample_size, list(scorecard.reviewers.all())) == ("Support QA", 5, [acme.agent])
    assert admin.post(f"/quality/settings/criteria/{correctness.pk}/remove/").status_code == 302
    assert list(ScorecardCriterion.objects.values_list("name", flat=True)) == ["Empathy"]
    maria = signed_in_client(acme.agent)
    assert maria.get("/quality/settings/").status_code == 403
    assert maria.post("/quality/settings/criteria/", {"name": "Speed", "weight": "1"}).status_code == 403
    assert ScorecardCriterion.objects.count() == 1


def test_a_bad_week_in_the_url_is_a_clear_400(acme: Cast) -> None:
    scorecard_with_criteria(acme)
    response = signed_in_client(acme.admin).get("/quality/", {"week": "last-tuesday"})
    assert response.status_code == 400
    assert "“last-tuesday” is not a date (YYYY-MM-DD)." in response.content.decode()


def test_scores_by_agent_take_their_range_from_the_url(acme: Cast) -> None:
    _scorecard, criteria = scorecard_with_criteria(acme)
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    admin = signed_in_client(acme.admin)
    for day, rating in ((5, "4"), (6, "2")):
        ticket = solved_conversation(acme, acme.agent, replied_at=at, solved_at=at)
        with time_machine.travel(dt.datetime(2026, 11, day, 12, tzinfo=UTC), tick=False):
            admin.post(
                f"/quality/tickets/{ticket.number}/review/",
                {"agent": acme.agent.pk, **_ratings(criteria, rating, rating, rating)},
            )
    with time_machine.travel(dt.datetime(2026, 11, 6, 18, tzinfo=UTC), tick=False):
        both = admin.get("/quality/agents/").content.decode()
    assert (
        f'<tr data-agent-score="{acme.agent.pk}"><td>Maria Agent</td><td class="num">75.0%</td><td class="num">2</td>'
        in both
    )
    first = admin.get("/quality/agents/", {"since": "2026-11-05", "until": "2026-11-05"}).content.decode()
    assert '<td class="num">100.0%</td><td class="num">1</td>' in first
    backwards = admin.get("/quality/agents/", {"since": "2026-11-06", "until": "2026-11-05"})
    assert backwards.status_code == 400
    assert "“From” is after “To”." in backwards.content.decode()
    assert signed_in_client(acme.agent).get("/quality/agents/")["Location"] == "/quality/mine/"


def test_the_reviewer_corrects_their_review_and_nobody_else_can(acme: Cast) -> None:
    _scorecard, criteria = scorecard_with_criteria(acme)
    at = dt.datetime(2026, 11, 4, 10, tzinfo=UTC)
    ticket = solved_conversation(acme, acme.agent, replied_at=at, solved_at=at)
    admin = signed_in_client(acme.admin)
    admin.post(
        f"/quality/tickets/{ticket.number}/review/",
        {"agent": acme.agent.pk, **_ratings(criteria, "4", "2", "na"), "comment": "Check the steps."},
    )
    review = Review.objects.get()
    url = f"/quality/reviews/{review.pk}/"
    page = admin.get(url).content.decode()
    assert "data-review-edit-form" in page
    assert '<option value="na" selected>Not applicable</option>' in page
    # Maria reads her review but cannot change it; the owner, a reviewer, did not write it; Boris does not see it.
    maria = signed_in_client(acme.agent)
    assert "data-review-edit-form" not in maria.get(url).content.decode()
    assert maria.post(url, _ratings(criteria, "4", "4", "4")).status_code == 403
    assert signed_in_client(acme.owner).post(url, _ratings(criteria, "4", "4", "4")).status_code == 403
    assert signed_in_client(acme.other_team_agent).get(url).status_code == 404
    assert admin.post(url, _ratings(criteria, "4", "7", "4")).status_code == 400
    assert Review.objects.get().score == 63
    corrected = admin.post(url, {**_ratings(criteria, "4", "4", "3"), "comment": "All good after all."})
    assert corrected.status_code == 302
    review.refresh_from_db()
    # (4*1 + 4*3 + 3*1) / (4*5) = 19/20.
    assert (review.score, review.comment, review.agent_id, review.updated_at is not None) == (
        95,
        "All good after all.",
        acme.agent.pk,
        True,
    )
