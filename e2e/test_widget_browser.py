"""The in-app widget inside a host application that sends a strict Content-Security-Policy (scripts and frames
from Deskloop's origin only, nothing inline), on another site than Deskloop (127.0.0.1 embeds localhost), so the
panel is a third-party iframe: it opens from the keyboard, searches, reads, submits a request, and an identified
user sees and answers their conversations; neither page reports a policy violation."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from playwright.sync_api import FrameLocator, Page

from deskloop.channels.widget.tests.conftest import ACME_SECRET, give_help_center, signed_claims
from deskloop.conftest import Cast
from deskloop.knowledge.services.articles import create_article
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.messages import add_agent_reply
from e2e.conftest import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
def host_url(live_url: str) -> Iterator[str]:
    """A customer's application on another site, embedding the widget with the one documented tag."""
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Host app</title>"
        f"<script src='{live_url}/widget.js' data-workspace='acme' async></script>"
        "</head><body><h1>Host app</h1><p>Your dashboard.</p></body></html>"
    ).encode()
    policy = f"default-src 'none'; script-src {live_url}; frame-src {live_url}; style-src 'self'; base-uri 'none'"

    class Host(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Host)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def help_center(acme: Cast) -> Cast:
    give_help_center(acme, ACME_SECRET)
    create_article(
        actor=acme.agent,
        workspace=acme.workspace,
        locale="en",
        title="Export your data as CSV",
        body_html="<p>Open Reports and press <b>Export CSV</b>.</p>",
        publish=True,
    )
    return acme


def _open_host(page: Page, host_url: str) -> tuple[list[str], FrameLocator]:
    console: list[str] = []
    page.add_init_script(_COLLECT_VIOLATIONS)
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(host_url)
    expect(page.get_by_role("button", name="Help")).to_be_visible()
    return console, page.frame_locator("#deskloop-widget-panel iframe")


def _violations(page: Page) -> list[str]:
    found: list[str] = []
    for frame in page.frames:
        found += frame.evaluate("window.__cspViolations || []")
    return found


def test_a_visitor_opens_searches_reads_and_submits_from_the_keyboard(
    help_center: Cast, host_url: str, page: Page
) -> None:
    console, panel = _open_host(page, host_url)
    launcher = page.get_by_role("button", name="Help")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Help and support")).to_be_visible()
    expect(page.get_by_role("button", name="Close help").first).to_have_attribute("aria-expanded", "true")
    # Focus moved into the panel: typing lands in its search box.
    expect(panel.get_by_label("Search our help articles")).to_be_focused()
    page.keyboard.type("export csv")
    panel.get_by_role("link", name="Export your data as CSV").click()
    expect(panel.get_by_role("heading", name="Export your data as CSV")).to_be_visible()

    panel.get_by_role("tab", name="Contact us").click()
    panel.get_by_label("Your email").fill("nia@startup.example")
    panel.get_by_label("Subject").fill("Export as CSV")
    # Live suggestions while writing.
    expect(panel.get_by_role("link", name="Export your data as CSV")).to_be_visible()
    panel.get_by_label("How can we help?").fill("The file has no rows since Monday.")
    panel.get_by_role("button", name="Send").click()
    expect(panel.get_by_text("We received your request")).to_be_visible()
    ticket = Ticket.objects.get(subject="Export as CSV")
    assert (ticket.channel, ticket.requester.primary_email) == ("widget", "nia@startup.example")

    # Escape inside the panel closes it and gives focus back to the launcher.
    panel.get_by_role("tab", name="Contact us").focus()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Help and support")).to_be_hidden()
    expect(page.get_by_role("button", name="Help")).to_be_focused()
    assert _violations(page) == []
    assert console == []


