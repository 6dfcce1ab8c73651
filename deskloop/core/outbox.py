"""Publish domain events transactionally and fan them out to registered consumers after commit.

Apps lower in the dependency order (tickets) publish; apps higher up (webhooks) register a consumer in
their AppConfig.ready(). This is a plug-in point, not control flow: the change is complete without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.db.models import Expression, F, QuerySet, Value
from django.utils import timezone

from deskloop.core.models import OutboxEvent
from deskloop.core.plain_sql import insert_row, insert_selected

Consumer = Callable[[OutboxEvent], None]
_consumers: list[Consumer] = []
_writing_history: ContextVar[bool] = ContextVar("deskloop_outbox_writing_history", default=False)
# Keys every event published inside ``carrying`` gets in its payload (which automation rules caused it).
_carried: ContextVar[dict[str, Any] | None] = ContextVar("deskloop_outbox_carried", default=None)


def register_consumer(consumer: Consumer) -> None:
    if consumer not in _consumers:
        _consumers.append(consumer)


def publish(*, workspace_id: int, name: str, payload: dict[str, Any]) -> OutboxEvent:
    event = OutboxEvent(workspace_id=workspace_id, name=name, payload=_with_carried(payload))
    insert_row(event)  # every write publishes: the INSERT built once, not compiled by the ORM each time
    _dispatch_after_commit(event.pk)
    return event


def publish_many(*, workspace_id: int, events: list[tuple[str, dict[str, Any]]]) -> list[OutboxEvent]:
    """Several (name, payload) events of one write in one INSERT; consumers get them in this order."""
    rows = OutboxEvent.objects.bulk_create(
        [OutboxEvent(workspace_id=workspace_id, name=name, payload=_with_carried(payload)) for name, payload in events]
    )
    ids: list[int] = []
    for row in rows:
        # SQLite 3.35+ and PostgreSQL return the new ids from a bulk INSERT; the dispatch task needs them.
        assert row.pk is not None, "the database did not return the outbox event's id"
        ids.append(row.pk)
    if len(ids) == 1:
        _dispatch_after_commit(ids[0])
    elif ids:
        # One task for the lot: a bulk change would otherwise queue a task row per event (BENCHMARKS.md).
        _dispatch_many_after_commit(ids)
    return rows


def publish_selected(name: str, rows: QuerySet[Any], *, payload: Expression) -> int:
    """One event ``name`` per row of ``rows`` (a queryset of a workspace-owned model, ordered as consumers should get
    them), its ``payload`` a ``JSONObject`` the database computes from the row, in one INSERT ... SELECT: for a job
    that announces thousands of changes at once (the SLA sweep after an outage), where building each payload in
    Python cost more than the change itself. Returns how many it published. Not inside ``carrying``: the chain is
    a Python value that the database-built payload cannot take, and refusing beats dropping it quietly."""
    if _carried.get():
        raise RuntimeError("publish_selected cannot carry an automation chain; use publish_many")
    ids = insert_selected(
        OutboxEvent,
        {
            "workspace_id": F("workspace_id"),
            "name": Value(name),
            "payload": payload,
            "created_at": Value(timezone.now()),
        },
        rows,
    )
    if ids:
        _dispatch_many_after_commit(ids)
    return len(ids)


def _with_carried(payload: dict[str, Any]) -> dict[str, Any]:
    carried = _carried.get()
    return {**payload, **carried} if carried else payload


@contextmanager
def carrying(extra: dict[str, Any]) -> Iterator[None]:
    """Events published within this block carry ``extra`` in their payload. An automation rule's actions publish
    the events of the changes they make with the chain of rules that caused them (``automation_chain``), so a
    consumer can tell an event a rule caused from one a person caused, and rules cannot trigger each other forever.
    The writing services need not know: the chain rides along whatever they publish."""
    token = _carried.set({**(_carried.get() or {}), **extra})
    try:
        yield
    finally:
        _carried.reset(token)


@contextmanager
def writing_history() -> Iterator[None]:
    """Within this block events are stored but no dispatch task is queued for them: the caller is writing history
    that is already over (the demo workspace) and marks the events dispatched itself. Without it, seeding queued a
    task per event that the worker then ran only to find nothing to do."""
    token = _writing_history.set(True)
    try:
        yield
    finally:
        _writing_history.reset(token)


def _dispatch_after_commit(event_id: int) -> None:
    if _writing_history.get():
        return

    def schedule() -> None:
        from deskloop.core.tasks import dispatch_outbox_event

        dispatch_outbox_event.enqueue(event_id)

    transaction.on_commit(schedule)


def _dispatch_many_after_commit(event_ids: list[int]) -> None:
    if _writing_history.get():
        return

    def schedule() -> None:
        from deskloop.core.tasks import dispatch_outbox_events

        dispatch_outbox_events.enqueue(event_ids)

    transaction.on_commit(schedule)


def dispatch(event_id: int) -> None:
    """Hand one event to every consumer once. Safe to call twice: a dispatched event is skipped."""
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().filter(pk=event_id, dispatched_at__isnull=True).first()
        if event is None:
            return
        for consumer in _consumers:
            consumer(event)
        event.dispatched_at = timezone.now()
        event.save(update_fields=["dispatched_at"])


def dispatch_pending(limit: int = 500) -> int:
    """Sweep events whose on-commit task never ran (worker down); called by the periodic command."""
    ids = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True).order_by("id").values_list("id", flat=True)[:limit]
    )
    for event_id in ids:
        dispatch(event_id)
    return len(ids)
