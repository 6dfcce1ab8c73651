"""Background work for outgoing email. The task takes an id and is idempotent: a sent email is never resent to
anyone who got it (only recipients the server refused for now get it again, alone)."""

from __future__ import annotations

from django_tasks import task

from . import outbound_sending


@task()
def send_outbound_email(outbound_id: int) -> None:
    outbound_sending.send_outbound_now(outbound_id)
