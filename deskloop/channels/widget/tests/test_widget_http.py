"""The widget from the host page's side: the loader, the panel in its iframe, answers, the request form, identity
and the identified visitor's conversations, all through HTTP as the browser sends it."""

from __future__ import annotations

import gzip

import pytest
from django.test import Client, override_settings

from deskloop.channels.widget.tests.conftest import (
    ACME_SECRET,
    UMBRELLA_SECRET,
    Panel,
    Shelf,
    give_help_center,
    signed_claims,
)
from deskloop.conftest import Cast
from deskloop.customers.services import find_or_create_contact
from deskloop.knowledge.models import RequestEvent, RequestEventKind, RequestOutcome, RequestSession
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.messages import add_agent_reply, add_internal_note
from deskloop.tickets.services.tickets import NewTicket, open_ticket

pytestmark = pytest.mark.django_db

LOADER_GZIP_BUDGET = 15 * 1024


def test_the_loader_is_small_cacheable_javascript() -> None:
    response = Client().get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert len(gzip.compress(response.content)) < LOADER_GZIP_BUDGET
    source = response.content.decode()
    # Labels in every language the panel speaks; nothing a strict host CSP refuses (no <style>, no eval).
    assert '"es": {"open": ' in source
    assert "Ayuda" in source
    for refused in ('createElement("style")', "eval(", "new Function", 'setAttribute("style"', "innerHTML"):
        assert refused not in source


def test_only_the_panel_may_be_framed(shelf: Shelf) -> None:
    panel = Client().get("/widget/acme/panel/?locale=en&origin=https://app.example")
    assert panel.status_code == 200
    assert "frame-ancestors *" in panel["Content-Security-Policy"]
    assert "X-Frame-Options" not in panel
    answers = Client().get("/widget/acme/answers/?q=export")
    assert "frame-ancestors 'none'" in answers["Content-Security-Policy"]
    assert answers["X-Frame-Options"] == "DENY"
    login = Client().get("/login/")
    assert "frame-ancestors 'none'" in login["Content-Security-Policy"]


def test_the_panel_addresses_only_a_bare_host_origin(shelf: Shelf) -> None:
    good = Client().get("/widget/acme/panel/?origin=https://app.example")
    assert 'data-host-origin="https://app.example"' in good.content.decode()
    for bad in ("javascript:alert(1)", "https://app.example/path", "*", ""):
        page = Client().get("/widget/acme/panel/", {"origin": bad})
        assert 'data-host-origin=""' in page.content.decode()


def test_an_unknown_workspace_is_404() -> None:
    assert Client().get("/widget/nobody/panel/").status_code == 404
    assert Client().get("/widget/nobody/answers/?q=x").status_code == 404


def test_opening_the_panel_starts_a_widget_request_session(acme: Cast, shelf: Shelf) -> None:
    Panel("acme", locale="es")
    session = RequestSession.objects.get(workspace=acme.workspace)
    assert (session.channel, session.locale, session.outcome) == ("widget", "es", RequestOutcome.OPEN)


def test_answers_search_public_published_articles_only_and_is_recorded(acme: Cast, shelf: Shelf) -> None:
    panel = Panel("acme")
    found = panel.get("answers/", q="export")
    assert found.status_code == 200
    text = found.content.decode()
    assert "Export your data as CSV" in text
    assert "Export refunds by hand" not in text  # internal
    assert "Export to Excel" not in text  # draft
    event = RequestEvent.objects.get(session__workspace=acme.workspace)
    assert (event.kind, event.query, event.suggested_article_ids) == ("searched", "export", [shelf.export.pk])


def test_reading_an_article_and_saying_it_solved_it(acme: Cast, shelf: Shelf) -> None:
    panel = Panel("acme")
    page = panel.get(f"articles/{shelf.export.pk}/")
    assert page.status_code == 200
    assert "<b>Export CSV</b>" in page.content.decode()
    assert panel.get(f"articles/{shelf.internal.pk}/").status_code == 404
    assert panel.get(f"articles/{shelf.draft.pk}/").status_code == 404
    assert panel.post("solved/", {"article_id": str(shelf.export.pk)}).status_code == 200
    session = RequestSession.objects.get(workspace=acme.workspace)
    assert session.outcome == RequestOutcome.SOLVED_BY_ARTICLE
    assert list(session.events.values_list("kind", "article_id")) == [
        (RequestEventKind.ARTICLE_OPENED, shelf.export.pk),
        (RequestEventKind.SOLVED, shelf.export.pk),
    ]


