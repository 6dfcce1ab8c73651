"""What one inbound email that opens a ticket costs in SQL queries, counted exactly (see also
deskloop/tickets/tests/test_create_query_counts.py for the ticket services it runs)."""

from __future__ import annotations

from pytest_django import DjangoAssertNumQueries

from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.tickets.models import EventKind, Ticket, TicketEvent

from .corpus import BASIC, real


def test_an_email_opening_a_ticket(acme: Cast, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    mailbox = create_mailbox(
        actor=acme.admin, values=MailboxSettings(address="support@acme.example", default_team=acme.support)
    )
    raw = real(BASIC)  # from a new contact, with one more address in To (a new CC contact)
    with django_assert_num_queries(46):
        result = ingest_raw(mailbox=mailbox, raw=raw, via="imap")
    assert (result.state, result.outcome, result.ticket_number) == ("processed", "new_ticket", 2)
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert (ticket.version, ticket.message_count, ticket.team) == (2, 1, acme.support)
    assert list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", "field")) == [
        (EventKind.CREATED, ""),
        (EventKind.MESSAGE_ADDED, ""),
        (EventKind.FIELD_CHANGED, "cc"),
    ]
