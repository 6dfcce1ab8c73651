"""What every live transport (IMAP, SMTP/LMTP) does around ``pipeline.ingest_raw``: finish messages a crash left
stored but unprocessed.

``ingest_raw`` stores a message in one transaction and processes it in a second. A fetcher or listener killed
between the two leaves an ``InboundEmail`` in "received": its bytes are safe (and the IMAP checkpoint is past
it), but it is no ticket yet. Delivering the same bytes again is a duplicate, so the transports finish such a
row themselves, and a periodic sweep catches whatever no transport comes back for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from django.utils import timezone

from . import pipeline
from .models import InboundEmail, InboundState, Mailbox

log = logging.getLogger(__name__)

# The periodic sweep leaves younger rows alone: they are most likely being processed right now.
SWEEP_MIN_AGE = dt.timedelta(minutes=2)
SWEEP_BATCH = 200


def deliver(
    *, mailbox: Mailbox, raw: bytes, via: str, on_stored: Callable[[], None] | None = None
) -> pipeline.IngestResult:
    """``ingest_raw``, plus processing a duplicate whose first delivery was stored but never processed."""
    result = pipeline.ingest_raw(mailbox=mailbox, raw=raw, via=via, on_stored=on_stored)
    if result.duplicate and result.state == InboundState.RECEIVED:
        first = InboundEmail.objects.get(pk=result.inbound_id)
        # Processing takes a row lock and re-checks the state, so a concurrent finisher cannot double it.
        return dataclasses.replace(pipeline.reprocess(inbound=first), duplicate=True)
    return result


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
