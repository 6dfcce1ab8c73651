"""Custom ticket fields over the API, as an admin sets them up in settings: same services, same roles (issue #9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from deskloop.accounts.services import create_api_token
from deskloop.conftest import Cast
from deskloop.tickets.models import CustomField
from deskloop.tickets.services.tickets import NewTicket, open_ticket


def api(agent: Any) -> Client:
    _token, secret = create_api_token(agent=agent, name="tests")
    return Client(headers={"authorization": f"Bearer {secret}"})


def send(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")


def problem(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json", response.content
    body: dict[str, Any] = json.loads(response.content)
    return body


def test_admin_adds_changes_moves_and_deletes_fields_and_tickets_take_their_values(acme: Cast) -> None:
    client = api(acme.admin)
    plan = send(
        client, "post", "/api/v1/custom-fields", {"label": "Plan", "field_type": "choice", "choices": ["Free", "Pro"]}
    )
    assert plan.status_code == 201, plan.content
    assert (plan.json()["key"], plan.json()["choices"], plan.json()["position"]) == ("plan", ["Free", "Pro"], 0)
    seats = send(client, "post", "/api/v1/custom-fields", {"label": "Seats", "field_type": "number", "key": "seats"})
    assert seats.status_code == 201
    # A ticket created over the API takes a value for the new field.
    created = send(
        api(acme.agent),
        "post",
        "/api/v1/tickets",
        {"subject": "Upgrade", "requester_id": acme.customer.pk, "custom_fields": {"plan": "Pro"}},
    )
    assert created.status_code == 201, created.content

    url = f"/api/v1/custom-fields/{plan.json()['id']}"
    changed = send(client, "patch", url, {"label": "Plan tier", "required_on_solve": True})
    assert (changed.json()["label"], changed.json()["required_on_solve"], changed.json()["choices"]) == (
        "Plan tier",
        True,
        ["Free", "Pro"],
    )
    in_use = send(client, "patch", url, {"choices": ["Free"]})
    assert (in_use.status_code, problem(in_use)["errors"][0]["field"]) == (422, "choices")
    moved = send(client, "post", f"/api/v1/custom-fields/{seats.json()['id']}/move", {"offset": -1})
    assert [item["key"] for item in moved.json()["items"]] == ["seats", "plan"]
    assert [item["key"] for item in client.get("/api/v1/custom-fields").json()["items"]] == ["seats", "plan"]

    refused = client.delete(url)
    assert refused.status_code == 422
    assert "has a value on 1 ticket" in problem(refused)["detail"]
    assert client.delete(f"/api/v1/custom-fields/{seats.json()['id']}").status_code == 204
    assert list(CustomField.objects.values_list("key", flat=True)) == ["plan"]


def test_bad_fields_are_refused_by_field(acme: Cast) -> None:
    client = api(acme.admin)
    no_choices = send(client, "post", "/api/v1/custom-fields", {"label": "Plan", "field_type": "choice"})
    assert (no_choices.status_code, problem(no_choices)["errors"][0]["field"]) == (422, "choices")
    bad_type = send(client, "post", "/api/v1/custom-fields", {"label": "Plan", "field_type": "colour"})
    assert (bad_type.status_code, problem(bad_type)["errors"][0]["field"]) == (422, "field_type")
    send(client, "post", "/api/v1/custom-fields", {"label": "Plan", "field_type": "text"})
    taken = send(client, "post", "/api/v1/custom-fields", {"label": "Other", "field_type": "text", "key": "plan"})
    assert (taken.status_code, problem(taken)["errors"][0]["field"]) == (422, "key")
    assert CustomField.objects.count() == 1


@pytest.mark.parametrize("role", ["agent", "light_agent", "viewer"])
def test_only_admins_set_up_custom_fields(acme: Cast, role: str) -> None:
    field = CustomField.objects.create(workspace=acme.workspace, key="plan", label="Plan", field_type="text")
    client = api(getattr(acme, role))
    for method, url in (
        ("get", "/api/v1/custom-fields"),
        ("post", "/api/v1/custom-fields"),
        ("get", f"/api/v1/custom-fields/{field.pk}"),
        ("patch", f"/api/v1/custom-fields/{field.pk}"),
        ("post", f"/api/v1/custom-fields/{field.pk}/move"),
        ("delete", f"/api/v1/custom-fields/{field.pk}"),
    ):
        refused = send(client, method, url, {"label": "X", "field_type": "text", "offset": 1})
        assert refused.status_code == 403, (method, url)
    field.refresh_from_db()
    assert field.label == "Plan"


def test_another_workspaces_fields_are_not_found(acme: Cast, umbrella: Cast) -> None:
    theirs = CustomField.objects.create(workspace=umbrella.workspace, key="plan", label="Plan", field_type="text")
    open_ticket(workspace=umbrella.workspace, ticket=NewTicket(requester=umbrella.customer, subject="x"))
    client = api(acme.admin)
    assert client.get("/api/v1/custom-fields").json()["items"] == []
    assert client.get(f"/api/v1/custom-fields/{theirs.pk}").status_code == 404
    assert send(client, "patch", f"/api/v1/custom-fields/{theirs.pk}", {"label": "Mine"}).status_code == 404
    assert send(client, "post", f"/api/v1/custom-fields/{theirs.pk}/move", {"offset": 1}).status_code == 404
    assert client.delete(f"/api/v1/custom-fields/{theirs.pk}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.label == "Plan"
