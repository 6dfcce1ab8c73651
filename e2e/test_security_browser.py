"""The Content-Security-Policy in a real Chromium: the agent pages work under it without a single violation, and
the API docs render from Deskloop's own static files with every other host unreachable."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route

from deskloop.conftest import Cast
from deskloop.tickets.services.configuration_groups import create_product_area
from e2e.conftest import expect, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Chromium reports a refused script, style or eval both as a console error and as a DOM event; both are collected.
_COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


def _watch_for_violations(page: Page) -> list[str]:
    console: list[str] = []
    page.add_init_script(_COLLECT_VIOLATIONS)
    page.on(
        "console",
        lambda message: console.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return console


def _violations(page: Page) -> list[str]:
    return list(page.evaluate("window.__cspViolations"))


def test_inbox_ticket_and_settings_pages_run_without_a_policy_violation(acme: Cast, live_url: str, page: Page) -> None:
    billing = create_product_area(actor=acme.admin, name="Billing")
    create_product_area(actor=acme.admin, name="Invoices", parent=billing)
    console = _watch_for_violations(page)
    sign_in(page, live_url, acme.admin)

    response = page.goto(f"{live_url}/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_role("link", name="Invoice shows the wrong VAT number")).to_be_visible()
    assert _violations(page) == []

    page.goto(f"{live_url}/tickets/{acme.ticket.number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoice shows the wrong VAT number")
    # The scripts run: the keyboard shortcut focuses the composer (ticket.js), htmx sends the reply in place.
    page.keyboard.press("r")
    expect(page.locator("#composer-body")).to_be_focused()
    page.keyboard.type("Thanks, we are on it.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#conversation [data-message]")).to_have_count(2)
    assert _violations(page) == []

    # The product-area tree indents sub-areas without a style="" attribute (settings.js sets it).
    page.goto(f"{live_url}/settings/product-areas/")
    indent = page.locator("tr[data-area='Billing > Invoices'] .tree-indent")
    expect(indent).to_have_css("width", "20px")
    assert _violations(page) == []
    page.goto("about:blank")
    assert console == []


def test_api_docs_render_with_every_other_host_unreachable(acme: Cast, live_url: str, page: Page) -> None:
    ours = urlsplit(live_url).netloc
    elsewhere: list[str] = []

    def only_this_server(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    console = _watch_for_violations(page)
    page.goto(f"{live_url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Deskloop API")
    expect(page.locator(".opblock-summary-path[data-path='/api/v1/tickets']").first).to_be_visible()
    assert elsewhere == []
    assert _violations(page) == []
    assert console == []
