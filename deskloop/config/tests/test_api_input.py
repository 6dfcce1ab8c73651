"""Input the database cannot store, or a server should not read, is refused with a clear 4xx problem, and
nothing changes: NUL characters, non-finite numbers, bodies over the upload limit, wrongly typed custom fields."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client

from deskloop.accounts.services import create_api_token
from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.models import Organization
from deskloop.tickets.models import EventKind, Ticket, TicketEvent
from deskloop.tickets.services.configuration import create_custom_field


def api(cast: Cast) -> Client:
    _token, secret = create_api_token(agent=cast.agent, name="tests")
    return Client(headers={"authorization": f"Bearer {secret}"})


def send(client: Client, method: str, url: str, raw: str | bytes) -> Any:
    headers = {"If-Match": client.get(url)["ETag"]} if method == "patch" else {}
    return getattr(client, method)(url, data=raw, content_type="application/json", headers=headers)


def problem(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json", response.content
    body: dict[str, Any] = json.loads(response.content)
    return body


def new_ticket_body(**extra: Any) -> dict[str, Any]:
    return {"subject": "Printer on fire", "requester_email": "carl@example.com", "body_text": "Help", **extra}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (new_ticket_body(subject="Printer\x00on fire"), "subject"),
        (new_ticket_body(body_text="a\x00b"), "body_text"),
        (new_ticket_body(tags=["ok", "bad\x00tag"]), "tags.1"),
        (new_ticket_body(requester_name="\x00"), "requester_name"),
    ],
)
def test_text_with_a_nul_character_is_refused_naming_the_field(acme: Cast, body: dict[str, Any], field: str) -> None:
    before = Ticket.objects.count()
    response = send(api(acme), "post", "/api/v1/tickets", json.dumps(body))
    assert response.status_code == 422
    assert [e["field"] for e in problem(response)["errors"]] == [field]
    assert Ticket.objects.count() == before


def test_a_nul_character_in_a_query_parameter_is_refused(acme: Cast) -> None:
    response = api(acme).get("/api/v1/tickets", {"tag": "vip\x00"})
    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == "tag"


@pytest.mark.parametrize("number", ["1e5000", "-1e5000", "NaN", "Infinity", '"1e5000"', "1e20", '"-1e20"'])
def test_a_number_that_is_not_finite_is_refused(acme: Cast, number: str) -> None:
    create_custom_field(actor=acme.admin, label="Seats", field_type="number", key="seats")
    client = api(acme)
    response = send(
        client, "patch", f"/api/v1/tickets/{acme.ticket.number}", '{"custom_fields": {"seats": ' + number + "}}"
    )
    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == "custom_fields.seats"
    acme.ticket.refresh_from_db()
    assert "seats" not in acme.ticket.custom_fields


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "retry-1"}])
def test_a_body_over_the_upload_limit_is_413_not_a_server_error(
    acme: Cast, settings: LazySettings, headers: dict[str, str]
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = Ticket.objects.count()
    body = json.dumps(new_ticket_body(body_text="x" * 20_000))
    response = api(acme).post("/api/v1/tickets", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 413
    assert problem(response)["code"] == "request_too_large"
    assert Ticket.objects.count() == before


def test_a_form_over_the_upload_limit_gets_a_readable_413_page(db: None, settings: LazySettings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = Client().post("/login/", {"email": "a@example.com", "password": "x" * 20_000})
    assert response.status_code == 413
    assert "too large" in response.content.decode()


@pytest.mark.parametrize(
    ("field_type", "value"),
    [
        ("text", {"nested": "object"}),
        ("text", ["a", "list"]),
        ("text", True),
        ("number", {"n": 1}),
        ("number", True),
        ("date", {"d": "2025-01-01"}),
        ("date", 20250101),
        ("choice", {"a": 1}),
        ("choice", ["Gold"]),
        ("multi_choice", {"a": 1}),
        ("multi_choice", [["Gold"]]),
    ],
)
def test_a_custom_field_value_of_the_wrong_json_type_is_refused(acme: Cast, field_type: str, value: Any) -> None:
    choices = ["Gold", "Silver"] if "choice" in field_type else []
    create_custom_field(actor=acme.admin, label="Plan", field_type=field_type, choices=choices, key="plan")
    response = send(
        api(acme), "patch", f"/api/v1/tickets/{acme.ticket.number}", json.dumps({"custom_fields": {"plan": value}})
    )
    assert response.status_code == 422, response.content
    assert problem(response)["errors"][0]["field"] == "custom_fields.plan"
    acme.ticket.refresh_from_db()
    assert "plan" not in acme.ticket.custom_fields


def test_a_field_with_a_long_label_and_key_records_its_changes(acme: Cast) -> None:
    label = "How did the customer first hear about our product, and from whom exactly?"
    field = create_custom_field(actor=acme.admin, label=label, field_type="text")
    response = send(
        api(acme),
        "patch",
        f"/api/v1/tickets/{acme.ticket.number}",
        json.dumps({"custom_fields": {field.key: "A friend"}}),
    )
    assert response.status_code == 200, response.content
    acme.ticket.refresh_from_db()
    assert acme.ticket.custom_fields[field.key] == "A friend"
    event = TicketEvent.objects.filter(ticket=acme.ticket, kind=EventKind.FIELD_CHANGED).latest("id")
    assert event.field == f"custom_fields.{field.key}"


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("post", "/login/", {"email": "maria@acme.example\x00", "password": "x"}),
        ("get", "/", {"q": "printer\x00"}),
        ("get", "/", {"view": "all", "tag": "vip\x00"}),
        ("get", "/search/", {"q": "a\x00b"}),
    ],
)
def test_pages_refuse_a_nul_character_in_a_form_or_query(
    acme: Cast, method: str, url: str, data: dict[str, str]
) -> None:
    client = signed_in_client(acme.agent) if method == "get" else Client()
    response = getattr(client, method)(url, data)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize("number", ["1e5000", "-1e5000", "NaN"])
def test_a_number_that_is_not_finite_is_refused_for_a_money_field(acme: Cast, number: str) -> None:
    _token, secret = create_api_token(agent=acme.admin, name="tests")
    client = Client(headers={"authorization": f"Bearer {secret}"})
    response = send(client, "post", "/api/v1/organizations", '{"name": "Initech", "mrr": ' + number + "}")
    assert response.status_code == 422, response.content
    assert problem(response)["errors"][0]["field"] == "mrr"
    assert not Organization.objects.filter(workspace=acme.workspace, name="Initech").exists()


def test_an_infinite_number_in_a_text_field_is_refused_not_stored_as_inf(acme: Cast) -> None:
    create_custom_field(actor=acme.admin, label="Note", field_type="text", key="note")
    before = Ticket.objects.count()
    raw = '{"subject": "Printer", "requester_email": "carl@example.com", "custom_fields": {"note": 1e5000}}'
    response = send(api(acme), "post", "/api/v1/tickets", raw)
    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == "custom_fields.note"
    assert Ticket.objects.count() == before