def test_an_identified_user_sees_and_answers_their_conversations(help_center: Cast, host_url: str, page: Page) -> None:
    acme = help_center
    add_agent_reply(ticket=acme.ticket, agent=acme.agent, body_text="We corrected the VAT number.")
    console, panel = _open_host(page, host_url)
    claims = signed_claims("acme", ACME_SECRET, user_id="c-1", email=acme.customer.primary_email, name="Carmen")
    # What the host page's own script does once its server has signed the user.
    page.evaluate("claims => { window.Deskloop('identify', claims); window.Deskloop('open'); }", claims)
    panel.get_by_role("tab", name="My conversations").click()
    panel.get_by_role("link", name="Invoice shows the wrong VAT number").click()
    expect(panel.get_by_text("We corrected the VAT number.")).to_be_visible()
    panel.get_by_label("Your reply").fill("Thanks, it is right now.")
    panel.get_by_role("button", name="Send reply").click()
    expect(panel.get_by_text("Thanks, it is right now.")).to_be_visible()
    assert acme.ticket.messages.filter(body_text="Thanks, it is right now.", channel="widget").exists()
    page.evaluate("window.Deskloop('close')")
    expect(page.get_by_role("dialog", name="Help and support")).to_be_hidden()
    assert _violations(page) == []
    assert console == []


def test_an_anonymous_visitor_confirms_by_the_mailed_link_before_seeing_conversations(
    help_center: Cast, host_url: str, live_url: str, page: Page
) -> None:
    acme = help_center
    console, panel = _open_host(page, host_url)
    page.get_by_role("button", name="Help").click()
    panel.get_by_role("tab", name="My conversations").click()
    expect(panel.get_by_text("Confirm your email to see your conversations")).to_be_visible()
    expect(panel.get_by_role("link", name="Invoice shows the wrong VAT number")).to_have_count(0)
    panel.locator("#pane-conversations").get_by_label("Your email").fill(acme.customer.primary_email)
    panel.get_by_role("button", name="Send me a link").click()
    expect(panel.get_by_text("Code:")).to_be_visible()
    code = panel.locator("[data-claim-url] strong").inner_text()

    # The customer opens the link from the mail that went out, in another tab of the same browser.
    # (The mail names SITE_URL; the test's server listens elsewhere.)
    link = re.search(r"https?://[^/\s]+(/portal/\S+/signin/\S+/)", mail.outbox[-1].body).group(1)  # type: ignore[union-attr]
    mailbox_tab = page.context.new_page()
    mailbox_tab.goto(live_url + link)
    mailbox_tab.get_by_role("button", name="Continue to Acme support").click()
    expect(mailbox_tab.get_by_text(code)).to_be_visible()
    mailbox_tab.get_by_role("button", name="Yes, show my conversations there").click()
    expect(mailbox_tab.get_by_role("status")).to_contain_text("Done")
    mailbox_tab.close()

    # Back in the host application, the panel notices and shows the conversations.
    expect(panel.get_by_role("link", name="Invoice shows the wrong VAT number")).to_be_visible()
    assert _violations(page) == []
    assert console == []


def test_the_demo_host_page_identifies_its_customer_under_its_strict_policy(
    transactional_db: None, live_url: str, page: Page
) -> None:
    from deskloop.demo.seed import seed_demo

    seed_demo(tickets=6)
    console: list[str] = []
    page.add_init_script(_COLLECT_VIOLATIONS)
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    response = page.goto(f"{live_url}/widget-demo/")
    assert response is not None
    assert response.headers["content-security-policy"].startswith("default-src 'none'; script-src ")
    page.get_by_role("button", name="Report a problem with this report").click()
    panel = page.frame_locator("#deskloop-widget-panel iframe")
    # The prefill command opened the Contact tab with the host's text; the identify command named the customer.
    expect(panel.get_by_label("Subject")).to_have_value("The weekly report is empty")
    expect(panel.locator("body")).to_have_attribute("data-identified", re.compile(r"\S"))
    page.get_by_role("button", name="Help").click()
    panel.get_by_role("tab", name="My conversations").click()
    expect(panel.locator("#conversations-holder li").first).to_be_visible()
    assert _violations(page) == []
    assert console == []
