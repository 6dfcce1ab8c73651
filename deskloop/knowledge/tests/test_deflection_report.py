"""The deflection report as an agent reads it (the page, its drill-downs, the CSV) and as a script reads it (the
API), on constructed sessions whose figures are known by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from deskloop.conftest import Cast, api_client, problem_body, signed_in_client
from deskloop.knowledge.models import (
    Article,
    ArticleFeedback,
    RequestChannel,
    RequestEvent,
    RequestEventKind,
    RequestOutcome,
    RequestSession,
)
from deskloop.knowledge.services.articles import create_article

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
RANGE = "from=2026-03-01&to=2026-03-20"


@pytest.fixture(autouse=True)
def frozen_clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def made(
    cast: Cast,
    count: int,
    outcome: str,
    *,
    holdout: bool = False,
    channel: str = RequestChannel.WIDGET,
    started: dt.datetime = NOW - 10 * DAY,
) -> list[RequestSession]:
    return RequestSession.objects.bulk_create(
        RequestSession(
            workspace=cast.workspace,
            channel=channel,
            outcome=outcome,
            in_holdout=holdout,
            started_at=started,
            last_event_at=started,
        )
        for _ in range(count)
    )


def step(
    session: RequestSession,
    kind: str,
    *,
    query: str = "",
    shown: list[int] | None = None,
    article: Article | None = None,
) -> None:
    RequestEvent.objects.create(
        workspace_id=session.workspace_id,
        session=session,
        kind=kind,
        query=query,
        suggested_article_ids=shown or [],
        article=article,
        created_at=session.started_at,
    )


@pytest.fixture
def experiment(acme: Cast, umbrella: Cast) -> Cast:
    """Acme: 100 judged sessions with suggestions (30 verified deflections) and 20 in the holdout (2); beside them
    sessions that must not move the rates: pending, ended before any suggestion, before the range, in Umbrella."""
    made(acme, 30, RequestOutcome.VERIFIED_DEFLECTION)
    made(acme, 60, RequestOutcome.SUBMITTED)
    made(acme, 10, RequestOutcome.RETURNED)
    made(acme, 2, RequestOutcome.VERIFIED_DEFLECTION, holdout=True)
    made(acme, 18, RequestOutcome.SUBMITTED, holdout=True)
    made(acme, 5, RequestOutcome.LEFT_AFTER_SUGGESTION)
    made(acme, 4, RequestOutcome.SOLVED_BY_ARTICLE)
    made(acme, 3, RequestOutcome.LEFT_BEFORE_SUGGESTION, holdout=True)
    made(acme, 40, RequestOutcome.SUBMITTED, started=NOW - 40 * DAY)
    made(umbrella, 50, RequestOutcome.VERIFIED_DEFLECTION)
    made(umbrella, 7, RequestOutcome.SUBMITTED, holdout=True)
    return acme


def text_of(html: bytes) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.decode()).split())


def test_the_page_shows_each_arm_the_difference_and_the_requests_saved(experiment: Cast) -> None:
    response = signed_in_client(experiment.viewer).get(f"/knowledge/deflection/?{RANGE}")
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.suggestions.sessions, report.suggestions.judged, report.suggestions.deflected) == (109, 100, 30)
    assert (report.suggestions.pending, report.holdout.not_exposed) == (9, 3)
    assert (report.holdout.sessions, report.holdout.judged, report.holdout.deflected) == (23, 20, 2)
    text = text_of(response.content)
    assert "Suggestions shown 109 100 30 70 9 0 30.0% (21.9% – 39.6%)" in text
    assert "Holdout (no suggestions) 23 20 2 18 0 3 10.0% (2.8% – 30.1%)" in text
    assert "Difference (suggestions minus holdout) 20.0% (95% interval -1.7% to 32.0%)" in text
    assert "Requests saved 20.0 (95% interval -1.7 to 32.0)" in text
    assert "The interval includes zero" in text


def test_the_api_answers_the_same_figures(experiment: Cast) -> None:
    response = api_client(experiment.viewer).get(f"/api/v1/knowledge/deflection?{RANGE}&channel=widget")
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert (body["from"], body["to"], body["channel"], body["window_hours"]) == (
        "2026-03-01",
        "2026-03-20",
        "widget",
        72,
    )
    suggestions, holdout = body["suggestions"], body["holdout"]
    assert (suggestions["judged"], suggestions["verified_deflections"], suggestions["wrote"]) == (100, 30, 70)
    assert (holdout["judged"], holdout["verified_deflections"], holdout["left_before_suggestion"]) == (20, 2, 3)

    def rounded(interval: dict[str, float], places: int = 3) -> list[float]:
        return [round(interval[k], places) for k in ("estimate", "low", "high")]

    assert rounded(suggestions["rate"]) == [0.3, 0.219, 0.396]
    assert rounded(holdout["rate"]) == [0.1, 0.028, 0.301]
    assert rounded(body["difference"]) == [0.2, -0.017, 0.32]
    assert rounded(body["requests_saved"], 1) == [20.0, -1.7, 32.0]


def test_a_channel_and_the_range_narrow_the_sessions(experiment: Cast) -> None:
    made(experiment, 6, RequestOutcome.VERIFIED_DEFLECTION, channel=RequestChannel.PORTAL)
    client = api_client(experiment.agent)
    portal = json.loads(client.get(f"/api/v1/knowledge/deflection?{RANGE}&channel=portal").content)
    assert (portal["suggestions"]["judged"], portal["holdout"]["judged"], portal["difference"]) == (6, 0, None)
    everything = json.loads(client.get("/api/v1/knowledge/deflection?from=2026-01-01").content)
    assert everything["suggestions"]["judged"] == 146
    assert everything["to"] == "2026-03-20"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-13-01", "from"),
        ("from=2026-03-10&to=2026-03-01", "from"),
        ("channel=fax", "channel"),
        ("from=2026-01-01&to=9999-12-31", "to"),
    ],
)
def test_a_bad_range_is_refused_clearly(experiment: Cast, query: str, field: str) -> None:
    page = signed_in_client(experiment.agent).get(f"/knowledge/deflection/?{query}")
    assert page.status_code == 422
    assert page.context["error"]
    problem = problem_body(api_client(experiment.agent).get(f"/api/v1/knowledge/deflection?{query}"))
    assert problem["status"] == 422
    assert field in json.dumps(problem)


def test_searches_with_no_answer_are_grouped_and_lead_to_their_sessions(acme: Cast) -> None:
    first, second, third = made(acme, 3, RequestOutcome.SUBMITTED)
    (held,) = made(acme, 1, RequestOutcome.SUBMITTED, holdout=True)
    step(first, RequestEventKind.SEARCHED, query="Reset PASSWORD")
    step(second, RequestEventKind.SUGGESTIONS_SHOWN, query="reset password")
    step(second, RequestEventKind.SUGGESTIONS_SHOWN, query="reset password")
    step(third, RequestEventKind.SUGGESTIONS_SHOWN, query="reset password", shown=[7])
    step(held, RequestEventKind.SUGGESTIONS_SHOWN, query="reset password")  # the holdout's [] is no missing answer
    client = signed_in_client(acme.agent)
    report = client.get(f"/knowledge/deflection/?{RANGE}").context["report"]
    assert [(row.query, row.sessions) for row in report.no_answer] == [("reset password", 2)]

    link = re.search(
        rb'href="(/knowledge/deflection/sessions/\?[^"]*no_answer=[^"]*)"',
        client.get(f"/knowledge/deflection/?{RANGE}").content,
    )
    assert link is not None
    sessions = client.get(link.group(1).decode().replace("&amp;", "&"))
    assert sessions.status_code == 200
    assert {row.session.pk for row in sessions.context["rows"]} == {first.pk, second.pk}


def test_articles_read_before_writing_anyway_are_ranked(acme: Cast) -> None:
    billing = create_article(
        actor=acme.agent, workspace=acme.workspace, locale="en", title="Billing FAQ", body_html="x"
    )
    vat = create_article(
        actor=acme.agent, workspace=acme.workspace, locale="en", title="Change your VAT number", body_html="y"
    )
    for session in made(acme, 3, RequestOutcome.SUBMITTED) + made(acme, 1, RequestOutcome.RETURNED):
        step(session, RequestEventKind.ARTICLE_OPENED, article=vat)
    for session in made(acme, 1, RequestOutcome.SUBMITTED) + made(acme, 2, RequestOutcome.VERIFIED_DEFLECTION):
        step(session, RequestEventKind.ARTICLE_OPENED, article=billing)
    step(made(acme, 1, RequestOutcome.VERIFIED_DEFLECTION)[0], RequestEventKind.ARTICLE_OPENED, article=vat)
    body = json.loads(api_client(acme.agent).get(f"/api/v1/knowledge/deflection?{RANGE}").content)
    assert body["articles_read_not_deflecting"] == [
        {"article_id": vat.pk, "title": "Change your VAT number", "wrote_sessions": 4, "deflected_sessions": 1},
        {"article_id": billing.pk, "title": "Billing FAQ", "wrote_sessions": 1, "deflected_sessions": 2},
    ]
    drill = signed_in_client(acme.agent).get(f"/knowledge/deflection/sessions/?{RANGE}&article={vat.pk}&outcome=wrote")
    assert drill.context["page"].paginator.count == 4


def test_helpfulness_counts_votes_per_article_with_comments(acme: Cast, umbrella: Cast) -> None:
    article = create_article(
        actor=acme.agent, workspace=acme.workspace, locale="en", title="Export data", body_html="x"
    )
    spanish = create_article(actor=acme.agent, workspace=acme.workspace, locale="es", title="Exportar", body_html="x")
    translation = article.translations.get()
    (session,) = made(acme, 1, RequestOutcome.SUBMITTED)
    for helpful, comment in [(True, ""), (True, "Clear"), (False, "Step 3 is missing"), (False, "")]:
        ArticleFeedback.objects.create(
            workspace=acme.workspace, translation=translation, helpful=helpful, comment=comment, request_session=session
        )
    ArticleFeedback.objects.create(workspace=acme.workspace, translation=spanish.translations.get(), helpful=True)
    ArticleFeedback.objects.create(
        workspace=acme.workspace, translation=translation, helpful=False, created_at=NOW - 60 * DAY
    )
    other = create_article(
        actor=umbrella.agent, workspace=umbrella.workspace, locale="en", title="UMBRELLA", body_html="x"
    )
    ArticleFeedback.objects.create(workspace=umbrella.workspace, translation=other.translations.get(), helpful=False)
    body = json.loads(api_client(acme.agent).get(f"/api/v1/knowledge/deflection?{RANGE}").content)
    assert body["helpfulness"] == [
        {
            "article_id": article.pk,
            "title": "Export data",
            "helpful": 2,
            "not_helpful": 2,
            "rate": 0.5,
            "comments": ["Step 3 is missing", "Clear"],
        },
        {"article_id": spanish.pk, "title": "Exportar", "helpful": 1, "not_helpful": 0, "rate": 1.0, "comments": []},
    ]
    drill = signed_in_client(acme.agent).get(f"/knowledge/deflection/sessions/?{RANGE}&voted={article.pk}")
    assert [row.session.pk for row in drill.context["rows"]] == [session.pk]


def test_drill_down_pages_list_the_sessions_behind_each_arm_figure(experiment: Cast) -> None:
    client = signed_in_client(experiment.light_agent)
    page = client.get(f"/knowledge/deflection/?{RANGE}")
    links = {
        m.group(1).decode().replace("&amp;", "&")
        for m in re.finditer(rb'href="(/knowledge/deflection/sessions/\?[^"]*)"', page.content)
    }
    counts = {}
    for link in links:
        response = client.get(link)
        assert response.status_code == 200
        counts[link.split("?")[1]] = response.context["page"].paginator.count
    base = "from=2026-03-01&to=2026-03-20"
    assert counts[f"{base}&arm=suggestions&outcome=deflected"] == 30
    assert counts[f"{base}&arm=suggestions&outcome=wrote"] == 70
    assert counts[f"{base}&arm=holdout&outcome=judged"] == 20
    assert counts[f"{base}&arm=holdout&outcome=not_exposed"] == 3
    assert counts[f"{base}&arm=suggestions&outcome=pending"] == 9
    assert counts[f"{base}&arm=suggestions"] == 109


def test_the_csv_has_one_row_per_session_and_defuses_formulas(acme: Cast, umbrella: Cast) -> None:
    (session,) = made(acme, 1, RequestOutcome.SUBMITTED)
    session.ticket = acme.ticket
    session.save()
    step(session, RequestEventKind.SEARCHED, query='=HYPERLINK("http://evil")', shown=[3, 4])
    made(acme, 2, RequestOutcome.VERIFIED_DEFLECTION, holdout=True)
    made(umbrella, 5, RequestOutcome.VERIFIED_DEFLECTION)
    response = signed_in_client(acme.viewer).get(f"/knowledge/deflection/sessions.csv?{RANGE}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 3
    mine = next(row for row in rows if row["session"] == str(session.key))
    assert mine["searches"] == '\'=HYPERLINK("http://evil")'
    assert (mine["ticket_number"], mine["suggested_article_ids"], mine["arm"]) == (
        str(acme.ticket.number),
        "3 4",
        "suggestions",
    )
    assert {row["arm"] for row in rows if row["session"] != str(session.key)} == {"holdout"}
    refused = signed_in_client(acme.viewer).get(f"/knowledge/deflection/sessions.csv?{RANGE}&outcome=nonsense")
    assert refused.status_code == 422


def test_anonymous_callers_get_nothing(experiment: Cast) -> None:
    assert Client().get("/knowledge/deflection/").status_code == 302
    assert Client().get("/api/v1/knowledge/deflection").status_code == 401
    assert timezone.now() == NOW


@pytest.mark.parametrize(("language", "phrase"), [("es", "Solicitudes ahorradas"), ("ru", "Сэкономлено обращений")])
def test_the_report_speaks_the_agents_language(experiment: Cast, language: str, phrase: str) -> None:
    experiment.viewer.user.language = language
    experiment.viewer.user.save()
    text = text_of(signed_in_client(experiment.viewer).get(f"/knowledge/deflection/?{RANGE}").content)
    assert phrase in text
    assert "Requests saved" not in text


@pytest.mark.parametrize(("language", "phrase"), [("es", "120 sesiones"), ("ru", "120 сессий")])
def test_the_sessions_page_speaks_the_agents_language(experiment: Cast, language: str, phrase: str) -> None:
    experiment.viewer.user.language = language
    experiment.viewer.user.save()
    page = signed_in_client(experiment.viewer).get(f"/knowledge/deflection/sessions/?{RANGE}&outcome=judged")
    assert phrase in text_of(page.content)
