"""Saved segments from the agent's side: the pages under /customers/segments/, the organizations list cut by a
segment, and /api/v1/segments."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from deskloop.conftest import Cast, api_client, api_send, problem_body, signed_in_client
from deskloop.customers.models import Organization, Segment


def _orgs(cast: Cast) -> None:
    Organization.objects.create(
        workspace=cast.workspace, name="Field Co", mrr=Decimal(400), industry="Field service",
        customer_since=dt.date(2020, 1, 1),
    )  # fmt: skip
    Organization.objects.create(workspace=cast.workspace, name="New Shop", mrr=Decimal(500), industry="Retail")


def test_an_agent_saves_a_segment_and_lists_its_organizations(acme: Cast) -> None:
    _orgs(acme)
    client = signed_in_client(acme.agent)

    response = client.post(
        "/customers/segments/new/",
        {"name": "Loyal big customers", "mrr_above": "100", "min_customer_months": "6", "lifecycle_stage": ""},
    )

    assert response.status_code == 302
    segment = Segment.objects.get(workspace=acme.workspace, name="Loyal big customers")
    assert (segment.mrr_above, segment.min_customer_months, segment.industry) == (Decimal("100.00"), 6, "")
    listing = client.get("/customers/segments/").content.decode()
    assert "Loyal big customers" in listing
    # Globex (MRR 990) and New Shop (500) have no customer-since date, so they are not customers for 6 months.
    organizations = client.get(f"/organizations/?segment={segment.pk}").content.decode()
    assert "Field Co" in organizations
    assert "New Shop" not in organizations
    assert "Globex of Acme" not in organizations


def test_editing_and_deleting_a_segment(acme: Cast) -> None:
    segment = Segment.objects.create(workspace=acme.workspace, name="Field", industry="field service")
    client = signed_in_client(acme.agent)

    edited = client.post(f"/customers/segments/{segment.pk}/", {"name": "Field service", "industry": "Field service"})
    assert edited.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.industry) == ("Field service", "Field service")

    assert client.post(f"/customers/segments/{segment.pk}/delete/").status_code == 302
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_bad_segment_input_is_refused_and_changes_nothing(acme: Cast, umbrella: Cast) -> None:
    Segment.objects.create(workspace=acme.workspace, name="Field", industry="field service")
    theirs = Segment.objects.create(workspace=umbrella.workspace, name="Theirs", plan="Pro")
    client = signed_in_client(acme.agent)

    duplicate = client.post("/customers/segments/new/", {"name": "field", "plan": "Pro"})
    negative = client.post("/customers/segments/new/", {"name": "Odd", "mrr_above": "-5"})

    assert duplicate.status_code == 400
    assert "already exists" in duplicate.content.decode()
    assert negative.status_code == 400
    assert Segment.objects.filter(workspace=acme.workspace).count() == 1
    assert client.get(f"/customers/segments/{theirs.pk}/").status_code == 404
    assert client.post(f"/customers/segments/{theirs.pk}/delete/").status_code == 404
    assert client.get(f"/organizations/?segment={theirs.pk}").status_code == 404
    assert client.get("/organizations/?segment=x").status_code == 422
    assert signed_in_client(acme.viewer).post("/customers/segments/new/", {"name": "Mine"}).status_code == 403
    assert Segment.objects.filter(pk=theirs.pk, name="Theirs").exists()


def test_segments_api_create_read_change_delete(acme: Cast) -> None:
    client = api_client(acme.agent)

    created = api_send(
        client,
        "post",
        "/api/v1/segments",
        {"name": "Field service", "industry": "field service", "owner_id": acme.agent.pk},
    )
    assert created.status_code == 201, created.content
    body = json.loads(created.content)
    assert body["industry"] == "field service"
    assert body["owner"] == {"id": acme.agent.pk, "name": acme.agent.name}
    assert created["Location"].endswith(f"/api/v1/segments/{body['id']}")

    changed = api_send(client, "patch", f"/api/v1/segments/{body['id']}", {"mrr_above": "100", "owner_id": None})
    assert changed.status_code == 200, changed.content
    after = json.loads(changed.content)
    assert (after["name"], after["mrr_above"], after["owner"], after["industry"]) == (
        "Field service",
        "100.00",
        None,
        "field service",
    )
    listed = json.loads(api_send(client, "get", "/api/v1/segments").content)
    assert [item["name"] for item in listed["items"]] == ["Field service"]

    assert api_send(client, "delete", f"/api/v1/segments/{body['id']}").status_code == 204
    assert not Segment.objects.filter(pk=body["id"]).exists()


def test_segments_api_refuses_bad_input_and_other_workspaces(acme: Cast, umbrella: Cast) -> None:
    theirs = Segment.objects.create(workspace=umbrella.workspace, name="Theirs")
    client = api_client(acme.agent)

    bad = api_send(client, "post", "/api/v1/segments", {"name": "  ", "min_customer_months": 5000})
    assert bad.status_code == 422
    assert problem_body(bad)["status"] == 422
    foreign_owner = api_send(client, "post", "/api/v1/segments", {"name": "X", "owner_id": umbrella.agent.pk})
    assert foreign_owner.status_code == 422
    assert api_send(client, "get", f"/api/v1/segments/{theirs.pk}").status_code == 404
    assert api_send(client, "patch", f"/api/v1/segments/{theirs.pk}", {"name": "Mine"}).status_code == 404
    assert api_send(client, "delete", f"/api/v1/segments/{theirs.pk}").status_code == 404
    assert api_send(api_client(acme.viewer), "post", "/api/v1/segments", {"name": "Viewer's"}).status_code == 403
    assert not Segment.objects.filter(workspace=acme.workspace).exists()
    assert Segment.objects.get(pk=theirs.pk).name == "Theirs"