def test_live_suggestions_show_three_at_most_and_none_to_the_holdout(acme: Cast, shelf: Shelf) -> None:
    panel = Panel("acme")
    shown = panel.get("suggestions/", subject="export", body="")
    assert "Export your data as CSV" in shown.content.decode()
    event = RequestEvent.objects.get(session__workspace=acme.workspace)
    assert (event.kind, event.suggested_article_ids) == ("suggestions_shown", [shelf.export.pk])

    RequestSession.objects.update(in_holdout=True)
    held = panel.get("suggestions/", subject="export", body="")
    assert held.status_code == 200
    assert "Export your data" not in held.content.decode()
    kinds = list(
        RequestEvent.objects.filter(session__workspace=acme.workspace).values_list("kind", "suggested_article_ids")
    )
    assert kinds == [("suggestions_shown", [shelf.export.pk]), ("suggestions_shown", [])]


def test_a_request_becomes_a_widget_ticket_in_the_sessions_transaction(acme: Cast, shelf: Shelf) -> None:
    panel = Panel("acme")
    response = panel.post(
        "requests/",
        {"email": "newbie@startup.example", "name": "Nia", "subject": "Export is empty", "body": "No rows."},
    )
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get(workspace=acme.workspace, subject="Export is empty")
    assert (ticket.channel, ticket.requester.primary_email, ticket.requester.name) == (
        "widget",
        "newbie@startup.example",
        "Nia",
    )
    session = RequestSession.objects.get(workspace=acme.workspace)
    assert (session.outcome, session.ticket_id) == (RequestOutcome.SUBMITTED, ticket.pk)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-address", "subject": "Hi", "body": "x"}, "email"),
        ({"email": "", "subject": "Hi", "body": "x"}, "email"),
        ({"email": "a@b.example", "subject": "", "body": "x"}, "subject"),
        ({"email": "a@b.example", "subject": "Hi", "body": ""}, "body"),
        ({"email": "a@b.example", "subject": "x" * 201, "body": "x"}, "subject"),
        ({"email": "a@b.example", "subject": "Hi", "body": "x" * 20_001}, "body"),
    ],
)
def test_bad_input_is_refused_clearly_and_stores_nothing(
    acme: Cast, shelf: Shelf, fields: dict[str, str], field: str
) -> None:
    before = Ticket.objects.count()
    response = Panel("acme").post("requests/", fields)
    assert response.status_code == 422
    assert f'id="w-{field}-errors"' in response.content.decode()
    assert Ticket.objects.count() == before


def test_the_honeypot_stores_nothing_and_looks_the_same(acme: Cast, shelf: Shelf) -> None:
    before = Ticket.objects.count()
    fields = {"email": "bot@spam.example", "subject": "Cheap pills", "body": "Buy", "website": "http://spam.example"}
    response = Panel("acme").post("requests/", fields)
    assert response.status_code == 200
    assert "We received your request" in response.content.decode()
    assert Ticket.objects.count() == before


def test_a_post_without_the_pass_changes_nothing(acme: Cast, shelf: Shelf) -> None:
    before = Ticket.objects.count()
    client = Client(enforce_csrf_checks=True)
    response = client.post("/widget/acme/requests/", {"email": "a@b.example", "subject": "Hi", "body": "x"})
    assert response.status_code == 401
    assert Ticket.objects.count() == before


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={"search": (2, 100), "submit": (1, 100)})
def test_search_and_requests_are_rate_limited(acme: Cast, shelf: Shelf) -> None:
    panel = Panel("acme")  # counts as one "search"
    assert panel.get("answers/", q="export").status_code == 200
    limited = panel.get("answers/", q="export")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    fields = {"email": "a@b.example", "subject": "Hi", "body": "x"}
    assert panel.post("requests/", fields).status_code == 200
    assert panel.post("requests/", {**fields, "subject": "Again"}).status_code == 429
    assert Ticket.objects.filter(subject="Again").count() == 0


def _identified(cast: Cast, email: str, secret: str = ACME_SECRET) -> Panel:
    panel = Panel(cast.workspace.slug)
    response = panel.identify(signed_claims(cast.workspace.slug, secret, user_id="u-1", email=email, name="Carmen C"))
    assert response.status_code == 200, response.content
    return panel


