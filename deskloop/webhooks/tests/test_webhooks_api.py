"""Webhooks over the API, as an admin manages them on the settings page: same services, same roles (issue #9)."""

from __future__ import annotations

import pytest

from deskloop.conftest import Cast, api_client, api_send, problem_body
from deskloop.webhooks.models import Delivery, DeliveryState, Endpoint

PUBLIC_URL = "https://93.184.215.14/hooks"


def test_admin_adds_reads_changes_rotates_and_deletes_a_webhook(acme: Cast) -> None:
    client = api_client(acme.admin)
    created = api_send(
        client, "post", "/api/v1/webhooks", {"url": PUBLIC_URL, "events": ["message.created", "ticket.created"]}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["events"] == ["ticket.created", "message.created"]
    assert body["secret"].startswith("whsec_")
    assert created["Location"] == f"/api/v1/webhooks/{body['id']}"
    url = f"/api/v1/webhooks/{body['id']}"
    assert client.get(url).json()["url"] == PUBLIC_URL
    assert [item["id"] for item in client.get("/api/v1/webhooks").json()["items"]] == [body["id"]]

    changed = api_send(client, "patch", url, {"is_active": False, "description": "CRM sync"})
    assert changed.status_code == 200
    assert (changed.json()["is_active"], changed.json()["description"], changed.json()["url"]) == (
        False,
        "CRM sync",
        PUBLIC_URL,
    )
    rotated = api_send(client, "post", f"{url}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != body["secret"]
    assert Endpoint.objects.get(pk=body["id"]).secret == rotated.json()["secret"]

    assert client.delete(url).status_code == 204
    assert not Endpoint.objects.filter(pk=body["id"]).exists()
    assert client.get(url).status_code == 404


def test_bad_webhooks_are_refused_field_by_field_and_nothing_is_stored(acme: Cast) -> None:
    client = api_client(acme.admin)
    private = api_send(
        client, "post", "/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["ticket.created"]}
    )
    assert private.status_code == 422
    assert problem_body(private)["errors"][0]["field"] == "url"
    unknown = api_send(client, "post", "/api/v1/webhooks", {"url": PUBLIC_URL, "events": ["ticket.exploded"]})
    assert unknown.status_code == 422
    assert problem_body(unknown)["errors"][0]["field"].startswith("events")
    empty = api_send(client, "post", "/api/v1/webhooks", {"url": PUBLIC_URL, "events": []})
    assert empty.status_code == 422
    assert not Endpoint.objects.exists()


def test_deliveries_are_listed_and_replayed(acme: Cast) -> None:
    endpoint = Endpoint.objects.create(workspace=acme.workspace, url=PUBLIC_URL, secret="s", events=["ticket.created"])
    delivery = Delivery.objects.create(
        workspace=acme.workspace, endpoint=endpoint, event="ticket.created", body="{}", state=DeliveryState.FAILED
    )
    client = api_client(acme.admin)
    listed = client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries").json()
    assert [(item["id"], item["state"]) for item in listed["items"]] == [(delivery.pk, "failed")]
    replayed = api_send(client, "post", f"/api/v1/webhooks/deliveries/{delivery.pk}/replay")
    assert replayed.status_code == 200
    assert (replayed.json()["state"], replayed.json()["is_replay"]) == ("pending", True)


@pytest.mark.parametrize("role", ["agent", "light_agent", "viewer"])
def test_only_admins_manage_webhooks(acme: Cast, role: str) -> None:
    endpoint = Endpoint.objects.create(workspace=acme.workspace, url=PUBLIC_URL, secret="s", events=["ticket.created"])
    client = api_client(getattr(acme, role))
    for method, url in (
        ("get", "/api/v1/webhooks"),
        ("post", "/api/v1/webhooks"),
        ("get", f"/api/v1/webhooks/{endpoint.pk}"),
        ("patch", f"/api/v1/webhooks/{endpoint.pk}"),
        ("delete", f"/api/v1/webhooks/{endpoint.pk}"),
        ("post", f"/api/v1/webhooks/{endpoint.pk}/rotate-secret"),
    ):
        refused = api_send(client, method, url, {"url": PUBLIC_URL, "events": ["ticket.created"]})
        assert refused.status_code == 403, (method, url)
        assert problem_body(refused)["status"] == 403
    assert Endpoint.objects.get().secret == "s"


def test_another_workspaces_webhooks_are_not_found(acme: Cast, umbrella: Cast) -> None:
    theirs = Endpoint.objects.create(
        workspace=umbrella.workspace, url=PUBLIC_URL, secret="s", events=["ticket.created"]
    )
    delivery = Delivery.objects.create(workspace=umbrella.workspace, endpoint=theirs, event="ticket.created", body="{}")
    client = api_client(acme.admin)
    assert client.get("/api/v1/webhooks").json()["items"] == []
    assert client.get(f"/api/v1/webhooks/{theirs.pk}").status_code == 404
    assert api_send(client, "patch", f"/api/v1/webhooks/{theirs.pk}", {"is_active": False}).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{theirs.pk}").status_code == 404
    assert api_send(client, "post", f"/api/v1/webhooks/{theirs.pk}/rotate-secret").status_code == 404
    assert client.get(f"/api/v1/webhooks/{theirs.pk}/deliveries").status_code == 404
    assert api_send(client, "post", f"/api/v1/webhooks/deliveries/{delivery.pk}/replay").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.is_active, theirs.secret) == (True, "s")
