"""Custom ticket fields over the API, as an admin sets them up in settings: same services, same roles (issue #9)."""

from __future__ import annotations

import pytest

from deskloop.conftest import Cast, api_client, api_send, problem_body
from deskloop.tickets.models import CustomField
from deskloop.tickets.services.tickets import NewTicket, open_ticket


def test_admin_adds_changes_moves_and_deletes_fields_and_tickets_take_their_values(acme: Cast) -> None:
    client = api_client(acme.admin)
    plan = api_send(
        client, "post", "/api/v1/custom-fields", {"label": "Plan", "field_type": "choice", "choices": ["Free", "Pro"]}
    )
    assert plan.status_code == 201, plan.content
    assert (plan.json()["key"], plan.json()["choices"], plan.json()["position"]) == ("plan", ["Free", "Pro"], 0)
    seats = api_send(
        client, "post", "/api/v1/custom-fields", {"label": "Seats", "field_type": "number", "key": "seats"}
    )
    assert seats.status_code == 201
    # A ticket created over the API takes a value for the new field.
    created = api_send(
        api_client(acme.agent),
        "post",
        "/api/v1/tickets",
        {"subject": "Upgrade", "requester_id": acme.customer.pk, "custom_fields": {"plan": "Pro"}},
    )
    assert created.status_code == 201, created.content

    url = f"/api/v1/custom-fields/{plan.json()['id']}"
    changed = api_send(client, "patch", url, {"label": "Plan tier", "required_on_solve": True})
    assert (changed.json()["label"], changed.json()["required_on_solve"], changed.json()["choices"]) == (
        "Plan tier",
        True,
        ["Free", "Pro"],
    )
    in_use = api_send(client, "patch", url, {"choices": ["Free"]})
    assert (in_use.status_code, problem_body(in_use)["errors"][0]["field"]) == (422, "choices")
    moved = api_send(client, "post", f"/api/v1/custom-fields/{seats.json()['id']}/move", {"offset": -1})
    assert [item["key"] for item in moved.json()["items"]] == ["seats", "plan"]
    assert [item["key"] for item in client.get("/api/v1/custom-fields").json()["items"]] == ["seats", "plan"]

    refused = client.delete(url)
    assert refused.status_code == 422
    assert "has a value on 1 ticket" in problem_body(refused)["detail"]
    assert client.delete(f"/api/v1/custom-fields/{seats.json()['id']}").status_code == 204
    assert list(CustomField.objects.values_list("key", flat=True)) == ["plan"]


def test_bad_fields_are_refused_by_field(acme: Cast) -> None:
    client = api_client(acme.admin)
    no_choices = api_send(client, "post", "/api/v1/custom-fields", {"label": "Plan", "field_type": "choice"})
    assert (no_choices.status_code, problem_body(no_choices)["errors"][0]["field"]) == (422, "choices")
    bad_type = api_send(client, "post", "/api/v1/custom-fields", {"label": "Plan", "field_type": "colour"})
    assert (bad_type.status_code, problem_body(bad_type)["errors"][0]["field"]) == (422, "field_type")
    api_send(client, "post", "/api/v1/custom-fields", {"label": "Plan", "field_type": "text"})
    taken = api_send(client, "post", "/api/v1/custom-fields", {"label": "Other", "field_type": "text", "key": "plan"})
    assert (taken.status_code, problem_body(taken)["errors"][0]["field"]) == (422, "key")
    assert CustomField.objects.count() == 1


@pytest.mark.parametrize("role", ["agent", "light_agent", "viewer"])
def test_only_admins_set_up_custom_fields(acme: Cast, role: str) -> None:
    field = CustomField.objects.create(workspace=acme.workspace, key="plan", label="Plan", field_type="text")
    client = api_client(getattr(acme, role))
    for method, url in (
        ("get", "/api/v1/custom-fields"),
        ("post", "/api/v1/custom-fields"),
        ("get", f"/api/v1/custom-fields/{field.pk}"),
        ("patch", f"/api/v1/custom-fields/{field.pk}"),
        ("post", f"/api/v1/custom-fields/{field.pk}/move"),
        ("delete", f"/api/v1/custom-fields/{field.pk}"),
    ):
        refused = api_send(client, method, url, {"label": "X", "field_type": "text", "offset": 1})
        assert refused.status_code == 403, (method, url)
    field.refresh_from_db()
    assert field.label == "Plan"


def test_another_workspaces_fields_are_not_found(acme: Cast, umbrella: Cast) -> None:
    theirs = CustomField.objects.create(workspace=umbrella.workspace, key="plan", label="Plan", field_type="text")
    open_ticket(workspace=umbrella.workspace, ticket=NewTicket(requester=umbrella.customer, subject="x"))
    client = api_client(acme.admin)
    assert client.get("/api/v1/custom-fields").json()["items"] == []
    assert client.get(f"/api/v1/custom-fields/{theirs.pk}").status_code == 404
    assert api_send(client, "patch", f"/api/v1/custom-fields/{theirs.pk}", {"label": "Mine"}).status_code == 404
    assert api_send(client, "post", f"/api/v1/custom-fields/{theirs.pk}/move", {"offset": 1}).status_code == 404
    assert client.delete(f"/api/v1/custom-fields/{theirs.pk}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.label == "Plan"
