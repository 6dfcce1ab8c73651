"""Contacts and organizations over the API."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from deskloop.accounts.services import create_api_token
from deskloop.conftest import Cast
from deskloop.customers.models import Contact, Organization
from deskloop.customers.services import create_contact


def api(agent: Any) -> Client:
    _token, secret = create_api_token(agent=agent, name="tests")
    return Client(headers={"authorization": f"Bearer {secret}"})


def post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def test_agent_adds_a_contact_who_joins_the_organization_by_domain(acme: Cast) -> None:
    client = api(acme.agent)
    response = post(client, "/api/v1/contacts", {"email": "Dan@Globex-Acme.example", "name": "Dan", "locale": "es"})
    assert response.status_code == 201
    contact = json.loads(response.content)
    assert response["Location"] == f"/api/v1/contacts/{contact['id']}"
    assert {k: contact[k] for k in ("name", "email", "emails", "organization", "locale", "is_blocked")} == {
        "name": "Dan",
        "email": "dan@globex-acme.example",
        "emails": [{"email": "dan@globex-acme.example", "is_primary": True, "verified": False}],
        "organization": {"id": acme.organization.pk, "name": "Globex of Acme"},
        "locale": "es",
        "is_blocked": False,
    }
    assert json.loads(client.get(f"/api/v1/contacts/{contact['id']}").content) == contact

    duplicate = post(client, "/api/v1/contacts", {"email": "dan@globex-acme.example"})
    assert duplicate.status_code == 422
    assert json.loads(duplicate.content)["errors"] == [
        {"field": "email", "message": "A contact with this email already exists."}
    ]
    invalid = post(client, "/api/v1/contacts", {"email": "not an address"})
    assert json.loads(invalid.content)["detail"] == "“not an address” is not a valid email address."


def test_contacts_are_found_by_email_and_paged(acme: Cast, umbrella: Cast) -> None:
    for i in range(4):
        create_contact(workspace=acme.workspace, email=f"p{i}@people.example", name=f"Person {i}")
    client = api(acme.viewer)
    found = json.loads(client.get("/api/v1/contacts?email=P2@people.example").content)
    assert [c["name"] for c in found["items"]] == ["Person 2"]
    first = json.loads(client.get("/api/v1/contacts?limit=3").content)
    rest = json.loads(client.get(f"/api/v1/contacts?limit=3&cursor={first['next_cursor']}").content)
    names = [c["name"] for c in first["items"] + rest["items"]]
    assert names == ["Carmen Customer", "Person 0", "Person 1", "Person 2", "Person 3"]
    assert rest["next_cursor"] is None
    by_org = json.loads(client.get(f"/api/v1/contacts?organization_id={acme.organization.pk}").content)
    assert [c["name"] for c in by_org["items"]] == ["Carmen Customer"]


def test_organizations_are_created_with_their_feedback_weights(acme: Cast) -> None:
    client = api(acme.admin)
    response = post(
        client,
        "/api/v1/organizations",
        {
            "name": "Initech",
            "domains": ["initech.example", "@INITECH.io"],
            "plan": "Enterprise",
            "mrr": "12500.50",
            "customer_since": "2021-06-01",
            "industry": "Software",
            "lifecycle_stage": "customer",
            "owner_id": acme.agent.pk,
        },
        **{"Idempotency-Key": "initech"},
    )
    assert response.status_code == 201
    body = json.loads(response.content)
    assert {k: v for k, v in body.items() if k not in ("id", "created_at")} == {
        "name": "Initech",
        "domains": ["initech.example", "initech.io"],
        "plan": "Enterprise",
        "mrr": "12500.50",
        "customer_since": "2021-06-01",
        "industry": "Software",
        "lifecycle_stage": "customer",
        "owner": {"id": acme.agent.pk, "name": "Maria Agent"},
        "portal_shares_tickets": False,
    }
    listed = json.loads(client.get("/api/v1/organizations").content)
    assert [o["name"] for o in listed["items"]] == ["Globex of Acme", "Initech"]
    bad_stage = post(client, "/api/v1/organizations", {"name": "Hooli", "lifecycle_stage": "zombie"})
    assert bad_stage.status_code == 422
    assert json.loads(bad_stage.content)["errors"] == [
        {"field": "lifecycle_stage", "message": "Choose one of: 'lead', 'trial', 'customer' or 'churned'."}
    ]
    negative = post(client, "/api/v1/organizations", {"name": "Hooli", "mrr": "-1"})
    assert json.loads(negative.content)["errors"] == [{"field": "mrr", "message": "MRR cannot be negative."}]


def test_viewer_reads_but_cannot_create(acme: Cast) -> None:
    client = api(acme.viewer)
    assert post(client, "/api/v1/contacts", {"email": "x@y.example"}).status_code == 403
    assert post(client, "/api/v1/organizations", {"name": "Nope"}).status_code == 403
    assert client.get(f"/api/v1/organizations/{acme.organization.pk}").status_code == 200
    assert Contact.objects.filter(workspace=acme.workspace).count() == 1
    assert Organization.objects.filter(workspace=acme.workspace).count() == 1


def test_another_workspaces_customers_are_not_found(acme: Cast, umbrella: Cast) -> None:
    client = api(acme.agent)
    contact = client.get(f"/api/v1/contacts/{umbrella.customer.pk}")
    organization = client.get(f"/api/v1/organizations/{umbrella.organization.pk}")
    assert (contact.status_code, organization.status_code) == (404, 404)
    assert contact["Content-Type"] == "application/problem+json"
    refused = post(client, "/api/v1/contacts", {"email": "z@z.example", "organization_id": umbrella.organization.pk})
    assert json.loads(refused.content)["errors"] == [
        {"field": "organization_id", "message": "No such organization in this workspace."}
    ]
    assert [c["id"] for c in json.loads(client.get("/api/v1/contacts").content)["items"]] == [acme.customer.pk]
