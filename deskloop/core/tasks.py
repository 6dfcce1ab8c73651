from __future__ import annotations

from django_tasks import task

from deskloop.core import outbox


@task()
def dispatch_outbox_event(event_id: int) -> None:
    outbox.dispatch(event_id)


@task()
def dispatch_outbox_events(event_ids: list[int]) -> None:
    """Several events of one write, in order; each is dispatched once (``outbox.dispatch`` skips done ones), so a
    retry after a crash half-way repeats nothing."""
    for event_id in event_ids:
        outbox.dispatch(event_id)
