"""Agents and invitations over the API, as an admin manages people in settings: same services, same roles
(issue #9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail

from deskloop.accounts.models import Agent, Invitation, Role
from deskloop.accounts.services import invite_agent
from deskloop.conftest import Cast, api_client, api_send, problem_body


def test_admin_changes_a_role_and_deactivates_an_agent(acme: Cast) -> None:
    client = api_client(acme.admin)
    url = f"/api/v1/agents/{acme.agent.pk}"
    promoted = api_send(client, "patch", url, {"role": "light_agent"})
    assert (promoted.status_code, promoted.json()["role"]) == (200, "light_agent")
    # The agent's own token stops working once deactivated, as signing in does.
    agent_client = api_client(acme.agent)
    deactivated = api_send(client, "patch", url, {"is_active": False})
    assert (deactivated.status_code, deactivated.json()["is_active"]) == (200, False)
    assert agent_client.get("/api/v1/me").status_code == 401
    assert api_send(client, "patch", url, {"is_active": True}).json()["is_active"] is True


def test_owner_rules_hold_over_the_api(acme: Cast) -> None:
    client = api_client(acme.admin)
    make_owner = api_send(client, "patch", f"/api/v1/agents/{acme.agent.pk}", {"role": "owner"})
    assert (make_owner.status_code, problem_body(make_owner)["detail"]) == (
        403,
        "Only an owner can make someone an owner.",
    )
    demote_owner = api_send(client, "patch", f"/api/v1/agents/{acme.owner.pk}", {"role": "agent"})
    assert demote_owner.status_code == 403
    myself = api_send(client, "patch", f"/api/v1/agents/{acme.admin.pk}", {"is_active": False})
    assert (myself.status_code, problem_body(myself)["errors"][0]["field"]) == (422, "is_active")
    last_owner = api_send(api_client(acme.owner), "patch", f"/api/v1/agents/{acme.owner.pk}", {"role": "admin"})
    assert (last_owner.status_code, problem_body(last_owner)["errors"][0]["field"]) == (422, "role")
    unknown = api_send(client, "patch", f"/api/v1/agents/{acme.agent.pk}", {"role": "emperor"})
    assert unknown.status_code == 422
    assert Agent.objects.get(pk=acme.owner.pk).role == Role.OWNER
    assert Agent.objects.get(pk=acme.agent.pk).role == Role.AGENT


def test_admin_invites_resends_and_withdraws(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    client = api_client(acme.admin)
    with django_capture_on_commit_callbacks(execute=True):
        invited = api_send(client, "post", "/api/v1/invitations", {"email": "Nina@Example.org", "role": "light_agent"})
    assert invited.status_code == 201, invited.content
    body = invited.json()
    assert (body["email"], body["role"], body["state"]) == ("nina@example.org", "light_agent", "pending")
    assert "token" not in json.dumps(body)
    assert [message.to for message in mail.outbox] == [["nina@example.org"]]
    assert [item["id"] for item in client.get("/api/v1/invitations").json()["items"]] == [body["id"]]
    with django_capture_on_commit_callbacks(execute=True):
        resent = api_send(client, "post", f"/api/v1/invitations/{body['id']}/resend")
    assert (resent.status_code, len(mail.outbox)) == (200, 2)
    assert client.delete(f"/api/v1/invitations/{body['id']}").status_code == 204
    assert client.get("/api/v1/invitations").json()["items"] == []
    again = client.delete(f"/api/v1/invitations/{body['id']}")
    assert again.status_code == 422
    already = api_send(client, "post", "/api/v1/invitations", {"email": "maria@acme.example"})
    assert (already.status_code, problem_body(already)["errors"][0]["field"]) == (422, "email")
    bad = api_send(client, "post", "/api/v1/invitations", {"email": "not an address"})
    assert (bad.status_code, problem_body(bad)["errors"][0]["field"]) == (422, "email")


@pytest.mark.parametrize("role", ["agent", "light_agent", "viewer"])
def test_only_admins_manage_people(acme: Cast, role: str) -> None:
    invitation, _secret = invite_agent(actor=acme.admin, email="nina@example.org")
    client = api_client(getattr(acme, role))
    for method, url in (
        ("patch", f"/api/v1/agents/{acme.viewer.pk}"),
        ("get", "/api/v1/invitations"),
        ("post", "/api/v1/invitations"),
        ("post", f"/api/v1/invitations/{invitation.pk}/resend"),
        ("delete", f"/api/v1/invitations/{invitation.pk}"),
    ):
        refused = api_send(client, method, url, {"role": "admin", "email": "x@example.org"})
        assert refused.status_code == 403, (method, url)
    assert Agent.objects.get(pk=acme.viewer.pk).role == Role.VIEWER
    assert Invitation.objects.get().revoked_at is None


def test_another_workspaces_people_are_not_found(acme: Cast, umbrella: Cast) -> None:
    invitation, _secret = invite_agent(actor=umbrella.admin, email="nina@example.org")
    client = api_client(acme.owner)
    assert api_send(client, "patch", f"/api/v1/agents/{umbrella.agent.pk}", {"is_active": False}).status_code == 404
    assert client.get("/api/v1/invitations").json()["items"] == []
    assert api_send(client, "post", f"/api/v1/invitations/{invitation.pk}/resend").status_code == 404
    assert client.delete(f"/api/v1/invitations/{invitation.pk}").status_code == 404
    assert Agent.objects.get(pk=umbrella.agent.pk).is_active is True
    assert Invitation.objects.get().revoked_at is None
