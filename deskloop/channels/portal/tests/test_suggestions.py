"""The request form's live suggestions and the funnel they leave: each set shown is recorded (the holdout sees none,
recorded as an empty set), opening an article and "This solved my problem" are recorded in the customer's own
session only, and an internal or unpublished article is never shown to a customer."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from deskloop.channels.portal.tests.helpers import signed_in
from deskloop.conftest import Cast
from deskloop.knowledge.models import Article, HelpCenter, RequestEventKind, RequestOutcome, RequestSession
from deskloop.knowledge.services.articles import ArticleAbout, create_article


@pytest.fixture
def carmen(acme: Cast, django_capture_on_commit_callbacks: Any) -> Client:
    return signed_in(Client(), acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)


@pytest.fixture
def articles(acme: Cast) -> dict[str, Article]:
    def article(title: str, body: str, **options: Any) -> Article:
        about = ArticleAbout(
            **{key: options.pop(key) for key in list(options) if key in ArticleAbout.__dataclass_fields__}
        )
        return create_article(
            actor=acme.admin,
            workspace=acme.workspace,
            locale="en",
            title=title,
            body_html=f"<p>{body}</p>",
            about=about,
            **options,
        )

    return {
        "export": article(
            "Export your tickets to a CSV file",
            "Open Reports, choose Export, pick CSV and a date range; the CSV file is emailed to you.",
            publish=True,
        ),
        "internal": article(
            "Export refunds to CSV for finance",
            "Internal: export the refunds CSV from the admin console for the finance team.",
            publish=True,
            visibility="internal",
        ),
        "draft": article("Export tickets to CSV, new screen", "The new CSV export screen, coming soon.", publish=False),
    }


def _open_form(client: Client, holdout_percent: int, acme: Cast) -> RequestSession:
    HelpCenter.objects.update_or_create(workspace=acme.workspace, defaults={"holdout_percent": holdout_percent})
    assert client.get("/portal/acme/new/").status_code == 200
    return RequestSession.objects.latest("pk")


def test_suggestions_are_shown_and_recorded(acme: Cast, carmen: Client, articles: dict[str, Article]) -> None:
    session = _open_form(carmen, 0, acme)
    response = carmen.get(
        "/portal/acme/new/suggestions/",
        {"subject": "CSV export", "body": "How do I export my tickets to a CSV file?", "session": str(session.key)},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Export your tickets to a CSV file" in html
    assert f"/portal/acme/articles/{articles['export'].pk}/?session={session.key}" in html
    assert "refunds" not in html
    assert "new screen" not in html
    event = session.events.get()
    assert event.kind == RequestEventKind.SUGGESTIONS_SHOWN
    assert event.query == "CSV export How do I export my tickets to a CSV file?"
    assert event.suggested_article_ids[0] == articles["export"].pk
    assert articles["internal"].pk not in event.suggested_article_ids
    assert articles["draft"].pk not in event.suggested_article_ids


def test_the_holdout_sees_no_suggestions_and_that_is_recorded(
    acme: Cast, carmen: Client, articles: dict[str, Article]
) -> None:
    session = _open_form(carmen, 50, acme)
    RequestSession.objects.filter(pk=session.pk).update(in_holdout=True)
    response = carmen.get(
        "/portal/acme/new/suggestions/", {"subject": "CSV export", "body": "export to CSV", "session": str(session.key)}
    )
    assert "Export your tickets" not in response.content.decode()
    assert list(session.events.values_list("kind", "suggested_article_ids")) == [
        (RequestEventKind.SUGGESTIONS_SHOWN, [])
    ]


def test_opening_an_article_and_saying_it_solved_the_problem_are_recorded(
    acme: Cast, carmen: Client, articles: dict[str, Article]
) -> None:
    session = _open_form(carmen, 0, acme)
    page = carmen.get(f"/portal/acme/articles/{articles['export'].pk}/", {"session": str(session.key)})
    assert page.status_code == 200
    assert "Open Reports, choose Export" in page.content.decode()
    thanks = carmen.post(f"/portal/acme/articles/{articles['export'].pk}/solved/", {"session": str(session.key)})
    assert thanks.status_code == 200
    assert "Glad it helped" in thanks.content.decode()
    session.refresh_from_db()
    assert session.outcome == RequestOutcome.SOLVED_BY_ARTICLE
    assert list(session.events.values_list("kind", "article_id")) == [
        (RequestEventKind.ARTICLE_OPENED, articles["export"].pk),
        (RequestEventKind.SOLVED, articles["export"].pk),
    ]


def test_another_customers_session_is_not_touched(
    acme: Cast, carmen: Client, articles: dict[str, Article], django_capture_on_commit_callbacks: Any
) -> None:
    session = _open_form(carmen, 0, acme)
    gus = signed_in(Client(), acme.workspace, "gus@globex-acme.example", django_capture_on_commit_callbacks)
    gus.get(f"/portal/acme/articles/{articles['export'].pk}/", {"session": str(session.key)})
    gus.post(f"/portal/acme/articles/{articles['export'].pk}/solved/", {"session": str(session.key)})
    gus.get("/portal/acme/new/suggestions/", {"subject": "CSV", "session": str(session.key)})
    session.refresh_from_db()
    assert session.outcome == RequestOutcome.OPEN
    assert session.events.count() == 0


def test_internal_and_unpublished_articles_are_not_found(
    acme: Cast, carmen: Client, articles: dict[str, Article]
) -> None:
    assert carmen.get(f"/portal/acme/articles/{articles['internal'].pk}/").status_code == 404
    assert carmen.get(f"/portal/acme/articles/{articles['draft'].pk}/").status_code == 404


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={"search": (2, 100)})
def test_asking_for_suggestions_too_often_is_429(acme: Cast, carmen: Client) -> None:
    answers = [carmen.get("/portal/acme/new/suggestions/", {"subject": f"q{i}"}).status_code for i in range(3)]
    assert answers == [200, 200, 429]
