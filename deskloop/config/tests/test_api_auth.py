"""API authentication, the caller's identity, agents without secrets, and the per-token rate limit."""

from __future__ import annotations

import json

import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone

from deskloop.accounts.models import ApiToken
from deskloop.accounts.services import create_api_token, revoke_api_token
from deskloop.conftest import Cast


def api_client(secret: str) -> Client:
    return Client(headers={"authorization": f"Bearer {secret}"})


def test_calls_without_a_token_get_a_401_problem(acme: Cast) -> None:
    response = Client().get("/api/v1/tickets")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Bearer realm="deskloop"'
    assert json.loads(response.content) == {
        "type": "urn:deskloop:problem:not_authenticated",
        "title": "Authentication required",
        "status": 401,
        "detail": "Send your API token in the Authorization header: “Bearer dl_…”.",
        "code": "not_authenticated",
    }


@pytest.mark.parametrize("header", ["Bearer dl_not-a-real-token", "Bearer something-else", "Basic dXNlcjpwYXNz"])
def test_invalid_tokens_get_a_401_problem(acme: Cast, header: str) -> None:
    response = Client(headers={"authorization": header}).get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["code"] in {"invalid_token", "not_authenticated"}
    assert body["status"] == 401


def test_revoked_token_stops_working_at_once(acme: Cast) -> None:
    token, secret = create_api_token(agent=acme.agent, name="CI")
    client = api_client(secret)
    assert client.get("/api/v1/me").status_code == 200
    revoke_api_token(actor=acme.admin, token=token)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert json.loads(response.content)["detail"] == "This API token is not valid or has been revoked."


def test_token_fixes_agent_and_workspace_and_records_last_use(acme: Cast, umbrella: Cast) -> None:
    token, secret = create_api_token(agent=acme.viewer, name="dashboard")
    assert token.last_used_at is None
    before = timezone.now()
    response = api_client(secret).get("/api/v1/me")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["workspace"] == {"id": acme.workspace.pk, "name": "Acme", "slug": "acme", "ticket_prefix": "ACME"}
    assert (body["agent"]["id"], body["agent"]["role"], body["agent"]["email"]) == (
        acme.viewer.pk,
        "viewer",
        "victor@acme.example",
    )
    last_used = ApiToken.objects.get(pk=token.pk).last_used_at
    assert last_used is not None
    assert last_used >= before


def test_agents_and_teams_are_listed_without_secrets(acme: Cast, umbrella: Cast) -> None:
    _token, secret = create_api_token(agent=acme.agent, name="sync")
    client = api_client(secret)
    agents = json.loads(client.get("/api/v1/agents").content)
    assert [a["email"] for a in agents["items"]] == [
        "olivia@acme.example",
        "adam@acme.example",
        "maria@acme.example",
        "boris@acme.example",
        "lena@acme.example",
        "victor@acme.example",
    ]
    assert set(agents["items"][0]) == {
        "id",
        "name",
        "email",
        "role",
        "is_active",
        "language",
        "time_zone",
        "team_ids",
        "created_at",
    }
    assert agents["next_cursor"] is None
    assert b"password" not in client.get("/api/v1/agents").content
    teams = json.loads(client.get("/api/v1/teams").content)
    assert teams == {
        "items": [
            {
                "id": acme.support.pk,
                "name": "Support",
                "names": {"default": "Support"},
                "member_ids": sorted([acme.admin.pk, acme.agent.pk]),
            },
            {
                "id": acme.billing.pk,
                "name": "Billing",
                "names": {"default": "Billing"},
                "member_ids": [acme.other_team_agent.pk],
            },
        ],
        "next_cursor": None,
    }


def test_rate_limit_answers_429_with_retry_after(acme: Cast, settings: LazySettings) -> None:
    settings.DESKLOOP_API_RATE_PER_MINUTE = 3
    _token, secret = create_api_token(agent=acme.agent, name="busy script")
    _other, other_secret = create_api_token(agent=acme.admin, name="other script")
    client = api_client(secret)
    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/me")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused["Retry-After"]) <= 60
    body = json.loads(refused.content)
    assert (body["code"], body["status"]) == ("rate_limited", 429)
    assert body["detail"].startswith("This token may make 3 requests a minute. Retry in ")
    # The limit is per token: another token of the same workspace is not affected.
    assert api_client(other_secret).get("/api/v1/me").status_code == 200
