"""Ticket creation: POST /api/v1/tickets through the real API (token auth, validation, idempotency, events,
outbox, search indexing), and the open_ticket service alone."""

from __future__ import annotations

import json

from bench.bench_context import BenchContext
from bench.common import Result, measure


def run(context: BenchContext, *, iterations: int = 200, max_seconds: float = 30.0) -> list[Result]:
    from django.db import transaction
    from django.test import Client

    from deskloop.accounts.services import create_api_token
    from deskloop.customers.models import Contact
    from deskloop.tickets.models import Tag
    from deskloop.tickets.services.tickets import NewTicket, open_ticket

    workspace = context.workspace

    def bare_insert(index: int) -> None:
        # Baseline: one row INSERTed and committed through the ORM.
        with transaction.atomic():
            Tag.objects.create(workspace=workspace, name=f"bench-insert-{index}-{context.rng.random()}")

    baseline = measure("one-row INSERT + commit", bare_insert, iterations=iterations, max_seconds=max_seconds)
    Tag.objects.filter(workspace=workspace, name__startswith="bench-insert-").delete()

    _token, secret = create_api_token(agent=context.agent, name="benchmark")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    emails = context.contact_emails

    def api_create(index: int) -> None:
        body = {
            "subject": f"Benchmark ticket {index}: card payment declined",
            "requester_email": emails[index % len(emails)],
            "body_text": "Hello, my card payment was declined at the shop although I have enough money. "
            "Can you check what happened? Thanks",
            "priority": "normal",
            "tags": ["card"],
        }
        response = client.post("/api/v1/tickets", data=json.dumps(body), content_type="application/json")
        assert response.status_code == 201, (response.status_code, response.content[:300])

    api = measure("POST /api/v1/tickets", api_create, iterations=iterations, max_seconds=max_seconds)

    requester = Contact.objects.filter(workspace=workspace).order_by("pk").first()
    assert requester is not None, "the generated workspace has contacts"

    def service_create(index: int) -> None:
        open_ticket(
            workspace=workspace,
            ticket=NewTicket(
                requester=requester,
                subject=f"Benchmark service ticket {index}",
                body_text="My transfer is still pending after three days.",
                tags=["transfer"],
            ),
            created_by=context.agent,
        )

    # The series keeps the name it had when the service was create_ticket: BENCHMARKS.md compares runs by it.
    service = measure("create_ticket service", service_create, iterations=iterations, max_seconds=max_seconds)
    return [
        Result("ticket creation, POST /api/v1/tickets", api, baseline),
        Result("ticket creation, create_ticket service", service, baseline),
    ]
