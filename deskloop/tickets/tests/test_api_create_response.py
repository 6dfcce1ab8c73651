"""The create answers with the ticket exactly as GET shows it (its response is read by a prepared join)."""

from __future__ import annotations

import json

from django.test import Client

from deskloop.accounts.services import create_api_token
from deskloop.conftest import Cast
from deskloop.tickets.models import ProductArea


def test_the_created_ticket_is_answered_as_get_shows_it(acme: Cast) -> None:
    _token, secret = create_api_token(agent=acme.admin, name="script")
    client = Client(headers={"authorization": f"Bearer {secret}"})
    area = ProductArea.objects.create(workspace=acme.workspace, name="Cards")
    body = {
        "subject": "Card declined",
        "requester_email": "dan@globex-acme.example",
        "body_text": "My card was declined.",
        "priority": "high",
        "tags": ["card", "urgent-ish"],
        "team_id": acme.billing.pk,
        "assignee_id": acme.other_team_agent.pk,
        "product_area_id": area.pk,
    }
    created = client.post("/api/v1/tickets", data=json.dumps(body), content_type="application/json")
    assert created.status_code == 201
    shown = client.get(created["Location"])
    assert json.loads(created.content) == json.loads(shown.content)
    assert created["ETag"] == shown["ETag"]
    assert json.loads(created.content)["product_area"]["id"] == area.pk
    minimal = client.post(
        "/api/v1/tickets",
        data=json.dumps({"subject": "Hi", "requester_id": acme.customer.pk, "body_text": "Hello"}),
        content_type="application/json",
    )
    assert minimal.status_code == 201
    assert json.loads(minimal.content) == json.loads(client.get(minimal["Location"]).content)
