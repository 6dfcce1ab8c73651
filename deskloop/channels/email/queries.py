"""Reads for the email channel: mailbox settings pages, the quarantine, and the HTTP endpoint's secret check."""

from __future__ import annotations

import hmac

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from deskloop.accounts.models import Agent
from deskloop.tickets.attachments import read_blob

from .models import InboundEmail, InboundState, Mailbox
from .services import hash_inbound_secret

# The quarantine shows what needs an admin: messages that failed, and those refused on purpose (to check a
# refusal was right).
QUARANTINE_STATES = (InboundState.QUARANTINED, InboundState.REFUSED)
RAW_HEADERS_MAX = 64 * 1024


def mailboxes_for_agent(agent: Agent) -> QuerySet[Mailbox]:
    return (
        Mailbox.objects.filter(workspace_id=agent.workspace_id)
        .select_related("default_team", "default_product_area")
        .annotate(
            quarantined_count=Count("inbound", filter=Q(inbound__state=InboundState.QUARANTINED)),
            refused_count=Count("inbound", filter=Q(inbound__state=InboundState.REFUSED)),
        )
        .order_by("address", "id")
    )


def get_mailbox_for_agent(agent: Agent, mailbox_id: int) -> Mailbox:
    mailbox = Mailbox.objects.filter(workspace_id=agent.workspace_id, pk=mailbox_id).first()
    if mailbox is None:
        raise Http404("No such mailbox")
    return mailbox


def quarantine_for_agent(agent: Agent, *, state: str = "", reason: str = "") -> QuerySet[InboundEmail]:
    states = [state] if state in QUARANTINE_STATES else list(QUARANTINE_STATES)
    found = InboundEmail.objects.filter(workspace_id=agent.workspace_id, state__in=states)
    if reason:
        found = found.filter(refusal_reason=reason)
    return found.select_related("mailbox").order_by("-received_at", "-id")


def get_inbound_for_agent(agent: Agent, inbound_id: int) -> InboundEmail:
    inbound = (
        InboundEmail.objects.filter(workspace_id=agent.workspace_id, pk=inbound_id)
        .select_related("mailbox", "raw", "ticket")
        .first()
    )
    if inbound is None:
        raise Http404("No such email")
    return inbound


def raw_bytes(inbound: InboundEmail) -> bytes:
    return read_blob(inbound.raw)


def raw_headers(inbound: InboundEmail) -> str:
    """The header block as it arrived (decoded leniently for display; templates escape it)."""
    raw = read_blob(inbound.raw)[:RAW_HEADERS_MAX]
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(separator)
        if end != -1:
            raw = raw[:end]
            break
    return raw.decode("utf-8", errors="replace")


def mailbox_for_inbound_secret(mailbox_id: int, bearer: str) -> Mailbox | None:
    """The active mailbox the HTTP endpoint's caller may post to, or None. The secret alone decides the tenant,
    and the comparison takes the same time whatever the secret is."""
    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).select_related("workspace").first()
    presented = hash_inbound_secret(bearer or "")
    stored = mailbox.inbound_secret_hash if mailbox is not None else ""
    # Compare even when the mailbox is missing or has no secret, so timing tells nothing about either.
    matches = hmac.compare_digest(presented, stored or "0" * 64)
    if mailbox is None or not stored or not bearer or not matches:
        return None
    return mailbox
