"""Concurrent writers on PostgreSQL (real row locks; SQLite has one writer at a time and no row locks)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from deskloop.conftest import Cast
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.messages import CustomerMessage, add_customer_message
from deskloop.tickets.services.tickets import NewTicket, open_ticket

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL story")


def test_concurrent_creators_queue_for_consecutive_ticket_numbers(transactional_db: None, acme: Cast) -> None:
    start = threading.Barrier(6)

    def open_numbered(index: int) -> int:
        try:
            start.wait(timeout=10)
            ticket = open_ticket(
                workspace=acme.workspace,
                ticket=NewTicket(requester=acme.customer, subject=f"Parallel {index}", body_text="Hi"),
            )[0]
            return ticket.number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = sorted(pool.map(open_numbered, range(6)))
    assert numbers == [2, 3, 4, 5, 6, 7]
    acme.workspace.refresh_from_db()
    assert acme.workspace.last_ticket_number == 7
    assert sorted(Ticket.objects.values_list("number", flat=True)) == [1, 2, 3, 4, 5, 6, 7]


def test_a_message_does_not_wait_for_another_ticket_of_the_same_status_and_requester(
    transactional_db: None, acme: Cast
) -> None:
    other = open_ticket(
        workspace=acme.workspace, ticket=NewTicket(requester=acme.customer, subject="Another", body_text="Hi")
    )[0]
    assert (other.status_id, other.requester_id) == (acme.ticket.status_id, acme.ticket.requester_id)
    holding, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                add_customer_message(
                    ticket=acme.ticket, contact=acme.customer, message=CustomerMessage(body_text="First, still open")
                )
                holding.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert holding.wait(timeout=10)
        with transaction.atomic():
            # Only the ticket row is locked: locking the joined status or contact row too would make this wait.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            add_customer_message(
                ticket=other, contact=acme.customer, message=CustomerMessage(body_text="Second, meanwhile")
            )
    finally:
        release.set()
        writer.join()
    assert sorted(Ticket.objects.values_list("number", "message_count")) == [(1, 2), (2, 2)]
