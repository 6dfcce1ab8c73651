"""Saved inbox views over the API, as in the inbox: personal for everyone, shared by admins (issue #9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from deskloop.conftest import Cast, api_client, problem_body
from deskloop.tickets.models import SavedView


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_an_agent_saves_a_view_and_lists_tickets_with_its_filters(acme: Cast) -> None:
    client = api_client(acme.agent)
    filters = {"view": "all", "priority": ["normal", "high"], "team_id": [acme.support.pk]}
    created = post(client, "/api/v1/views", {"name": "Support  queue", "filters": filters, "sort": "-created_at"})
    assert created.status_code == 201, created.content
    view = created.json()
    assert (view["name"], view["shared"], view["sort"]) == ("Support queue", False, "-created_at")
    assert view["filters"] == filters
    # The stored filters, sent back to GET /tickets, list what the inbox view lists.
    listed = client.get("/api/v1/tickets", {**view["filters"], "sort": view["sort"]})
    assert [item["number"] for item in listed.json()["items"]] == [acme.ticket.number]
    assert client.get(f"/api/v1/views/{view['id']}").json() == view
    assert [item["id"] for item in client.get("/api/v1/views").json()["items"]] == [view["id"]]
    # Personal: nobody else sees it, not even an admin.
    assert api_client(acme.admin).get(f"/api/v1/views/{view['id']}").status_code == 404
    assert api_client(acme.admin).delete(f"/api/v1/views/{view['id']}").status_code == 404
    assert client.delete(f"/api/v1/views/{view['id']}").status_code == 204
    assert not SavedView.objects.exists()


def test_only_admins_share_views_and_delete_shared_ones(acme: Cast) -> None:
    refused = post(api_client(acme.agent), "/api/v1/views", {"name": "Everyone", "shared": True})
    assert (refused.status_code, problem_body(refused)["errors"][0]["field"]) == (403, "shared")
    shared = post(api_client(acme.admin), "/api/v1/views", {"name": "Everyone", "shared": True})
    assert (shared.status_code, shared.json()["shared"]) == (201, True)
    url = f"/api/v1/views/{shared.json()['id']}"
    for role in ("agent", "light_agent", "viewer"):
        client = api_client(getattr(acme, role))
        assert client.get(url).status_code == 200
        assert client.delete(url).status_code == 403
    assert api_client(acme.owner).delete(url).status_code == 204


@pytest.mark.parametrize("role", ["light_agent", "viewer"])
def test_every_role_keeps_personal_views(acme: Cast, role: str) -> None:
    created = post(api_client(getattr(acme, role)), "/api/v1/views", {"name": "Mine", "filters": {"view": "mine"}})
    assert created.status_code == 201


def test_bad_views_are_refused_by_field(acme: Cast) -> None:
    client = api_client(acme.agent)
    post(client, "/api/v1/views", {"name": "Mine"})
    taken = post(client, "/api/v1/views", {"name": "mine"})
    assert (taken.status_code, problem_body(taken)["errors"][0]["field"]) == (422, "name")
    blank = post(client, "/api/v1/views", {"name": "  "})
    assert (blank.status_code, problem_body(blank)["errors"][0]["field"]) == (422, "name")
    bad_view = post(client, "/api/v1/views", {"name": "X", "filters": {"view": "everything"}})
    assert bad_view.status_code == 422
    bad_sort = post(client, "/api/v1/views", {"name": "X", "sort": "random"})
    assert bad_sort.status_code == 422
    assert SavedView.objects.count() == 1


def test_another_workspaces_views_are_not_found(acme: Cast, umbrella: Cast) -> None:
    theirs = SavedView.objects.create(workspace=umbrella.workspace, name="Theirs", owner=None, filters={})
    client = api_client(acme.owner)
    assert client.get("/api/v1/views").json()["items"] == []
    assert client.get(f"/api/v1/views/{theirs.pk}").status_code == 404
    assert client.delete(f"/api/v1/views/{theirs.pk}").status_code == 404
    assert SavedView.objects.filter(pk=theirs.pk).exists()
