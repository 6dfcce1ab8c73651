"""POST /api/v1/tickets/import: a batch of rows from another helpdesk, with a result per row."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from deskloop.accounts.services import create_api_token
from deskloop.conftest import Cast
from deskloop.tickets.models import EventKind, Status, Ticket, TicketEvent
from deskloop.tickets.services.tickets import NewTicket, open_ticket

URL = "/api/v1/tickets/import"

ROWS: list[dict[str, Any]] = [
    {
        "external_id": "FD-1",
        "subject": "Cannot sign in after password reset",
        "body": "The reset link says it expired, but I just got it.",
        "requester_email": "nora@northwind.example",
        "requester_name": "Nora",
        "organization": "Northwind Traders",
        "product_area": "Account/Sign-in",
        "tags": ["login"],
        "status": "open",
        "priority": "high",
        "created_at": "2025-04-02T08:00:00Z",
    },
    {"external_id": 2, "subject": "", "requester_email": "nora@northwind.example"},
    {"external_id": "FD-3", "subject": "Refund", "requester_email": "nora@northwind.example", "status": "Escalated"},
    {"external_id": "FD-4", "subject": "Export", "requester_email": "nora@", "created_at": "2025-04-02T08:00:00Z"},
    {"external_id": "FD-5", "subject": "Old invoice", "requester_email": "pat@northwind.example", "created_at": "soon"},
    {"subject": "No id", "requester_email": "pat@northwind.example"},
    {
        "external_id": "FD-7",
        "subject": "Webhook retries",
        "requester_email": "pat@northwind.example",
        "tags": "api, webhooks",
        "status": "Solved",
        "created_at": "2025-04-03T10:15:00+02:00",
    },
]


def api(agent: Any) -> Client:
    _token, secret = create_api_token(agent=agent, name="import")
    return Client(headers={"authorization": f"Bearer {secret}"})


def post(client: Client, body: Any, **headers: str) -> Any:
    return client.post(URL, data=json.dumps(body), content_type="application/json", headers=headers)


def test_an_admin_imports_a_batch_and_gets_a_result_per_row(acme: Cast) -> None:
    client = api(acme.admin)

    response = post(client, {"rows": ROWS})

    assert response.status_code == 200
    assert json.loads(response.content) == {
        "created": 2,
        "skipped": 0,
        "failed": 5,
        "results": [
            {"row": 1, "external_id": "FD-1", "status": "created", "message": "", "field": "", "ticket_number": 2},
            {
                "row": 2,
                "external_id": "2",
                "status": "error",
                "message": "A ticket needs a subject.",
                "field": "subject",
                "ticket_number": None,
            },
            {
                "row": 3,
                "external_id": "FD-3",
                "status": "error",
                "message": "Unknown status “Escalated”; use one of New, Open, Pending, On hold, Solved, Closed, "
                "or a category (new, open, pending, on_hold, solved, closed).",
                "field": "status",
                "ticket_number": None,
            },
            {
                "row": 4,
                "external_id": "FD-4",
                "status": "error",
                "message": "“nora@” is not a valid email address.",
                "field": "email",
                "ticket_number": None,
            },
            {
                "row": 5,
                "external_id": "FD-5",
                "status": "error",
                "message": "created_at “soon” is not an ISO 8601 date and time (e.g. 2025-03-01T09:30:00Z).",
                "field": "created_at",
                "ticket_number": None,
            },
            {
                "row": 6,
                "external_id": "",
                "status": "error",
                "message": "external_id is missing; it is what makes running the import again safe.",
                "field": "external_id",
                "ticket_number": None,
            },
            {"row": 7, "external_id": "FD-7", "status": "created", "message": "", "field": "", "ticket_number": 3},
        ],
    }
    sign_in = Ticket.objects.get(workspace=acme.workspace, number=2)
    assert (sign_in.external_id, sign_in.channel, sign_in.priority, sign_in.status.name) == (
        "FD-1",
        "import",
        "high",
        "Open",
    )
    assert sign_in.product_area is not None
    assert sign_in.product_area.path == "Account > Sign-in"
    assert sign_in.organization is not None
    assert sign_in.organization.name == "Northwind Traders"
    assert sign_in.created_at == dt.datetime(2025, 4, 2, 8, 0, tzinfo=dt.UTC)
    # The history names the admin who imported, via import.
    created = TicketEvent.objects.get(ticket=sign_in, kind=EventKind.CREATED)
    assert (created.actor_agent_id, created.via) == (acme.admin.pk, "import")
    webhooks = Ticket.objects.get(workspace=acme.workspace, number=3)
    assert sorted(webhooks.tags.values_list("name", flat=True)) == ["api", "webhooks"]
    assert webhooks.created_at == dt.datetime(2025, 4, 3, 8, 15, tzinfo=dt.UTC)

    again = post(client, {"rows": ROWS[:1] + ROWS[-1:]})

    assert json.loads(again.content) == {
        "created": 0,
        "skipped": 2,
        "failed": 0,
        "results": [
            {
                "row": 1,
                "external_id": "FD-1",
                "status": "skipped",
                "message": "skipped (already imported as #2)",
                "field": "",
                "ticket_number": 2,
            },
            {
                "row": 2,
                "external_id": "FD-7",
                "status": "skipped",
                "message": "skipped (already imported as #3)",
                "field": "",
                "ticket_number": 3,
            },
        ],
    }
    assert Ticket.objects.filter(workspace=acme.workspace).count() == 3


def test_idempotency_key_replays_the_first_answer(acme: Cast) -> None:
    client = api(acme.admin)
    body = {"rows": ROWS[:1]}

    first = post(client, body, **{"idempotency-key": "import-batch-1"})
    replay = post(client, body, **{"idempotency-key": "import-batch-1"})

    assert first.status_code == replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    # The replay is the first answer ("created"), not a fresh run that would say "skipped".
    assert replay.content == first.content
    assert json.loads(replay.content)["results"][0]["status"] == "created"
    assert Ticket.objects.filter(workspace=acme.workspace, external_id="FD-1").count() == 1


@pytest.mark.parametrize("role", ["agent", "light_agent", "viewer"])
def test_only_admins_and_owners_import(acme: Cast, role: str) -> None:
    response = post(api(acme.by_role(role)), {"rows": ROWS[:1]})

    assert response.status_code == 403
    assert Ticket.objects.filter(workspace=acme.workspace).count() == 1


def test_a_batch_is_at_most_a_thousand_rows(acme: Cast) -> None:
    row = {"external_id": "x", "subject": "s", "requester_email": "a@example.com"}

    too_many = post(api(acme.admin), {"rows": [row] * 1001})
    empty = post(api(acme.admin), {"rows": []})

    assert too_many.status_code == 422
    assert json.loads(too_many.content)["errors"] == [
        {"field": "rows", "message": "List should have at most 1000 items after validation, not 1001"}
    ]
    assert empty.status_code == 422
    assert Ticket.objects.filter(workspace=acme.workspace).count() == 1


def test_rows_never_reach_another_workspace(acme: Cast, umbrella: Cast) -> None:
    """Umbrella already imported FD-1 and has its own "Escalated" status; neither counts for Acme."""
    open_ticket(
        workspace=umbrella.workspace,
        ticket=NewTicket(
            requester=umbrella.customer, subject="Umbrella's own FD-1", body_text="private", external_id="FD-1"
        ),
    )
    Status.objects.create(workspace=umbrella.workspace, name="Escalated", category="open", position=9)
    umbrella_tickets = list(Ticket.objects.filter(workspace=umbrella.workspace).values_list("pk", "version"))
    umbrella_events = TicketEvent.objects.filter(workspace=umbrella.workspace).count()

    response = post(api(acme.admin), {"rows": ROWS[:3]})

    results = json.loads(response.content)["results"]
    assert [(r["external_id"], r["status"], r["ticket_number"]) for r in results] == [
        ("FD-1", "created", 2),
        ("2", "error", None),
        ("FD-3", "error", None),
    ]
    assert results[2]["message"].startswith("Unknown status “Escalated”")
    assert list(Ticket.objects.filter(workspace=umbrella.workspace).values_list("pk", "version")) == umbrella_tickets
    assert TicketEvent.objects.filter(workspace=umbrella.workspace).count() == umbrella_events
    assert Ticket.objects.get(workspace=acme.workspace, external_id="FD-1").subject == (
        "Cannot sign in after password reset"
    )
