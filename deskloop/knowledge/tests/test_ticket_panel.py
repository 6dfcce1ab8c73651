"""The agent opens a ticket a customer wrote after trying self-service, and sees what the customer saw first."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from django.db import transaction

from deskloop.conftest import Cast, signed_in_client
from deskloop.knowledge.models import Article, RequestChannel, RequestSession
from deskloop.knowledge.services.articles import create_article
from deskloop.knowledge.services.deflection_sweep import judge_request_sessions
from deskloop.knowledge.services.request_sessions import (
    record_article_opened,
    record_search,
    record_solved,
    record_submitted,
    record_suggestions_shown,
    start_request_session,
)
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.tickets import NewTicket, open_ticket

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def article(cast: Cast, title: str) -> Article:
    return create_article(
        actor=cast.agent, workspace=cast.workspace, locale="en", title=title, body_html="<p>x</p>", publish=True
    )


def panel_text(cast: Cast, ticket: Ticket) -> str:
    html = signed_in_client(cast.viewer).get(f"/tickets/{ticket.number}/").content.decode()
    found = re.search(r"<section class=\"panel request-sessions\".*?</section>", html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split()) if found else ""


def submit(cast: Cast, session: RequestSession, subject: str) -> Ticket:
    """What the portal's form does: the ticket and the session's end in one transaction."""
    with transaction.atomic():
        ticket = open_ticket(
            workspace=cast.workspace,
            ticket=NewTicket(requester=cast.customer, subject=subject, body_text="It still fails.", channel="web"),
        )[0]
        record_submitted(session=session, ticket=ticket)
    return ticket


def test_a_ticket_submitted_anyway_shows_the_suggestions_the_opened_article_and_the_searches(acme: Cast) -> None:
    vat, invoices, export = (
        article(acme, "Change your VAT number"),
        article(acme, "Download invoices"),
        article(acme, "Export"),
    )
    session = start_request_session(
        workspace=acme.workspace, channel=RequestChannel.PORTAL, locale="en", contact=acme.customer
    )
    record_search(session=session, query="vat invoice", article_ids=[vat.pk])
    record_suggestions_shown(session=session, query="Invoice shows", article_ids=[vat.pk])
    record_suggestions_shown(
        session=session, query="Invoice shows the old VAT number", article_ids=[vat.pk, invoices.pk]
    )
    record_article_opened(session=session, article=vat)
    record_article_opened(session=session, article=export)
    ticket = submit(acme, session, "Old VAT number on the invoice")
    text = panel_text(acme, ticket)
    assert "The customer saw: Change your VAT number opened Download invoices Also read: Export" in text
    assert "Searched: “vat invoice”" in text
    assert "Typed: “Invoice shows the old VAT number”" in text
    assert panel_text(acme, acme.ticket) == ""  # the cast's email ticket came from no session


def test_a_holdout_customer_saw_nothing_and_the_panel_says_so(acme: Cast) -> None:
    session = start_request_session(
        workspace=acme.workspace, channel=RequestChannel.WIDGET, locale="en", contact=acme.customer
    )
    RequestSession.objects.filter(pk=session.pk).update(in_holdout=True)
    session.refresh_from_db()
    record_suggestions_shown(session=session, query="refund please", article_ids=[])
    ticket = submit(acme, session, "Refund")
    assert "This customer was in the holdout: no suggestions were shown." in panel_text(acme, ticket)


def test_a_customer_who_said_solved_and_wrote_later_by_email_shows_on_that_ticket(acme: Cast) -> None:
    reset = article(acme, "Reset your password")
    with time_machine.travel(START, tick=False) as clock:
        session = start_request_session(
            workspace=acme.workspace, channel=RequestChannel.WIDGET, locale="en", contact=acme.customer
        )
        record_suggestions_shown(session=session, query="cannot sign in", article_ids=[reset.pk])
        record_solved(session=session, article=reset)
        clock.shift(dt.timedelta(hours=5))
        later = open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(requester=acme.customer, subject="Still locked out", body_text="b", channel="email"),
        )[0]
        judge_request_sessions()
    text = panel_text(acme, later)
    assert "left, then wrote this within the window" in text
    assert "Reset your password said it solved the problem" in text
