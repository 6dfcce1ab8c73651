"""Raw messages outlive their tickets: purging orphan attachment blobs never deletes a stored raw email."""

from __future__ import annotations

import datetime as dt

from django.core.files.storage import default_storage
from django.utils import timezone

from deskloop.channels.email.models import InboundEmail
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.tickets.attachments import purge_orphan_blobs
from deskloop.tickets.models import Blob, Ticket

from .corpus import BASIC, real


def test_the_raw_email_of_a_purged_ticket_is_kept(acme: Cast) -> None:
    mailbox = create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    # A unique Message-ID: blobs are content-addressed and MEDIA_ROOT is shared by parallel test workers.
    raw = real(BASIC, Message_ID=f"<retention-{timezone.now().timestamp()}@acme.example>")
    result = ingest_raw(mailbox=mailbox, raw=raw, via="import")
    inbound = InboundEmail.objects.get(pk=result.inbound_id)
    assert inbound.ticket_id is not None
    Ticket.objects.filter(pk=inbound.ticket_id).delete()

    assert purge_orphan_blobs(now=timezone.now() + dt.timedelta(days=2)) == 0
    assert Blob.objects.filter(pk=inbound.raw_id).count() == 1
    assert default_storage.exists(inbound.raw.storage_name)
