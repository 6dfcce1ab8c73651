"""The deflection sweep, told as the scheduler sees it: sessions recorded by the self-service channels, time passing,
customers writing (or not) afterwards, and ``judge_request_sessions`` deciding what each session was."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from deskloop.channels.email.models import Mailbox
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.conftest import Cast
from deskloop.core.periodic import registered_jobs
from deskloop.customers.services import find_or_create_contact
from deskloop.knowledge.models import RequestChannel, RequestOutcome, RequestSession
from deskloop.knowledge.services.request_sessions import (
    record_search,
    record_solved,
    record_submitted,
    record_suggestions_shown,
    start_request_session,
)
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.tickets import NewTicket, open_ticket

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def judge() -> int:
    out = StringIO()
    call_command("judge_request_sessions", stdout=out)
    return int(out.getvalue().split(":")[1])


def outcome(session: RequestSession) -> str:
    session.refresh_from_db()
    return session.outcome


def shown(cast: Cast, **who: object) -> RequestSession:
    """A widget session in which the customer typed and suggestions were shown, then nothing more."""
    session = start_request_session(workspace=cast.workspace, channel=RequestChannel.WIDGET, locale="en", **who)  # type: ignore[arg-type]
    record_suggestions_shown(session=session, query="reset my password", article_ids=[1, 2])
    return session


def customer_emails(cast: Cast, sender: str, subject: str) -> Ticket:
    mailbox, _new = Mailbox.objects.get_or_create(
        workspace=cast.workspace, address=f"help@{cast.workspace.slug}.example"
    )
    raw = (
        f"From: {sender}\r\nTo: {mailbox.address}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@x.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nThe article did not help, I still cannot sign in.\r\n"
    ).encode()
    ingest_raw(mailbox=mailbox, raw=raw, via="smtp")
    return Ticket.objects.get(workspace=cast.workspace, subject=subject)


def test_the_scheduler_runs_the_sweep() -> None:
    assert "judge_request_sessions" in {job.name for job in registered_jobs()}


def test_an_idle_session_that_saw_suggestions_is_left_after_a_suggestion_and_one_that_saw_nothing_is_not(
    acme: Cast,
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        saw = shown(acme, contact=acme.customer)
        searched = start_request_session(workspace=acme.workspace, channel=RequestChannel.HELP_CENTER, locale="en")
        record_search(session=searched, query="vat number", article_ids=[])
        typed_nothing = start_request_session(workspace=acme.workspace, channel=RequestChannel.PORTAL, locale="en")
        clock.shift(dt.timedelta(minutes=29))
        assert judge() == 0
        assert outcome(saw) == RequestOutcome.OPEN
        clock.shift(dt.timedelta(minutes=2))
        assert judge() == 3
        assert judge() == 0  # idempotent
    assert outcome(saw) == RequestOutcome.LEFT_AFTER_SUGGESTION
    assert outcome(searched) == RequestOutcome.LEFT_AFTER_SUGGESTION
    assert outcome(typed_nothing) == RequestOutcome.LEFT_BEFORE_SUGGESTION


def test_a_step_keeps_the_session_open(acme: Cast) -> None:
    """Idle means no step for 30 minutes, not 30 minutes since the start."""
    with time_machine.travel(START, tick=False) as clock:
        session = shown(acme, contact=acme.customer)
        clock.shift(dt.timedelta(minutes=20))
        record_suggestions_shown(session=session, query="reset my password please", article_ids=[1])
        clock.shift(dt.timedelta(minutes=20))
        judge()
        assert outcome(session) == RequestOutcome.OPEN


def test_no_ticket_within_the_window_is_a_verified_deflection_and_only_then(acme: Cast) -> None:
    with time_machine.travel(START, tick=False) as clock:
        left = shown(acme, contact=acme.customer)
        solved = shown(acme, visitor_id="cookie-1")
        record_solved(session=solved, article=None)
        clock.shift(dt.timedelta(hours=1))
        judge()
        assert outcome(left) == RequestOutcome.LEFT_AFTER_SUGGESTION
        clock.shift(dt.timedelta(hours=70))
        judge()
        assert (outcome(left), outcome(solved)) == (
            RequestOutcome.LEFT_AFTER_SUGGESTION,
            RequestOutcome.SOLVED_BY_ARTICLE,
        )
        clock.shift(dt.timedelta(hours=1, seconds=1))
        assert judge() == 2
        assert judge() == 0
    assert (outcome(left), outcome(solved)) == (RequestOutcome.VERIFIED_DEFLECTION, RequestOutcome.VERIFIED_DEFLECTION)
    assert left.outcome_at == START + dt.timedelta(hours=72)
    assert left.ticket is None


def test_an_email_from_the_customer_within_the_window_makes_the_session_returned_with_its_ticket(acme: Cast) -> None:
    with time_machine.travel(START, tick=False) as clock:
        session = shown(acme, contact=acme.customer)
        clock.shift(dt.timedelta(hours=2))
        judge()
        clock.shift(dt.timedelta(hours=40))
        ticket = customer_emails(acme, "Carmen <carmen@globex-acme.example>", "still-locked-out")
        assert judge() == 1
        clock.shift(dt.timedelta(days=5))
        assert judge() == 0
    session.refresh_from_db()
    assert (session.outcome, session.ticket_id, session.outcome_at) == (
        RequestOutcome.RETURNED,
        ticket.pk,
        ticket.created_at,
    )


def test_an_anonymous_visitors_address_and_later_session_count_as_the_same_customer(acme: Cast) -> None:
    with time_machine.travel(START, tick=False) as clock:
        by_address = shown(acme, visitor_id="cookie-a", email="Dora@Example.org")
        by_visitor = shown(acme, visitor_id="cookie-b")
        record_solved(session=by_visitor, article=None)
        clock.shift(dt.timedelta(hours=3))
        judge()
        emailed = customer_emails(acme, "dora@example.org", "dora-writes")
        # The same browser (cookie) comes back and writes through the widget form.
        again = start_request_session(
            workspace=acme.workspace, channel=RequestChannel.WIDGET, locale="en", visitor_id="cookie-b"
        )
        contact = find_or_create_contact(workspace=acme.workspace, email="eve@example.org")
        written = open_ticket(
            workspace=acme.workspace, ticket=NewTicket(requester=contact, subject="s", body_text="b")
        )[0]
        record_submitted(session=again, ticket=written)
        assert judge() == 2
    assert (outcome(by_address), by_address.ticket_id) == (RequestOutcome.RETURNED, emailed.pk)
    assert (outcome(by_visitor), by_visitor.ticket_id) == (RequestOutcome.RETURNED, written.pk)


def test_tickets_before_the_session_after_the_window_or_in_another_workspace_do_not_count(
    acme: Cast, umbrella: Cast
) -> None:
    """Carmen's ticket from the cast predates the session; Umbrella's Carmen-address contact is another tenant."""
    with time_machine.travel(START, tick=False) as clock:
        session = shown(acme, contact=acme.customer)
        clock.shift(dt.timedelta(hours=1))
        customer_emails(umbrella, "carmen@globex-acme.example", "other-tenant")
        judge()
        clock.shift(dt.timedelta(hours=72))
        judge()
        assert outcome(session) == RequestOutcome.VERIFIED_DEFLECTION
        customer_emails(acme, "carmen@globex-acme.example", "too-late")
        assert judge() == 0
    assert outcome(session) == RequestOutcome.VERIFIED_DEFLECTION


def test_submitted_sessions_and_their_tickets_are_left_alone(acme: Cast) -> None:
    with time_machine.travel(START, tick=False) as clock:
        session = shown(acme, contact=acme.customer)
        record_submitted(session=session, ticket=acme.ticket)
        clock.shift(dt.timedelta(days=4))
        assert judge() == 0
    session.refresh_from_db()
    assert (session.outcome, session.ticket_id) == (RequestOutcome.SUBMITTED, acme.ticket.pk)


@pytest.mark.parametrize("count", [1201])
def test_a_backlog_larger_than_a_batch_is_judged_in_one_run(acme: Cast, count: int) -> None:
    with time_machine.travel(START, tick=False) as clock:
        RequestSession.objects.bulk_create(
            RequestSession(
                workspace=acme.workspace,
                channel=RequestChannel.WIDGET,
                outcome=RequestOutcome.LEFT_AFTER_SUGGESTION,
                started_at=timezone.now(),
                email=f"n{i}@example.org",
            )
            for i in range(count)
        )
        clock.shift(dt.timedelta(hours=73))
        assert judge() == count
    assert RequestSession.objects.filter(outcome=RequestOutcome.VERIFIED_DEFLECTION).count() == count
