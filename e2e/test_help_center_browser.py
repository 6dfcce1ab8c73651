"""The public help center in a real Chromium: a visitor searches with and without JavaScript, opens an article and
votes "helpful"; a phone has no horizontal scroll; the language switch leads to the same article in Spanish. The
pages run under the Content-Security-Policy without a violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from deskloop.conftest import Cast
from deskloop.knowledge.models import Article, ArticleFeedback, RequestEvent, RequestEventKind
from deskloop.knowledge.services.articles import ArticleAbout, create_article, save_translation
from deskloop.knowledge.services.categories import create_category
from e2e.conftest import expect, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_SE = {"width": 375, "height": 667}


def _articles(cast: Cast) -> Article:
    account = create_category(actor=None, workspace=cast.workspace, name="Account", name_translations={"es": "Cuenta"})
    section = create_category(actor=None, workspace=cast.workspace, name="Passwords and sign-in", parent=account)
    reset = create_article(
        actor=None,
        workspace=cast.workspace,
        locale="en",
        title="Reset a forgotten password",
        body_html="<p>On the sign-in page, click <strong>Forgot password?</strong> and follow the link we email you."
        " The link works once and is valid for one hour.</p>",
        publish=True,
        about=ArticleAbout(category=section),
    )
    save_translation(
        actor=None,
        article=reset,
        locale="es",
        title="Restablecer una contraseña olvidada",
        body_html="<p>En la página de inicio de sesión, haz clic en <strong>¿Olvidaste tu contraseña?</strong>.</p>",
        publish=True,
    )
    create_article(
        actor=None,
        workspace=cast.workspace,
        locale="en",
        title="Turn on two-factor authentication",
        body_html="<p>Scan the QR code with an authenticator app and keep the backup codes somewhere safe.</p>",
        publish=True,
        about=ArticleAbout(category=section),
    )
    return reset


def _watch_csp(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def test_a_visitor_searches_with_javascript_opens_an_article_and_votes_helpful(
    acme: Cast, live_url: str, page: Page
) -> None:
    reset = _articles(acme)
    violations = _watch_csp(page)
    page.goto(f"{live_url}/help/acme/")
    assert page.url == f"{live_url}/help/acme/en/"
    expect(page.get_by_role("heading", level=1)).to_have_text("How can we help?")
    page.get_by_label("Search the help center").fill("forgot my password")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("region", name="Search results")
    expect(results.get_by_role("heading", level=2)).to_contain_text("for “forgot my password”")
    # Shown in place: the script fetched the results, the page did not change.
    assert page.url == f"{live_url}/help/acme/en/"
    results.get_by_role("link", name="Reset a forgotten password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset a forgotten password")
    article_url = page.url
    page.get_by_label("Anything we should add or fix? (optional)").fill("Clear, thanks")
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_role("status").filter(has_text="Thank you for your feedback.")).to_be_visible()
    assert page.url == article_url
    vote = ArticleFeedback.objects.get()
    assert (vote.helpful, vote.comment, vote.translation.article_id) == (True, "Clear, thanks", reset.pk)
    assert vote.request_session is not None
    searched = RequestEvent.objects.get(kind=RequestEventKind.SEARCHED)
    assert (searched.query, searched.session_id) == ("forgot my password", vote.request_session.pk)
    assert violations == []


def test_a_visitor_without_javascript_searches_reads_and_votes(acme: Cast, live_url: str, browser: Browser) -> None:
    reset = _articles(acme)
    with open_page(browser, java_script_enabled=False) as page:
        page.goto(f"{live_url}/help/acme/en/")
        page.get_by_label("Search the help center").fill("backup codes")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(f"{live_url}/help/acme/en/search?q=backup+codes")
        expect(page.get_by_role("heading", level=2)).to_have_text("1 article for “backup codes”")
        page.get_by_label("Search the help center").fill("password link")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Reset a forgotten password").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Reset a forgotten password")
        page.get_by_role("button", name="Yes").click()
        page.wait_for_url(f"**/articles/{reset.pk}-reset-a-forgotten-password/?feedback=thanks#feedback")
        expect(page.get_by_text("Thank you for your feedback.")).to_be_visible()
    assert list(ArticleFeedback.objects.values_list("helpful", "translation__locale")) == [(True, "en")]
    assert list(RequestEvent.objects.order_by("id").values_list("query", flat=True)) == [
        "backup codes",
        "password link",
    ]


def test_the_language_switch_leads_to_the_same_article_in_spanish(acme: Cast, live_url: str, page: Page) -> None:
    reset = _articles(acme)
    page.goto(f"{live_url}/help/acme/en/articles/{reset.pk}-reset-a-forgotten-password/")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Restablecer una contraseña olvidada")
    assert page.evaluate("document.documentElement.lang") == "es"
    expect(page.get_by_text("¿Te ha resultado útil este artículo?")).to_be_visible()
    expect(page.get_by_role("navigation", name="Ruta de navegación").get_by_role("link", name="Cuenta")).to_be_visible()


def test_help_center_pages_fit_a_phone_without_horizontal_scrolling(
    acme: Cast, live_url: str, browser: Browser
) -> None:
    reset = _articles(acme)
    with open_page(browser, viewport=PHONE_SE, is_mobile=True) as page:
        for path in (
            "/help/acme/en/",
            "/help/acme/en/c/account/",
            f"/help/acme/en/articles/{reset.pk}-reset-a-forgotten-password/",
            "/help/acme/en/search?q=password",
        ):
            page.goto(f"{live_url}{path}")
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths == [375, 375], path
        expect(page.get_by_role("button", name="Search")).to_be_visible()
