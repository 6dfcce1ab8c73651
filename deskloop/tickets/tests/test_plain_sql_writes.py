"""The prepared writes of deskloop.core.plain_sql on real ticket tables: rows, ids and order as the ORM makes them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import JSONObject
from django.test.utils import CaptureQueriesContext

from deskloop.conftest import Cast
from deskloop.core.plain_sql import (
    MAX_INSERT_ROWS,
    JsonTimestamp,
    insert_row,
    insert_rows,
    statements_are_prepared,
    upsert_row,
)
from deskloop.tickets.attachments import Blob, blob_row_insert
from deskloop.tickets.events import event, record_events, record_selected
from deskloop.tickets.models import EventKind, Message, TicketEvent, TicketSearchDocument


def test_events_of_one_write_are_inserted_together_in_the_order_given(acme: Cast) -> None:
    ticket = acme.ticket
    rows = [
        event(ticket=ticket, kind=EventKind.FIELD_CHANGED, agent=acme.agent, field=field, old=old, new=new, via="web")
        for field, old, new in (("priority", "normal", "high"), ("status", {"id": 1}, {"id": 2}), ("cc", None, "Dan"))
    ]

    written = record_events(rows)

    assert written is rows
    ids = [row.pk for row in rows]
    assert ids == sorted(ids)
    assert all(not row._state.adding for row in rows)
    stored = TicketEvent.objects.filter(pk__in=ids).order_by("id")
    assert [(e.field, e.old_value, e.new_value, e.actor_agent_id, e.via) for e in stored] == [
        ("priority", "normal", "high", acme.agent.pk, "web"),
        ("status", {"id": 1}, {"id": 2}, acme.agent.pk, "web"),
        ("cc", None, "Dan", acme.agent.pk, "web"),
    ]
    assert all(e.created_at is not None for e in stored)


def test_more_rows_than_one_statement_takes_are_refused_and_record_events_batches_them(acme: Cast) -> None:
    many = [event(ticket=acme.ticket, kind=EventKind.FIELD_CHANGED, field="tag", new=str(n)) for n in range(30)]

    with pytest.raises(ValueError, match=f"at most {MAX_INSERT_ROWS} rows"):
        insert_rows(many)
    assert TicketEvent.objects.filter(ticket=acme.ticket, field="tag").count() == 0

    record_events(many)  # bulk_create's batches

    stored = TicketEvent.objects.filter(ticket=acme.ticket, field="tag").order_by("id")
    assert [e.new_value for e in stored] == [str(n) for n in range(30)]


def test_upsert_writes_the_document_then_overwrites_it(acme: Cast) -> None:
    ticket = acme.ticket
    TicketSearchDocument.objects.filter(ticket=ticket).delete()

    upsert_row(TicketSearchDocument(ticket=ticket, workspace=acme.workspace, subject="first", people="a", body="x"))
    upsert_row(TicketSearchDocument(ticket=ticket, workspace=acme.workspace, subject="second", people="b", body="y"))

    documents = TicketSearchDocument.objects.filter(ticket=ticket)
    assert [(d.subject, d.people, d.body) for d in documents] == [("second", "b", "y")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a data-modifying WITH is PostgreSQL's")
def test_a_write_riding_along_is_done_by_the_same_statement(acme: Cast) -> None:
    blob = Blob(sha256="a" * 64, size=3)
    created = event(ticket=acme.ticket, kind=EventKind.FIELD_CHANGED, field="along", new="1")

    with CaptureQueriesContext(connection) as statements:
        assert insert_row(created, along=blob_row_insert(blob)) is True

    assert len(statements) == 1
    assert TicketEvent.objects.get(pk=created.pk).field == "along"
    assert list(Blob.objects.filter(sha256="a" * 64).values_list("size", flat=True)) == [3]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_the_hot_paths_statements_are_prepared_and_the_orms_are_not(acme: Cast) -> None:
    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    for n in range(6):  # the ORM's statement, run more often than psycopg's default threshold
        list(TicketEvent.objects.filter(ticket=acme.ticket, field=f"orm-{n % 2}"))
    record_events([event(ticket=acme.ticket, kind=EventKind.FIELD_CHANGED, field="prepared", new="1")])

    statements = prepared()
    one_row_inserts = [s for s in statements if s.startswith('INSERT INTO "tickets_ticketevent"') and "), (" not in s]
    # DATABASE_URL may turn preparing off (?prepared_statements=false, ?server_side_binding=false): then none is.
    assert len(one_row_inserts) == (1 if statements_are_prepared() else 0)
    assert [s for s in statements if 'FROM "tickets_ticketevent"' in s and s.startswith("SELECT")] == []


def test_history_selected_by_the_database_in_the_order_of_the_source(acme: Cast, umbrella: Cast) -> None:
    messages = Message.objects.filter(ticket__in=[acme.ticket, umbrella.ticket]).order_by("-id")
    assert len(messages) == 2
    # Whole seconds, and microseconds ending in zeros: PostgreSQL's JSON drops both, Python's isoformat keeps six.
    for message, sent in zip(
        messages,
        (dt.datetime(2026, 3, 27, 9, tzinfo=dt.UTC), dt.datetime(2026, 3, 27, 9, 0, 1, 120000, tzinfo=dt.UTC)),
        strict=True,
    ):
        Message.objects.filter(pk=message.pk).update(created_at=sent)
    messages = messages.all()
    new = JSONObject(number=F("ticket__number"), sent=JsonTimestamp(F("created_at")), text=F("body_text"))

    assert record_selected(messages, kind=EventKind.MERGED_INTO, new=new, via="job") == 2

    stored = TicketEvent.objects.filter(kind=EventKind.MERGED_INTO).order_by("id")
    # The newest message first, as the source was ordered; the JSON timestamp reads as Python writes it.
    assert [(e.workspace_id, e.ticket_id, e.new_value, e.via, e.field, e.actor_agent_id) for e in stored] == [
        (
            m.workspace_id,
            m.ticket_id,
            {"number": m.ticket.number, "sent": sent, "text": m.body_text},
            "job",
            "",
            None,
        )
        for m, sent in zip(messages, ("2026-03-27T09:00:00+00:00", "2026-03-27T09:00:01.120000+00:00"), strict=True)
    ]
    assert record_selected(messages.none(), kind=EventKind.MERGED_INTO, new=new, via="job") == 0
    assert record_selected(messages.filter(pk__in=[]), kind=EventKind.MERGED_INTO, new=new, via="job") == 0
