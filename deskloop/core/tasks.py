from __future__ import annotations

from django_tasks import task

from deskloop.core import outbox


@task()
def dispatch_outbox_event(event_id: int) -> None:
    outbox.dispatch(event_id)
