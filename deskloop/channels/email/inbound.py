"""The sweep of stored but unprocessed mail: rows left in "received" (by an earlier version, which stored and
processed in two transactions, or written so by hand) are processed by ``pipeline.reprocess``, at each IMAP
fetch, at smtpd start and periodically. ``ingest_raw`` itself never commits a row as "received".
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from . import pipeline
from .models import InboundEmail, InboundState, Mailbox

log = logging.getLogger(__name__)

# The periodic sweep leaves younger rows alone: they are most likely being processed right now.
SWEEP_MIN_AGE = dt.timedelta(minutes=2)
SWEEP_BATCH = 200


def finish_received(*, mailbox: Mailbox | None = None, via: str = "", older_than: dt.timedelta | None = None) -> int:
    """Process messages left in "received" (oldest first); returns how many were processed now."""
    found = InboundEmail.objects.filter(state=InboundState.RECEIVED)
    if mailbox is not None:
        found = found.filter(mailbox=mailbox)
    if via:
        found = found.filter(received_via=via)
    if older_than is not None:
        found = found.filter(received_at__lt=timezone.now() - older_than)
    done = 0
    for inbound in found.order_by("id")[:SWEEP_BATCH]:
        result = pipeline.reprocess(inbound=inbound)
        log.info("inbound email %s left unprocessed by a crash is now %s", inbound.pk, result.state)
        done += 1
    return done


def finish_received_mail() -> int:
    """The periodic sweep (registered in apps.py)."""
    return finish_received(older_than=SWEEP_MIN_AGE)