def test_an_identified_user_sees_and_answers_their_own_conversations(acme: Cast, shelf: Shelf) -> None:
    add_agent_reply(ticket=acme.ticket, agent=acme.agent, body_text="We fixed the VAT number.")
    add_internal_note(ticket=acme.ticket, agent=acme.agent, body_text="SECRET-NOTE: refund quietly")
    colleague = find_or_create_contact(workspace=acme.workspace, email="gus@globex-acme.example", name="Gus")
    open_ticket(workspace=acme.workspace, ticket=NewTicket(requester=colleague, subject="GUS-PRIVATE", body_text="x"))

    panel = _identified(acme, acme.customer.primary_email)
    listing = panel.get("conversations/").content.decode()
    assert "Invoice shows the wrong VAT number" in listing
    assert "GUS-PRIVATE" not in listing  # same organization, another contact's ticket

    thread = panel.get(f"conversations/{acme.ticket.number}/")
    text = thread.content.decode()
    assert "We fixed the VAT number." in text
    assert "SECRET-NOTE" not in text

    reply = panel.post(f"conversations/{acme.ticket.number}/", {"body": "Thank you!"})
    assert reply.status_code == 200
    assert acme.ticket.messages.filter(body_text="Thank you!", author_contact=acme.customer, channel="widget").exists()
    gus_ticket = Ticket.objects.get(subject="GUS-PRIVATE")
    assert panel.get(f"conversations/{gus_ticket.number}/").status_code == 404
    assert panel.post(f"conversations/{gus_ticket.number}/", {"body": "hijack"}).status_code == 404
    assert not gus_ticket.messages.filter(body_text="hijack").exists()


def test_an_identified_users_request_is_theirs_whatever_email_the_form_says(acme: Cast, shelf: Shelf) -> None:
    panel = _identified(acme, acme.customer.primary_email)
    panel.post("requests/", {"email": "someone@else.example", "subject": "From the app", "body": "x"})
    assert Ticket.objects.get(subject="From the app").requester == acme.customer


def test_anonymous_visitors_see_no_conversation(acme: Cast, shelf: Shelf) -> None:
    panel = Panel("acme")
    listing = panel.get("conversations/")
    assert listing.status_code == 401
    assert "Invoice shows" not in listing.content.decode()
    assert panel.get(f"conversations/{acme.ticket.number}/").status_code == 401
    assert Client().get("/widget/acme/conversations/").status_code == 401


def test_identity_refusals_change_nothing(acme: Cast, shelf: Shelf) -> None:
    panel = Panel("acme")
    good = signed_claims("acme", ACME_SECRET, user_id="u-1", email="carmen@globex-acme.example")
    assert panel.identify({**good, "email": "olivia@acme.example"}).status_code == 401  # changed after signing
    assert panel.identify(signed_claims("acme", "guessed", user_id="u-1", email="x@y.example")).status_code == 401
    stale = signed_claims("acme", ACME_SECRET, at=1_000_000, user_id="u-1", email="carmen@globex-acme.example")
    assert panel.identify(stale).status_code == 401
    response = panel.client.post(
        "/widget/acme/identify/",
        "[1]",
        content_type="application/json",
        headers={"X-Deskloop-Widget": panel.widget_pass},
    )
    assert response.status_code == 400
    assert panel.get("conversations/").status_code == 401


def test_another_workspace_is_another_world(acme: Cast, umbrella: Cast, shelf: Shelf) -> None:
    give_help_center(umbrella, UMBRELLA_SECRET)
    # Umbrella's signature does not identify anyone in Acme, even for an address both know.
    acme_panel = Panel("acme")
    foreign = signed_claims("umbrella", UMBRELLA_SECRET, user_id="u-1", email=acme.customer.primary_email)
    assert acme_panel.identify(foreign).status_code == 401
    # A pass of Umbrella's panel is nothing in Acme's.
    umbrella_panel = _identified(umbrella, umbrella.customer.primary_email, UMBRELLA_SECRET)
    stolen = Client().get("/widget/acme/conversations/", headers={"X-Deskloop-Widget": umbrella_panel.widget_pass})
    assert stolen.status_code == 401
    assert "Invoice shows" not in stolen.content.decode()
    # Acme's articles are not Umbrella's.
    assert umbrella_panel.get(f"articles/{shelf.export.pk}/").status_code == 404
    assert "Export your data" not in umbrella_panel.get("answers/", q="export").content.decode()


def test_a_contact_blocked_since_is_anonymous_again(acme: Cast, shelf: Shelf) -> None:
    panel = _identified(acme, acme.customer.primary_email)
    assert panel.get("conversations/").status_code == 200
    type(acme.customer).objects.filter(pk=acme.customer.pk).update(is_blocked=True)
    assert panel.get("conversations/").status_code == 401
    assert "Invoice shows" not in panel.get(f"conversations/{acme.ticket.number}/").content.decode()
