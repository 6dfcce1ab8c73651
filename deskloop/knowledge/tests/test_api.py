"""/api/v1/knowledge: articles with their languages and revisions, and categories, told with the cast."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deskloop.conftest import Cast, api_client, api_send, problem_body
from deskloop.knowledge.models import Article, ArticleRevision, KnowledgeCategory
from deskloop.knowledge.services.articles import create_article
from deskloop.knowledge.services.categories import create_category
from deskloop.tickets.models import ProductArea

pytestmark = pytest.mark.django_db

BASE = "/api/v1/knowledge"


def _body(response: Any) -> Any:
    return json.loads(response.content)


def test_a_writer_creates_reads_changes_translates_and_deletes_an_article(acme: Cast) -> None:
    category = create_category(actor=acme.admin, workspace=acme.workspace, name="Billing")
    area = ProductArea.objects.create(workspace=acme.workspace, name="Invoicing", path="Invoicing")
    client = api_client(acme.agent)

    created = api_send(
        client,
        "post",
        f"{BASE}/articles",
        {
            "external_id": "faq-17",
            "locale": "en",
            "title": "Change the VAT number",
            "body": "<p>Open <b>Billing</b>.</p><script>x()</script>",
            "category_id": category.pk,
            "visibility": "public",
            "state": "published",
            "product_area_id": area.pk,
            "tags": ["vat", "invoices"],
        },
    )
    assert created.status_code == 201
    article = _body(created)
    article_id = article["id"]
    assert created["Location"] == f"{BASE}/articles/{article_id}"
    assert {k: article[k] for k in ("external_id", "category_id", "visibility", "product_area_id", "tags")} == {
        "external_id": "faq-17",
        "category_id": category.pk,
        "visibility": "public",
        "product_area_id": area.pk,
        "tags": ["invoices", "vat"],
    }
    assert [(t["locale"], t["title"], t["body_html"], t["state"], t["url"]) for t in article["translations"]] == [
        (
            "en",
            "Change the VAT number",
            "<p>Open <b>Billing</b>.</p>",
            "published",
            f"http://127.0.0.1:8000/help/acme/en/articles/{article_id}-change-the-vat-number/",
        )
    ]

    put = api_send(
        client,
        "put",
        f"{BASE}/articles/{article_id}/translations/es",
        {"title": "Cambiar el NIF", "body_html": "<p>Abra Facturación.</p>", "state": "published"},
    )
    assert put.status_code == 200
    assert _body(put)["url"].endswith(f"/help/acme/es/articles/{article_id}-cambiar-el-nif/")
    patched = api_send(
        client, "patch", f"{BASE}/articles/{article_id}", {"category_id": None, "visibility": "internal"}
    )
    assert patched.status_code == 200
    assert (_body(patched)["category_id"], _body(patched)["visibility"], _body(patched)["product_area_id"]) == (
        None,
        "internal",
        area.pk,
    )
    assert [t["locale"] for t in _body(client.get(f"{BASE}/articles/{article_id}"))["translations"]] == ["en", "es"]

    api_send(
        client,
        "put",
        f"{BASE}/articles/{article_id}/translations/en",
        {"title": "Change the tax id", "body_html": "<p>x</p>"},
    )
    revisions = _body(client.get(f"{BASE}/articles/{article_id}/translations/en/revisions"))
    assert [(r["number"], r["title"], r["note"]) for r in revisions["items"]] == [
        (1, "Change the VAT number", "api"),
        (2, "Change the tax id", "api"),
    ]

    deleted = client.delete(f"{BASE}/articles/{article_id}")
    assert deleted.status_code == 204
    assert Article.objects.count() == 0


def test_the_list_filters_and_pages(acme: Cast) -> None:
    for n in range(3):
        create_article(
            actor=acme.agent,
            workspace=acme.workspace,
            locale="en",
            title=f"Article {n}",
            body_html="<p>x</p>",
            publish=n == 1,
        )
    client = api_client(acme.viewer)

    first = _body(client.get(f"{BASE}/articles?limit=2"))
    second = _body(client.get(f"{BASE}/articles?limit=2&cursor={first['next_cursor']}"))
    published = _body(client.get(f"{BASE}/articles?locale=en&state=published"))

    assert [a["translations"][0]["title"] for a in first["items"] + second["items"]] == [
        "Article 0",
        "Article 1",
        "Article 2",
    ]
    assert second["next_cursor"] is None
    assert [a["translations"][0]["title"] for a in published["items"]] == ["Article 1"]


def test_an_external_id_is_unique_and_bad_input_stores_nothing(acme: Cast) -> None:
    client = api_client(acme.agent)
    body = {"external_id": "faq-1", "locale": "en", "title": "One", "body": "<p>1</p>"}
    assert api_send(client, "post", f"{BASE}/articles", body).status_code == 201

    duplicate = api_send(client, "post", f"{BASE}/articles", body)
    unknown_language = api_send(client, "post", f"{BASE}/articles", {**body, "external_id": "faq-2", "locale": "de"})
    no_title = api_send(client, "post", f"{BASE}/articles", {**body, "external_id": "faq-3", "title": "  "})

    assert duplicate.status_code == 422
    assert "already has the external id" in problem_body(duplicate)["detail"]
    assert unknown_language.status_code == 422
    assert no_title.status_code == 422
    assert Article.objects.count() == 1
    assert ArticleRevision.objects.count() == 1


def test_viewers_cannot_write_and_another_workspace_is_not_found(acme: Cast, umbrella: Cast) -> None:
    foreign = create_article(
        actor=umbrella.agent, workspace=umbrella.workspace, locale="en", title="UMBRELLA-CONFIDENTIAL", body_html=""
    )
    foreign_category = create_category(actor=umbrella.admin, workspace=umbrella.workspace, name="Umbrella only")
    viewer = api_client(acme.viewer)
    writer = api_client(acme.agent)

    refused = api_send(viewer, "post", f"{BASE}/articles", {"locale": "en", "title": "No", "body": ""})
    assert refused.status_code == 403
    assert problem_body(refused)["status"] == 403
    assert writer.get(f"{BASE}/articles/{foreign.pk}").status_code == 404
    assert api_send(writer, "patch", f"{BASE}/articles/{foreign.pk}", {"visibility": "internal"}).status_code == 404
    assert api_send(writer, "put", f"{BASE}/articles/{foreign.pk}/translations/es", {"title": "x"}).status_code == 404
    assert writer.delete(f"{BASE}/articles/{foreign.pk}").status_code == 404
    into_foreign = api_send(
        writer, "post", f"{BASE}/articles", {"locale": "en", "title": "Mine", "category_id": foreign_category.pk}
    )
    assert into_foreign.status_code == 404
    assert b"UMBRELLA" not in writer.get(f"{BASE}/articles").content
    assert Article.objects.filter(workspace=acme.workspace).count() == 0
    foreign.refresh_from_db()
    assert foreign.visibility == "public"


def test_categories_are_listed_to_everyone_and_created_by_admins(acme: Cast) -> None:
    admin = api_client(acme.admin)

    created = api_send(admin, "post", f"{BASE}/categories", {"name": "Billing"})
    section = api_send(admin, "post", f"{BASE}/categories", {"name": "Invoices", "parent_id": _body(created)["id"]})
    by_agent = api_send(api_client(acme.agent), "post", f"{BASE}/categories", {"name": "Nope"})
    listed = _body(api_client(acme.viewer).get(f"{BASE}/categories"))

    assert created.status_code == 201
    assert section.status_code == 201
    assert by_agent.status_code == 403
    assert [(c["name"], c["slug"], c["parent_id"] is not None) for c in listed["items"]] == [
        ("Billing", "billing", False),
        ("Invoices", "invoices", True),
    ]
    assert KnowledgeCategory.objects.count() == 2
