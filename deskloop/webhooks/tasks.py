"""Background work for webhooks. Tasks take ids and are idempotent: a delivered delivery is never re-sent."""

from __future__ import annotations

from django_tasks import task

from deskloop.webhooks import services


@task()
def send_delivery(delivery_id: int) -> None:
    services.send_delivery_now(delivery_id)
