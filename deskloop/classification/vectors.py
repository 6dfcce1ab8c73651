"""Each ticket's sentence vector, computed once and stored (``TicketVector``).

What is embedded: the subject and the customer's first message, cut to ``TEXT_MAX_CHARS`` (the model reads 256
tokens anyway). A ticket gets its vector when it is classified (``suggestions.classify_ticket``) or, for a ticket
labelled without ever being classified (imported, or opened before the workspace had a model), when training
first needs it (``embed_missing``, in batches). Training then only reads stored vectors: retraining a workspace
never runs the sentence model again (BENCHMARKS.md shows both times apart).
"""

from __future__ import annotations

from collections.abc import Iterable

from deskloop.classification.models import TicketVector
from deskloop.knowledge import embedding
from deskloop.tickets.models import Message, MessageKind, Ticket

TEXT_MAX_CHARS = 2000
# Texts per model call: batches pad to their longest, so a few dozen keep the waste small.
BATCH = 64


def classification_text(subject: str, first_message: str) -> str:
    """The text a ticket is classified by. A body that repeats the subject (many forms send both) is not doubled."""
    subject, body = subject.strip(), " ".join(first_message.split())
    if body.startswith(subject):
        subject = ""
    return f"{subject}\n{body}".strip()[:TEXT_MAX_CHARS]


def first_customer_messages(ticket_ids: Iterable[int]) -> dict[int, str]:
    """Each ticket's first reply written by a contact (the request itself), by ticket id."""
    first: dict[int, str] = {}
    rows = (
        Message.objects.filter(ticket_id__in=list(ticket_ids), kind=MessageKind.REPLY, author_contact__isnull=False)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "body_text")
    )
    for ticket_id, body in rows:
        first.setdefault(ticket_id, body)
    return first


def texts_of(tickets: list[Ticket]) -> dict[int, str]:
    messages = first_customer_messages(t.pk for t in tickets)
    return {t.pk: classification_text(t.subject, messages.get(t.pk, "")) for t in tickets}


def store_vectors(tickets: list[Ticket]) -> dict[int, TicketVector]:
    """Embed ``tickets`` (one model call per batch) and store their vectors, replacing any older one."""
    texts = texts_of(tickets)
    stored: dict[int, TicketVector] = {}
    for start in range(0, len(tickets), BATCH):
        batch = tickets[start : start + BATCH]
        vectors = embedding.encode([texts[t.pk] for t in batch])
        for ticket, vector in zip(batch, vectors, strict=True):
            row, _created = TicketVector.objects.update_or_create(
                ticket=ticket,
                defaults={
                    "workspace_id": ticket.workspace_id,
                    "vector": embedding.to_bytes(vector),
                    "version": embedding.EMBEDDING_VERSION,
                    "text": texts[ticket.pk],
                },
            )
            stored[ticket.pk] = row
    return stored


def embed_missing(tickets: Iterable[Ticket]) -> int:
    """Give every ticket of ``tickets`` that has no current vector one; how many were embedded."""
    tickets = list(tickets)
    current = set(
        TicketVector.objects.filter(
            ticket_id__in=[t.pk for t in tickets], version=embedding.EMBEDDING_VERSION
        ).values_list("ticket_id", flat=True)
    )
    missing = [t for t in tickets if t.pk not in current]
    store_vectors(missing)
    return len(missing)
