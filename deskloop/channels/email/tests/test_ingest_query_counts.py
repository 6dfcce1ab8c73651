"""What one inbound email that opens a ticket costs in SQL queries, counted exactly (see also
deskloop/tickets/tests/test_create_query_counts.py for the ticket services it runs)."""

from __future__ import annotations

from django.db import connection
from pytest_django import DjangoAssertNumQueries

from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.tickets.models import EventKind, Ticket, TicketEvent, TicketSearchDocument

from .corpus import AUTO_REPLY, BASIC, BOUNCE, real

BASIC_MESSAGE_ID = "6B7EC235-5B17-4CA8-B2B8-39290DEB43A3@test.lindsaar.net"
# The raw message's blob row and the InboundEmail row: one statement on PostgreSQL (the blob's INSERT rides along
# as a data-modifying WITH), two on SQLite.
STORED = 1 if connection.vendor == "postgresql" else 2


def test_an_email_opening_a_ticket(acme: Cast, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    mailbox = create_mailbox(
        actor=acme.admin, values=MailboxSettings(address="support@acme.example", default_team=acme.support)
    )
    raw = real(BASIC)  # from a new contact, with one more address in To (a new CC contact)
    # One transaction (stored and processed together; a savepoint pair here inside the test's transaction):
    # the mailboxes' addresses, blob and InboundEmail INSERT (STORED), then the mailboxes, sender identity, agents, the
    # requester (organization match, 2 INSERTs, no savepoint), the CC contact (lookup, organization match,
    # 2 INSERTs) found before the ticket, open_ticket 7 (the number with the default status, ticket, message, the
    # CC link, all events in one INSERT, search document without reading the new requester's address, outbox),
    # the InboundEmail UPDATE (46, 38, then 29 before).
    # 25: open_ticket's own savepoint pair (+2, the pipeline no longer switches it off); the new requester's address
    # read for the search document (+1, no faked prefetch cache); the CC copied by add_cc_contacts, the one CC path
    # (+1: its event in an INSERT of its own); the mailboxes' addresses and this mailbox with its team read apart,
    # the second only for mail to deliver (as before on SQLite; +1 on PostgreSQL).
    # 23: open_ticket joins the pipeline's transaction instead of nesting a savepoint pair (25 before).
    # 24: the workspace's spam model version, read with every message to deliver (its counts only when it changed).
    with django_assert_num_queries(24 + STORED):
        result = ingest_raw(mailbox=mailbox, raw=raw, via="imap")
    assert (result.state, result.outcome, result.ticket_number) == ("processed", "new_ticket", 2)
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert (ticket.version, ticket.message_count, ticket.team) == (2, 1, acme.support)
    assert list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", "field")) == [
        (EventKind.CREATED, ""),
        (EventKind.MESSAGE_ADDED, ""),
        (EventKind.FIELD_CHANGED, "cc"),
    ]
    # The requester's address in the search document came from the contact just created, not from a query.
    assert (
        TicketSearchDocument.objects.get(ticket=ticket).people == "Mikel Lindsaar\ntest@lindsaar.net\ntest lindsaar net"
    )


def test_a_refused_auto_reply(acme: Cast, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    mailbox = create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    # One transaction: the workspace's mailbox addresses, the blob's INSERT ... ON CONFLICT DO NOTHING and the
    # InboundEmail INSERT with its outcome (STORED), and the savepoint pair the test's own transaction turns the
    # transaction into (14, then 11 before).
    with django_assert_num_queries(3 + STORED):
        result = ingest_raw(mailbox=mailbox, raw=real(AUTO_REPLY), via="imap")
    assert (result.state, result.refusal_reason, result.ticket_id) == ("refused", "auto_reply", None)


def test_a_refused_bounce_of_a_message_we_do_not_know(
    acme: Cast, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    mailbox = create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    # The failed recipient is no contact's address and the bounced Message-ID is not ours: nothing to mark.
    # As an auto-reply, plus one UPDATE ... RETURNING marking the failed recipients and one plain query for the
    # bounced message among the emails we sent and the messages we stored; nothing found, so no UPDATE of the
    # row (17, then 14 before).
    with django_assert_num_queries(5 + STORED):
        result = ingest_raw(mailbox=mailbox, raw=real(BOUNCE), via="imap")
    assert (result.state, result.refusal_reason, result.ticket_id) == ("refused", "bounce", None)


def test_a_reply_threaded_to_its_ticket(acme: Cast, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    mailbox = create_mailbox(
        actor=acme.admin, values=MailboxSettings(address="support@acme.example", default_team=acme.support)
    )
    first = ingest_raw(mailbox=mailbox, raw=real(BASIC), via="imap")
    reply = real(BASIC, Message_ID="<reply-1@test.lindsaar.net>", In_Reply_To=f"<{BASIC_MESSAGE_ID}>")
    # In-Reply-To finds the ticket (with its status) in two queries; add_customer_message; the CC already on it;
    # stored and processed in one transaction (27, then 25 before).
    # 21: the mailboxes read with every message on every database (no per-process cache on PostgreSQL any more).
    # 19: add_customer_message joins the pipeline's transaction (no savepoint pair; 21 before).
    # 20: the workspace's spam model version (every message to deliver is judged before it is threaded).
    with django_assert_num_queries(20 + STORED):
        result = ingest_raw(mailbox=mailbox, raw=reply, via="imap")
    assert (result.state, result.outcome, result.ticket_number) == ("processed", "threaded", first.ticket_number)
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert (ticket.message_count, ticket.cc_contacts.count()) == (2, 1)
