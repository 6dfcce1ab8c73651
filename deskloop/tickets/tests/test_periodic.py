from __future__ import annotations

import datetime as dt
from io import StringIO

import time_machine
from django.core.management import call_command
from django.utils import timezone

from deskloop.conftest import Cast
from deskloop.core.models import OutboxEvent
from deskloop.tickets.models import Ticket, TicketPresence
from deskloop.tickets.services.lifecycle import soft_delete_ticket


def test_periodic_jobs_purge_expired_trash_and_sweep_the_outbox(acme: Cast) -> None:
    soft_delete_ticket(ticket=acme.ticket, agent=acme.agent)
    TicketPresence.objects.create(workspace=acme.workspace, ticket=acme.ticket, agent=acme.agent)
    OutboxEvent.objects.update(dispatched_at=None)
    pending = OutboxEvent.objects.count()
    out = StringIO()
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        call_command("run_periodic", "--once", stdout=out)
    # Every app registers its own jobs (deskloop.core.periodic); these are the core's and the tickets' ones.
    done = dict(line.split(": ") for line in out.getvalue().splitlines())
    expected = {
        "dispatch_outbox": str(pending),
        "purge_idempotency_records": "0",
        "forget_stale_presence": "1",
        "purge_trash": "1",
        "purge_orphan_blobs": "0",  # the purged ticket had no attachments
    }
    assert {name: done[name] for name in expected} == expected
    assert Ticket.objects.filter(pk=acme.ticket.pk).exists() is False
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0


def test_trash_is_kept_for_thirty_days(acme: Cast) -> None:
    soft_delete_ticket(ticket=acme.ticket, agent=acme.agent)
    with time_machine.travel(timezone.now() + dt.timedelta(days=29)):
        call_command("run_periodic", "--once", stdout=StringIO())
    assert Ticket.objects.filter(pk=acme.ticket.pk).exists() is True
