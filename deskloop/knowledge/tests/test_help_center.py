"""The public help center, from a visitor's side: what an anonymous visitor may read (published public translations
of this workspace only), search recorded in the funnel, "was this helpful?", the sitemap, its own host name, and
pages served from the cache until an article changes."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from deskloop.conftest import Cast, signed_in_client
from deskloop.knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleVisibility,
    HelpCenter,
    RequestChannel,
    RequestEvent,
    RequestEventKind,
    RequestSession,
)
from deskloop.knowledge.services.articles import ArticleAbout, create_article, save_translation, update_article
from deskloop.knowledge.services.categories import create_category
from deskloop.tickets.models import ProductArea

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def _help_center(cast: Cast) -> dict[str, Article]:
    """Account > Passwords with two published articles (en + es, en only), a draft, an internal one; Billing."""
    ws = cast.workspace
    account = create_category(actor=None, workspace=ws, name="Account")
    account.name_translations = {"es": "Cuenta"}
    account.save()
    passwords = create_category(actor=None, workspace=ws, name="Passwords", parent=account)
    billing = create_category(actor=None, workspace=ws, name="Billing")
    reset = create_article(
        actor=None,
        workspace=ws,
        locale="en",
        title="Reset your password",
        body_html="<p>Open <b>Sign in</b> and choose <i>Forgot password</i>.</p>",
        publish=True,
        about=ArticleAbout(category=passwords),
    )
    save_translation(
        actor=None,
        article=reset,
        locale="es",
        title="Restablecer la contraseña",
        body_html="<p>Abre <b>Iniciar sesión</b> y elige «Olvidé mi contraseña».</p>",
        publish=True,
    )
    save_translation(actor=None, article=reset, locale="ru", title="Сброс пароля", body_html="<p>черновик</p>")
    twofactor = create_article(
        actor=None,
        workspace=ws,
        locale="en",
        title="Two-factor authentication and your password",
        body_html="<p>Keep backup codes safe.</p>",
        publish=True,
        about=ArticleAbout(category=passwords),
    )
    draft = create_article(
        actor=None,
        workspace=ws,
        locale="en",
        title="Unreleased password policy",
        body_html="<p>soon</p>",
        about=ArticleAbout(category=passwords),
    )
    internal = create_article(
        actor=None,
        workspace=ws,
        locale="en",
        title="Internal password override procedure",
        body_html="<p>Agents only: password override.</p>",
        publish=True,
        about=ArticleAbout(category=billing, visibility=ArticleVisibility.INTERNAL),
    )
    return {"reset": reset, "twofactor": twofactor, "draft": draft, "internal": internal}


def _article_url(cast: Cast, article: Article, locale: str = "en") -> str:
    slug = article.translations.get(locale=locale).slug
    return f"/help/{cast.workspace.slug}/{locale}/articles/{article.pk}-{slug}/"


def test_the_help_center_starts_in_the_visitors_language_among_those_with_articles(acme: Cast) -> None:
    _help_center(acme)
    client = Client()
    spanish = client.get("/help/acme/", headers={"accept-language": "ru-RU,ru;q=0.9,es;q=0.8"})
    # Russian has only a draft, so the next language the visitor reads wins.
    assert (spanish.status_code, spanish["Location"]) == (302, "/help/acme/es/")
    assert "Accept-Language" in spanish["Vary"]
    nothing_known = client.get("/help/acme/", headers={"accept-language": "de"})
    assert nothing_known["Location"] == "/help/acme/en/"


def test_home_shows_categories_and_sections_with_counts_of_what_a_visitor_may_read(acme: Cast) -> None:
    _help_center(acme)
    page = Client().get("/help/acme/en/")
    html = page.content.decode()
    assert page.status_code == 200
    assert page["Cache-Control"] == "public, max-age=60"
    assert html.count("<h1") == 1
    assert re.search(r'href="/help/acme/en/c/account/">Account</a></h3>\s*<p class="count">2 articles</p>', html)
    assert 'href="/help/acme/en/c/passwords/">Passwords</a> <span class="count">(2)</span>' in html
    # Billing holds only an internal article: not shown at all.
    assert "Billing" not in html
    assert "Cuenta" in Client().get("/help/acme/es/").content.decode()


def test_unknown_workspace_language_or_empty_help_center_is_not_found(acme: Cast, umbrella: Cast) -> None:
    _help_center(acme)
    client = Client()
    assert client.get("/help/nobody/").status_code == 404
    assert client.get("/help/nobody/en/").status_code == 404
    # Umbrella exists but has published nothing: same answer as a slug that does not exist.
    assert client.get(f"/help/{umbrella.workspace.slug}/").status_code == 404
    assert client.get(f"/help/{umbrella.workspace.slug}/sitemap.xml").status_code == 404
    assert client.get("/help/acme/ru/").status_code == 404  # only a draft in Russian
    assert client.get("/help/acme/de/").status_code == 404


def test_article_page_with_breadcrumbs_canonical_hreflang_language_switch_and_related(acme: Cast) -> None:
    articles = _help_center(acme)
    reset = articles["reset"]
    page = Client().get(_article_url(acme, reset))
    html = page.content.decode()
    assert page.status_code == 200
    assert '<h1 id="article-title">Reset your password</h1>' in html
    assert "<b>Sign in</b>" in html
    es_url = f"/help/acme/es/articles/{reset.pk}-restablecer-la-contrase%C3%B1a/"
    assert f'<link rel="canonical" href="http://testserver{_article_url(acme, reset)}">' in html
    assert f'<link rel="alternate" hreflang="es" href="http://testserver{es_url}">' in html
    assert 'hreflang="ru"' not in html  # a draft translation is not an alternate
    assert f'<a href="{es_url}" lang="es" hreflang="es">Español</a>' in html
    crumbs = re.findall(r"<li><a href=\"([^\"]+)\">([^<]+)</a></li>", html.split("</ol></nav>")[0])
    assert crumbs == [
        ("/help/acme/en/", "Help center"),
        ("/help/acme/en/c/account/", "Account"),
        ("/help/acme/en/c/passwords/", "Passwords"),
    ]
    related = html.split('id="related-heading"')[1]
    assert "Two-factor authentication and your password" in related
    assert "Unreleased" not in html
    assert "Internal password" not in html
    spanish = Client().get(es_url)
    assert spanish.status_code == 200
    assert 'lang="es"' in spanish.content.decode()[:200]
    assert "¿Te ha resultado útil este artículo?" in spanish.content.decode()


def test_a_wrong_or_old_slug_moves_permanently_to_the_current_one(acme: Cast) -> None:
    reset = _help_center(acme)["reset"]
    old = _article_url(acme, reset)
    save_translation(actor=None, article=reset, locale="en", title="Reset a forgotten password", body_html="<p>x</p>")
    moved = Client().get(old)
    assert (moved.status_code, moved["Location"]) == (
        301,
        f"/help/acme/en/articles/{reset.pk}-reset-a-forgotten-password/",
    )


def test_drafts_internal_articles_and_other_workspaces_articles_are_not_found(acme: Cast, umbrella: Cast) -> None:
    articles = _help_center(acme)
    theirs = _help_center(umbrella)["reset"]
    client = Client()
    for article in (articles["draft"], articles["internal"]):
        assert client.get(_article_url(acme, article)).status_code == 404
    assert client.get(f"/help/acme/ru/articles/{articles['reset'].pk}-sbros-parolya/").status_code == 404
    # Umbrella's article id under Acme's slug: not found, never redirected to Umbrella.
    assert client.get(f"/help/acme/en/articles/{theirs.pk}-reset-your-password/").status_code == 404
    assert client.get("/help/acme/en/c/billing/").status_code == 404  # only internal articles in it
    assert client.get("/help/acme/en/c/nope/").status_code == 404
    assert (
        client.post(f"/help/acme/en/articles/{articles['internal'].pk}/feedback", {"helpful": "yes"}).status_code == 404
    )
    assert ArticleFeedback.objects.count() == 0


def test_category_page_lists_its_sections_articles(acme: Cast) -> None:
    _help_center(acme)
    html = Client().get("/help/acme/en/c/account/").content.decode()
    assert "<h1>Account</h1>" in html
    section = html.split('<h2 id="section-')[1]
    assert "Passwords" in section
    assert "Reset your password" in section
    assert "Two-factor" in section
    assert "Unreleased" not in html


def test_search_without_javascript_ranks_readable_articles_and_records_the_step(acme: Cast) -> None:
    articles = _help_center(acme)
    client = Client()
    page = client.get("/help/acme/en/search", {"q": "password"})
    html = page.content.decode()
    assert page.status_code == 200
    found = re.findall(r'<li><a href="/help/acme/en/articles/(\d+)-', html)
    assert sorted(int(pk) for pk in found) == sorted([articles["reset"].pk, articles["twofactor"].pk])
    cookie = page.cookies["deskloop_visitor"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    client.get("/help/acme/en/search", {"q": "backup codes"})
    session = RequestSession.objects.get()
    assert session.channel == RequestChannel.HELP_CENTER
    assert session.visitor_hash
    assert cookie.value not in session.visitor_hash
    steps = list(RequestEvent.objects.filter(session=session).values_list("kind", "query", "suggested_article_ids"))
    assert steps[0][:2] == (RequestEventKind.SEARCHED, "password")
    assert sorted(steps[0][2]) == sorted([articles["reset"].pk, articles["twofactor"].pk])
    assert steps[1] == (RequestEventKind.SEARCHED, "backup codes", [articles["twofactor"].pk])


def test_search_partial_for_javascript_and_bad_input(acme: Cast) -> None:
    _help_center(acme)
    client = Client()
    partial = client.get("/help/acme/en/search", {"q": "backup"}, headers={"x-deskloop-partial": "1"})
    assert partial.content.decode().lstrip().startswith("<h2")
    assert "<html" not in partial.content.decode()
    too_long = client.get("/help/acme/en/search", {"q": "x" * 301})
    assert too_long.status_code == 400
    assert "at most 300 characters" in too_long.content.decode()
    assert RequestEvent.objects.filter(query__startswith="xxx").count() == 0


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={"search": (2, 100), "feedback": (1, 100)})
def test_search_and_feedback_are_rate_limited(acme: Cast) -> None:
    reset = _help_center(acme)["reset"]
    client = Client()
    assert [client.get("/help/acme/en/search", {"q": "password"}).status_code for _ in range(3)] == [200, 200, 429]
    url = f"/help/acme/en/articles/{reset.pk}/feedback"
    assert client.post(url, {"helpful": "yes"}).status_code == 303
    refused = client.post(url, {"helpful": "no"})
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert list(ArticleFeedback.objects.values_list("helpful", flat=True)) == [True]


def test_feedback_without_javascript_is_stored_with_the_visitors_session(acme: Cast) -> None:
    reset = _help_center(acme)["reset"]
    client = Client(enforce_csrf_checks=True)
    client.get("/help/acme/en/search", {"q": "password"})
    page = client.get(_article_url(acme, reset)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    url = f"/help/acme/en/articles/{reset.pk}/feedback"
    assert client.post(url, {"helpful": "no", "comment": "Say where Sign in is"}).status_code == 403  # no token
    sent = client.post(url, {"helpful": "no", "comment": " Say where Sign in is ", "csrfmiddlewaretoken": token})
    assert (sent.status_code, sent["Location"]) == (303, f"{_article_url(acme, reset)}?feedback=thanks#feedback")
    assert "Thank you for your feedback." in client.get(sent["Location"]).content.decode()
    vote = ArticleFeedback.objects.get()
    assert (vote.helpful, vote.comment, vote.translation.locale) == (False, "Say where Sign in is", "en")
    assert vote.request_session == RequestSession.objects.get()


def test_feedback_inline_and_refusals_store_nothing(acme: Cast) -> None:
    reset = _help_center(acme)["reset"]
    client = Client()
    url = f"/help/acme/es/articles/{reset.pk}/feedback"
    wrong = client.post(url, {"helpful": "maybe"})
    assert wrong.status_code == 400
    assert "Elige «Sí» o «No»." in wrong.content.decode()
    too_long = client.post(url, {"helpful": "yes", "comment": "x" * 2001}, headers={"x-deskloop-partial": "1"})
    assert too_long.status_code == 422
    assert ArticleFeedback.objects.count() == 0
    inline = client.post(url, {"helpful": "yes"}, headers={"x-deskloop-partial": "1"})
    assert inline.status_code == 200
    assert inline.content.decode().startswith('<section id="feedback"')
    vote = ArticleFeedback.objects.get()
    assert (vote.helpful, vote.translation.locale, vote.request_session) == (True, "es", None)


def test_sitemap_lists_every_readable_translation_with_its_alternates(acme: Cast) -> None:
    articles = _help_center(acme)
    xml = Client().get("/help/acme/sitemap.xml")
    assert xml["Content-Type"] == "application/xml; charset=utf-8"
    body = xml.content.decode()
    locs = re.findall(r"<loc>([^<]+)</loc>", body)
    reset, twofactor = articles["reset"].pk, articles["twofactor"].pk
    assert locs == [
        "http://testserver/help/acme/en/",
        "http://testserver/help/acme/es/",
        f"http://testserver/help/acme/en/articles/{reset}-reset-your-password/",
        f"http://testserver/help/acme/es/articles/{reset}-restablecer-la-contrase%C3%B1a/",
        f"http://testserver/help/acme/en/articles/{twofactor}-two-factor-authentication-and-your-password/",
    ]
    assert body.count('hreflang="es"') == 2


@override_settings(DESKLOOP_HELP_CENTER_HOSTS=["help.acme.example"], ALLOWED_HOSTS=["testserver", "help.acme.example"])
def test_a_help_center_on_its_own_host_name(acme: Cast) -> None:
    reset = _help_center(acme)["reset"]
    HelpCenter.objects.create(workspace=acme.workspace, host_name="Help.Acme.Example")
    client = Client(headers={"host": "HELP.acme.example:8443"})
    assert client.get("/", headers={"accept-language": "es"})["Location"] == "/es/"
    page = client.get(f"/en/articles/{reset.pk}-reset-your-password/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'<link rel="canonical" href="http://help.acme.example/en/articles/{reset.pk}-reset-your-password/">' in html
    assert 'href="/en/c/passwords/"' in html
    assert 'action="/en/articles/' in html
    # The path form keeps working, and points search engines at the own host.
    other = Client().get(f"/help/acme/en/articles/{reset.pk}-reset-your-password/").content.decode()
    assert (
        f'<link rel="canonical" href="http://help.acme.example/en/articles/{reset.pk}-reset-your-password/">' in other
    )
    assert client.get("/tickets/").status_code == 404  # the agents' app is not on the help center's host
    assert "http://help.acme.example/en/" in client.get("/sitemap.xml").content.decode()
    # A Host nobody listed is refused by Django's host validation, whatever the database says.
    assert Client(headers={"host": "evil.example"}).get("/").status_code == 400


def test_pages_come_from_the_cache_until_the_article_changes(acme: Cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    reset = _help_center(acme)["reset"]
    client = Client()
    url = _article_url(acme, reset)
    first = client.get(url).content.decode()
    with django_assert_max_num_queries(2):  # the workspace and the article's version; the page from the cache
        again = client.get(url)
    assert again.status_code == 200
    token = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    assert token.search(first)
    assert token.search(again.content.decode())
    assert "placeholder" not in again.content.decode().split("csrfmiddlewaretoken")[1][:80]
    save_translation(
        actor=None,
        article=reset,
        locale="en",
        title="Reset your password",
        body_html="<p>Use the new sign-in page.</p>",
    )
    assert "Use the new sign-in page." in client.get(url).content.decode()
    update_article(
        actor=None,
        article=reset,
        about=ArticleAbout(
            category=reset.category, visibility=ArticleVisibility.INTERNAL, product_area=None, tags=(), external_id=""
        ),
    )
    assert client.get(url).status_code == 404
    assert "Reset your password" not in client.get("/help/acme/en/c/passwords/").content.decode()


def test_an_agent_reading_the_help_center_gets_no_store(acme: Cast) -> None:
    reset = _help_center(acme)["reset"]
    page = signed_in_client(acme.agent).get(_article_url(acme, reset))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert "public" not in page["Cache-Control"]


def test_related_articles_share_the_product_area_or_a_tag(acme: Cast) -> None:
    area = ProductArea.objects.create(workspace=acme.workspace, name="Time tracking", path="Time tracking")
    one = create_article(
        actor=None,
        workspace=acme.workspace,
        locale="en",
        title="Start a timer",
        body_html="<p>a</p>",
        publish=True,
        about=ArticleAbout(product_area=area),
    )
    create_article(
        actor=None,
        workspace=acme.workspace,
        locale="en",
        title="Edit a time entry",
        body_html="<p>b</p>",
        publish=True,
        about=ArticleAbout(product_area=area),
    )
    create_article(
        actor=None,
        workspace=acme.workspace,
        locale="en",
        title="Timer shortcuts",
        body_html="<p>c</p>",
        publish=True,
        about=ArticleAbout(tags=("timer",)),
    )
    Article.objects.get(pk=one.pk).tags.set(Article.objects.get(translations__title="Timer shortcuts").tags.all())
    html = Client().get(_article_url(acme, one)).content.decode()
    related = re.findall(r"<li><a href=\"[^\"]+\">([^<]+)</a></li>", html.split('id="related-heading"')[1])
    assert sorted(related) == ["Edit a time entry", "Timer shortcuts"]


def test_related_articles_fall_back_to_the_ranker_when_nothing_is_shared(acme: Cast) -> None:
    def article(title: str, body: str) -> Article:
        return create_article(
            actor=None, workspace=acme.workspace, locale="en", title=title, body_html=f"<p>{body}</p>", publish=True
        )

    export = article("Export time entries to CSV", "Open Reports, choose Export and pick CSV to download entries.")
    article("Export invoices to CSV or Excel", "Open Invoices, choose Export and pick CSV or Excel to download.")
    article("Change your profile picture", "Open Profile and upload a square image.")
    html = Client().get(_article_url(acme, export)).content.decode()
    related = re.findall(r"<li><a href=\"[^\"]+\">([^<]+)</a></li>", html.split('id="related-heading"')[1])
    assert related[0] == "Export invoices to CSV or Excel"
    assert "Export time entries to CSV" not in related
