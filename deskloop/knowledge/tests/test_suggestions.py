"""Suggestions from the caller's side: the agents' API, the public endpoint, and what each may never see."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from deskloop.conftest import Cast, api_client, problem_body
from deskloop.knowledge.models import Article, ArticleTranslation, ArticleVisibility
from deskloop.knowledge.services.articles import ArticleAbout, create_article, save_translation, update_article
from deskloop.knowledge.services.embeddings import embed_outdated

pytestmark = pytest.mark.django_db

PASSWORD_ARTICLE = ("Resetting your password", "Open Settings, then Security, and choose Reset password.")
REFUND_ARTICLE = ("Refunds and returns", "Return any item within 30 days for a full refund to the original card.")


def _article(cast: Cast, title: str, body: str, *, locale: str = "en", internal: bool = False, **kw: object) -> Article:
    return create_article(
        actor=cast.agent,
        workspace=cast.workspace,
        locale=locale,
        title=title,
        body_html=f"<p>{body}</p>",
        publish=True,
        about=ArticleAbout(visibility=ArticleVisibility.INTERNAL if internal else ArticleVisibility.PUBLIC, **kw),  # type: ignore[arg-type]
    )


def _public(cast: Cast, client: Client | None = None, **params: str) -> tuple[int, object]:
    response = (client or Client()).get(f"/help/{cast.workspace.slug}/suggestions", params)
    return response.status_code, json.loads(response.content)


def test_api_answers_the_best_articles_in_the_documented_shape(acme):
    password = _article(acme, *PASSWORD_ARTICLE, external_id="kb-1")
    _article(acme, *REFUND_ARTICLE)
    embed_outdated(workspace=acme.workspace)
    response = api_client(acme.viewer).get("/api/v1/knowledge/suggestions", {"q": "I forgot my login password"})
    assert response.status_code == 200
    body = response.json()
    assert body[0] == {
        "id": password.pk,
        "external_id": "kb-1",
        "title": "Resetting your password",
        "url": f"/help/acme/en/articles/{password.pk}-resetting-your-password/",
        "score": body[0]["score"],
    }
    assert isinstance(body[0]["score"], float)


def test_a_question_about_nothing_in_the_help_center_gets_an_empty_list(acme):
    _article(acme, *PASSWORD_ARTICLE)
    embed_outdated(workspace=acme.workspace)
    response = api_client(acme.agent).get("/api/v1/knowledge/suggestions", {"q": "who won the 1998 world cup"})
    assert response.status_code == 200
    assert response.json() == []
    assert _public(acme, q="who won the 1998 world cup") == (200, [])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"q": "password", "locale": "de"}, "locale"),
        ({"q": "password", "limit": "0"}, "limit"),
        ({"q": "password", "limit": "11"}, "limit"),
        ({"q": "password", "limit": "three"}, "limit"),
    ],
)
def test_bad_parameters_are_422_on_both_endpoints(acme, params, field):
    api = api_client(acme.agent).get("/api/v1/knowledge/suggestions", params)
    assert api.status_code == 422
    assert field in json.dumps(problem_body(api)["errors"])
    status, body = _public(acme, **params)
    assert status == 422
    assert [e["field"] for e in body["errors"]] == [field]  # type: ignore[index]


def test_internal_and_draft_articles_never_reach_the_public(acme):
    internal = _article(acme, "Password reset for staff", "Reset an agent's password in the admin.", internal=True)
    draft = create_article(
        actor=acme.agent, workspace=acme.workspace, locale="en", title="Password reset (draft)", body_html="x"
    )
    public = _article(acme, *PASSWORD_ARTICLE)
    embed_outdated(workspace=acme.workspace)
    status, body = _public(acme, q="how do I reset a password", limit="10")
    assert status == 200
    assert [a["id"] for a in body] == [public.pk]  # type: ignore[index]
    agents = api_client(acme.agent).get("/api/v1/knowledge/suggestions", {"q": "reset a password", "limit": 10})
    ids = [a["id"] for a in agents.json()]
    assert internal.pk in ids
    assert public.pk in ids
    assert draft.pk not in ids


def test_another_workspaces_articles_are_never_returned(acme, umbrella):
    _article(umbrella, "UMBRELLA-CONFIDENTIAL password reset", "Reset your Umbrella password here.")
    embed_outdated(workspace=umbrella.workspace)
    assert _public(acme, q="password reset") == (200, [])
    response = api_client(acme.agent).get("/api/v1/knowledge/suggestions", {"q": "password reset"})
    assert response.json() == []
    assert _public(umbrella, q="password reset")[1]  # it is there, for Umbrella


def test_an_unknown_workspace_is_404(acme):
    response = Client().get("/help/nobody/suggestions", {"q": "password"})
    assert response.status_code == 404


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={"search": (2, 100)})
def test_the_public_endpoint_is_rate_limited_per_address(acme):
    _article(acme, *PASSWORD_ARTICLE)
    client = Client(REMOTE_ADDR="198.51.100.7")
    assert _public(acme, client, q="password")[0] == 200
    assert _public(acme, client, q="password")[0] == 200
    refused = client.get(f"/help/{acme.workspace.slug}/suggestions", {"q": "password"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert _public(acme, Client(REMOTE_ADDR="198.51.100.8"), q="password")[0] == 200


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={"search": (100, 2)})
def test_the_public_endpoint_is_rate_limited_per_workspace(acme):
    for address in ("198.51.100.1", "198.51.100.2"):
        assert _public(acme, Client(REMOTE_ADDR=address), q="password")[0] == 200
    assert _public(acme, Client(REMOTE_ADDR="198.51.100.3"), q="password")[0] == 429


def test_edits_are_seen_by_the_next_question(acme):
    article = _article(acme, *PASSWORD_ARTICLE)
    assert [a["id"] for a in _public(acme, q="password")[1]] == [article.pk]  # type: ignore[index]
    update_article(
        actor=acme.agent,
        article=article,
        about=ArticleAbout(
            category=None, visibility=ArticleVisibility.INTERNAL, product_area=None, tags=(), external_id=""
        ),
    )
    assert _public(acme, q="password") == (200, [])
    save_translation(actor=acme.agent, article=article, locale="en", title="Unrelated", body_html="x", publish=False)
    agents = api_client(acme.agent).get("/api/v1/knowledge/suggestions", {"q": "password"})
    assert agents.json() == []


def test_articles_are_found_by_their_words_before_they_are_embedded(acme):
    article = _article(acme, *PASSWORD_ARTICLE)
    assert not ArticleTranslation.objects.get(article=article).embedding
    assert [a["id"] for a in _public(acme, q="reset password")[1]] == [article.pk]  # type: ignore[index]


def test_spanish_and_russian_articles_are_suggested_in_their_language(acme):
    spanish = _article(acme, "Cómo descargar sus facturas", "Vaya a Cuenta y pulse Facturas.", locale="es")
    _article(acme, "Cambiar la contraseña", "Pulse Seguridad.", locale="es")
    russian = _article(acme, "Как скачать счёт", "Откройте раздел Счета.", locale="ru")
    embed_outdated(workspace=acme.workspace)
    status, body = _public(acme, q="no encuentro la factura de marzo", locale="es")
    assert status == 200
    assert [a["id"] for a in body] == [spanish.pk]  # type: ignore[index]
    assert body[0]["url"].startswith("/help/acme/es/articles/")  # type: ignore[index]
    assert [a["id"] for a in _public(acme, q="где мои счета", locale="ru")[1]] == [russian.pk]  # type: ignore[index]


def test_a_language_without_articles_falls_back_to_english(acme):
    english = _article(acme, *PASSWORD_ARTICLE)
    embed_outdated(workspace=acme.workspace)
    status, body = _public(acme, q="forgot my password", locale="ru")
    assert status == 200
    assert [a["id"] for a in body] == [english.pk]  # type: ignore[index]
    assert body[0]["url"].startswith("/help/acme/en/")  # type: ignore[index]


def test_saving_an_article_embeds_it_in_the_background_after_commit(acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article = _article(acme, *PASSWORD_ARTICLE)
    translation = ArticleTranslation.objects.get(article=article)
    assert translation.embedding_version == "all-MiniLM-L6-v2/1"
    assert len(bytes(translation.embedding)) == 2 * 384 * 4  # title, and title with the body's start


def test_embed_articles_catches_up_on_missing_vectors(acme, capsys):
    _article(acme, *PASSWORD_ARTICLE)
    _article(acme, *REFUND_ARTICLE)
    call_command("embed_articles", workspace=acme.workspace.slug)
    assert "2 article translation(s) embedded." in capsys.readouterr().out
    call_command("embed_articles")
    assert "0 article translation(s) embedded." in capsys.readouterr().out


@override_settings(DESKLOOP_SUGGESTION_RECHECK_SECONDS=3600)
def test_an_article_made_internal_leaves_public_answers_even_from_a_cached_index(acme):
    article = _article(acme, *PASSWORD_ARTICLE)
    assert [a["id"] for a in _public(acme, q="password")[1]] == [article.pk]  # type: ignore[index]
    update_article(
        actor=acme.agent,
        article=article,
        about=ArticleAbout(
            category=None, visibility=ArticleVisibility.INTERNAL, product_area=None, tags=(), external_id=""
        ),
    )
    assert _public(acme, q="password") == (200, [])


@pytest.mark.django_db(transaction=True)
@override_settings(DESKLOOP_SUGGESTION_BACKGROUND_REBUILD=True)
def test_after_an_edit_the_old_index_answers_until_a_thread_has_built_the_new_one(acme):
    import threading

    from deskloop.knowledge.suggestions import forget_indexes, suggest_articles

    forget_indexes()
    _article(acme, *PASSWORD_ARTICLE)
    ask = {"workspace_id": acme.workspace.pk, "query": "refund to my card", "locale": "en"}
    assert [s.title for s in suggest_articles(**ask)] == []
    _article(acme, *REFUND_ARTICLE)
    # The question right after the edit does not wait for the rebuild: it gets the index it had.
    assert [s.title for s in suggest_articles(**ask)] == []
    for thread in threading.enumerate():
        if thread.name == "suggestions":
            thread.join(timeout=60)
    assert [s.title for s in suggest_articles(**ask)] == ["Refunds and returns"]
    forget_indexes()
