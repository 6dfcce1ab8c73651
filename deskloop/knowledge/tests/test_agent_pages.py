"""The agents' knowledge base told with the cast, through HTTP: writing, filtering, revisions, review, images,
categories and the help-center settings; viewers read, writers change, other workspaces see nothing."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from deskloop.conftest import Cast, signed_in_client
from deskloop.knowledge.models import (
    Article,
    ArticleImage,
    ArticleRevision,
    HelpCenter,
    KnowledgeCategory,
)
from deskloop.knowledge.services.articles import ArticleAbout, create_article, save_translation
from deskloop.knowledge.services.categories import create_category
from deskloop.tickets.models import ProductArea

pytestmark = pytest.mark.django_db

# The smallest valid PNG (1x1, transparent).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)


def _article(cast: Cast, **overrides: object) -> Article:
    values: dict[str, object] = {
        "actor": cast.agent,
        "workspace": cast.workspace,
        "locale": "en",
        "title": "Change the VAT number on invoices",
        "body_html": "<p>Open Billing.</p><p>Edit the VAT number.</p>",
    }
    values.update(overrides)
    values["about"] = ArticleAbout(
        **{key: values.pop(key) for key in list(values) if key in ArticleAbout.__dataclass_fields__}  # type: ignore[arg-type]
    )
    return create_article(**values)  # type: ignore[arg-type]


def _form(**values: object) -> dict[str, object]:
    form: dict[str, object] = {
        "title": "Change the VAT number on invoices",
        "body": "<p>Open Billing.</p>",
        "state": "draft",
        "visibility": "public",
        "category": "",
        "product_area": "",
        "tags": "",
        "note": "",
    }
    form.update(values)
    return form


def test_a_writer_writes_an_article_and_the_list_filters_it(acme: Cast) -> None:
    billing = create_category(actor=acme.admin, workspace=acme.workspace, name="Billing")
    invoices = create_category(actor=acme.admin, workspace=acme.workspace, name="Invoices", parent=billing)
    area = ProductArea.objects.create(workspace=acme.workspace, name="Invoicing", path="Invoicing")
    client = signed_in_client(acme.agent)

    response = client.post(
        "/knowledge/articles/new/",
        _form(
            locale="es",
            title="Cambiar el NIF",
            state="published",
            category=invoices.pk,
            product_area=area.pk,
            tags="vat, invoices",
            body="<p>Abra <b>Facturación</b>.</p><script>alert(1)</script>",
        ),
    )

    article = Article.objects.get(workspace=acme.workspace)
    assert response.status_code == 302
    assert response["Location"] == f"/knowledge/articles/{article.pk}/es/"
    translation = article.translations.get()
    assert (translation.locale, translation.title, translation.state) == ("es", "Cambiar el NIF", "published")
    assert translation.body_html == "<p>Abra <b>Facturación</b>.</p>"
    assert sorted(t.name for t in article.tags.all()) == ["invoices", "vat"]
    assert (article.category_id, article.product_area_id, article.created_by_id) == (
        invoices.pk,
        area.pk,
        acme.agent.pk,
    )
    _article(acme, title="Internal: refund by hand", visibility="internal")

    def titles(query: str) -> list[str]:
        html = client.get(f"/knowledge/?{query}").content.decode()
        return re.findall(r'<a href="/knowledge/articles/\d+/\w+/">([^<]+)</a>', html)

    assert titles("") == ["Internal: refund by hand", "Cambiar el NIF"]
    assert titles(f"category={billing.pk}") == ["Cambiar el NIF"]
    assert titles("locale=es&state=published") == ["Cambiar el NIF"]
    assert titles("locale=en&state=published") == []
    assert titles("visibility=internal") == ["Internal: refund by hand"]
    assert titles(f"product_area={area.pk}") == ["Cambiar el NIF"]
    assert titles("tag=VAT") == ["Cambiar el NIF"]
    assert titles("q=refund") == ["Internal: refund by hand"]


def test_viewers_read_articles_but_cannot_change_them(acme: Cast) -> None:
    article = _article(acme)
    client = signed_in_client(acme.viewer)

    page = client.get(f"/knowledge/articles/{article.pk}/en/")
    refused = client.post(f"/knowledge/articles/{article.pk}/en/", _form(title="Vandalised"))

    assert page.status_code == 200
    assert "Open Billing." in page.content.decode()
    assert 'id="article-form"' not in page.content.decode()
    assert refused.status_code == 403
    assert client.get("/knowledge/articles/new/").status_code == 403
    assert article.translations.get().title == "Change the VAT number on invoices"


def test_bad_input_is_refused_and_changes_nothing(acme: Cast) -> None:
    article = _article(acme)
    client = signed_in_client(acme.agent)

    blank = client.post(f"/knowledge/articles/{article.pk}/en/", _form(title=" "))
    bad_state = client.post(f"/knowledge/articles/{article.pk}/en/", _form(state="archived"))
    unknown_language = client.post(f"/knowledge/articles/{article.pk}/xx/", _form())

    assert blank.status_code == 422
    assert "This field is required." in blank.content.decode()
    assert bad_state.status_code == 422
    assert unknown_language.status_code == 404
    assert ArticleRevision.objects.filter(translation__article=article).count() == 1


def test_another_workspaces_category_cannot_be_chosen(acme: Cast, umbrella: Cast) -> None:
    foreign = create_category(actor=umbrella.admin, workspace=umbrella.workspace, name="UMBRELLA-CONFIDENTIAL")
    article = _article(acme)

    response = signed_in_client(acme.agent).post(f"/knowledge/articles/{article.pk}/en/", _form(category=foreign.pk))

    assert response.status_code == 422
    article.refresh_from_db()
    assert article.category_id is None


def test_editing_leaves_revisions_the_diff_shows_them_and_restore_brings_revision_1_back(acme: Cast) -> None:
    article = _article(acme)
    client = signed_in_client(acme.agent)
    client.post(
        f"/knowledge/articles/{article.pk}/en/",
        _form(body="<p>Open Billing.</p><p>Edit the tax id.</p>", note="tax id, not VAT"),
    )

    history = client.get(f"/knowledge/articles/{article.pk}/en/revisions/").content.decode()
    diff = client.get(f"/knowledge/articles/{article.pk}/en/revisions/1/").content.decode()
    restored = client.post(f"/knowledge/articles/{article.pk}/en/revisions/1/restore/")

    assert re.findall(r'data-revision="(\d+)"', history) == ["2", "1"]
    assert "tax id, not VAT" in history
    assert re.findall(r'data-diff="(removed|added)"', diff) == ["removed", "added"]
    assert "Edit the VAT number." in diff
    assert "Edit the tax id." in diff
    assert restored.status_code == 302
    translation = article.translations.get()
    assert translation.body_html == "<p>Open Billing.</p><p>Edit the VAT number.</p>"
    latest = translation.revisions.order_by("-number").first()
    assert latest is not None
    assert (latest.number, latest.note, latest.author_id) == (3, "restored from 1", acme.agent.pk)
    # Restoring the text it already has is refused, and leaves no fourth revision.
    again = client.post(f"/knowledge/articles/{article.pk}/en/revisions/1/restore/", follow=True)
    assert "already the text of revision 1" in again.content.decode()
    assert translation.revisions.count() == 3
    assert (
        signed_in_client(acme.viewer).post(f"/knowledge/articles/{article.pk}/en/revisions/2/restore/").status_code
        == 403
    )


def test_revisions_of_another_workspace_are_not_found(acme: Cast, umbrella: Cast) -> None:
    foreign = _article(umbrella, actor=umbrella.agent, title="UMBRELLA-CONFIDENTIAL")
    client = signed_in_client(acme.admin)

    assert client.get(f"/knowledge/articles/{foreign.pk}/en/revisions/1/").status_code == 404
    assert client.post(f"/knowledge/articles/{foreign.pk}/en/revisions/1/restore/").status_code == 404


def test_the_stale_list_shows_unreviewed_articles_oldest_first_until_marked_reviewed(acme: Cast) -> None:
    now = timezone.now()
    old = _article(acme, title="Old")
    older = _article(acme, title="Older")
    fresh = _article(acme, title="Fresh")
    Article.objects.filter(pk=old.pk).update(last_reviewed_at=now - dt.timedelta(days=200))
    Article.objects.filter(pk=older.pk).update(last_reviewed_at=now - dt.timedelta(days=400))
    Article.objects.filter(pk=fresh.pk).update(last_reviewed_at=now - dt.timedelta(days=20))
    never = _article(acme, title="Never")
    Article.objects.filter(pk=never.pk).update(last_reviewed_at=None)
    client = signed_in_client(acme.agent)

    def stale(query: str = "") -> list[int]:
        html = client.get(f"/knowledge/stale/{query}").content.decode()
        return [int(pk) for pk in re.findall(r'data-stale-article="(\d+)"', html)]

    assert stale() == [never.pk, older.pk, old.pk]
    assert stale("?days=10") == [never.pk, older.pk, old.pk, fresh.pk]
    reviewed = client.post(f"/knowledge/articles/{older.pk}/reviewed/", {"back": "stale"})
    assert reviewed["Location"] == "/knowledge/stale/"
    assert stale() == [never.pk, old.pk]
    assert signed_in_client(acme.viewer).post(f"/knowledge/articles/{old.pk}/reviewed/").status_code == 403


def test_an_uploaded_image_is_served_to_agents_and_to_readers_of_the_published_public_article(acme: Cast) -> None:
    article = _article(acme)
    client = signed_in_client(acme.agent)
    upload = client.post(
        f"/knowledge/articles/{article.pk}/images/",
        {"image": _file("screen.png", PNG), "locale": "en"},
        headers={"accept": "application/json"},
    )
    assert upload.status_code == 201
    url = json.loads(upload.content)["url"]
    image = ArticleImage.objects.get()
    assert url == f"/knowledge/images/{image.key}/"

    save_translation(
        actor=acme.agent,
        article=article,
        locale="en",
        title="With a screenshot",
        body_html=(
            f'<p>Here:</p><img src="{url}" alt="screen"><img src="/tickets/1/"><img src="http://x.example/t.gif">'
            '<img src="/knowledge/images/%2e%2e/%2e%2e/logout/"><img src="/knowledge/images/../../tickets/1/">'
        ),
    )
    body = article.translations.get().body_html
    assert f'<img src="{url}" alt="screen">' in body
    assert 'src="/tickets/1/"' not in body
    assert "logout" not in body
    assert "/tickets/1/" not in body
    assert 'data-remote-src="http://x.example/t.gif"' in body

    from django.test import Client

    anonymous = Client()
    agent_view = client.get(url)
    assert agent_view.status_code == 200
    assert agent_view["Content-Type"] == "image/png"
    assert b"".join(agent_view.streaming_content) == PNG
    assert anonymous.get(url).status_code == 404  # a draft
    save_translation(
        actor=acme.agent, article=article, locale="en", title="With a screenshot", body_html=body, publish=True
    )
    public = anonymous.get(url)
    assert public.status_code == 200
    assert public["X-Content-Type-Options"] == "nosniff"
    Article.objects.filter(pk=article.pk).update(visibility="internal")
    assert anonymous.get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "evil.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "PNG, JPEG, GIF or WebP",
        ),
        ("page.png", b"<html><script>alert(1)</script></html>", "PNG, JPEG, GIF or WebP"),
        ("huge.png", PNG + b"\0" * (5 * 1024 * 1024), "an image can be at most"),
    ],
)
def test_images_that_are_not_small_rasters_are_refused(acme: Cast, name: str, content: bytes, message: str) -> None:
    article = _article(acme)

    response = signed_in_client(acme.agent).post(
        f"/knowledge/articles/{article.pk}/images/",
        {"image": _file(name, content)},
        headers={"accept": "application/json"},
    )

    assert response.status_code == 422
    assert message in json.loads(response.content)["error"]
    assert ArticleImage.objects.count() == 0


def _file(name: str, content: bytes) -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_admins_manage_categories_and_sections(acme: Cast) -> None:
    client = signed_in_client(acme.admin)
    client.post("/knowledge/categories/", {"name": "Billing"})
    client.post("/knowledge/categories/", {"name": "Accounts"})
    billing = KnowledgeCategory.objects.get(name="Billing")
    client.post("/knowledge/categories/", {"name": "Invoices", "parent": billing.pk})
    invoices = KnowledgeCategory.objects.get(name="Invoices")

    def order() -> list[str]:
        html = client.get("/knowledge/categories/").content.decode()
        return re.findall(r'data-category="([^"]+)"', html)

    assert order() == ["Billing", "Invoices", "Accounts"]
    client.post(f"/knowledge/categories/{billing.pk}/move/", {"direction": "down"})
    assert order() == ["Accounts", "Billing", "Invoices"]
    renamed = client.post(
        f"/knowledge/categories/{billing.pk}/",
        {"name": "Billing and invoices", "name_es": "Facturación", "name_ru": "Счета", "name_en": ""},
    )
    assert renamed.status_code == 302
    billing.refresh_from_db()
    assert (billing.name, billing.slug, billing.name_translations) == (
        "Billing and invoices",
        "billing",
        {"es": "Facturación", "ru": "Счета"},
    )
    assert billing.localized_name("es") == "Facturación"

    refused = client.post(f"/knowledge/categories/{billing.pk}/delete/", follow=True)
    assert "still has sections" in refused.content.decode()
    _article(acme, category=invoices)
    refused = client.post(f"/knowledge/categories/{invoices.pk}/delete/", follow=True)
    assert "still has articles" in refused.content.decode()
    assert KnowledgeCategory.objects.filter(workspace=acme.workspace).count() == 3
    Article.objects.all().delete()
    client.post(f"/knowledge/categories/{invoices.pk}/delete/")
    assert order() == ["Accounts", "Billing and invoices"]


def test_agents_cannot_change_categories(acme: Cast) -> None:
    client = signed_in_client(acme.agent)

    created = client.post("/knowledge/categories/", {"name": "Sneaky"})

    assert created.status_code == 403
    assert "Only admins can change the help center" in created.content.decode()
    assert KnowledgeCategory.objects.count() == 0


def test_help_center_settings_save_refuse_bad_values_and_show_a_new_secret_once(acme: Cast, umbrella: Cast) -> None:
    HelpCenter.objects.create(workspace=umbrella.workspace, host_name="help.umbrella.example")
    client = signed_in_client(acme.admin)

    saved = client.post("/settings/help-center/", {"host_name": "Help.Acme.Example", "holdout_percent": "20"})
    too_much = client.post("/settings/help-center/", {"host_name": "", "holdout_percent": "60"})
    not_a_host = client.post(
        "/settings/help-center/", {"host_name": "https://acme.example/help", "holdout_percent": "5"}
    )
    taken = client.post("/settings/help-center/", {"host_name": "help.umbrella.example", "holdout_percent": "5"})

    assert saved.status_code == 302
    assert too_much.status_code == 422
    assert not_a_host.status_code == 422
    assert "without https://" in not_a_host.content.decode()
    assert taken.status_code == 422
    help_center = HelpCenter.objects.get(workspace=acme.workspace)
    assert (help_center.host_name, help_center.holdout_percent) == ("help.acme.example", 20)

    rotated = client.post("/settings/help-center/widget-secret/").content.decode()
    help_center.refresh_from_db()
    assert f"<code data-secret>{help_center.widget_secret}</code>" in rotated
    assert help_center.widget_secret not in client.get("/settings/help-center/").content.decode()
    assert signed_in_client(acme.agent).post("/settings/help-center/widget-secret/").status_code == 403
    help_center.refresh_from_db()
    assert help_center.widget_secret in rotated
