"""The API shows the trash and spam to the same roles as the inbox does: agents who can change tickets."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from deskloop.accounts.models import Role
from deskloop.accounts.services import create_api_token
from deskloop.conftest import Cast
from deskloop.tickets.services.lifecycle import soft_delete_ticket


def api_as(cast: Cast, role: str) -> Client:
    _token, secret = create_api_token(agent=cast.by_role(role), name="tests")
    return Client(headers={"authorization": f"Bearer {secret}"})


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LIGHT_AGENT])
@pytest.mark.parametrize("view", ["trash", "spam"])
def test_viewers_and_light_agents_cannot_list_the_trash_or_spam(acme: Cast, role: str, view: str) -> None:
    soft_delete_ticket(ticket=acme.ticket, agent=acme.agent)
    response = api_as(acme, role).get("/api/v1/tickets", {"view": view})
    assert response.status_code == 403
    assert acme.ticket.subject not in response.content.decode()


def test_agents_list_the_trash(acme: Cast) -> None:
    soft_delete_ticket(ticket=acme.ticket, agent=acme.agent)
    response = api_as(acme, Role.AGENT).get("/api/v1/tickets", {"view": "trash"})
    assert response.status_code == 200
    assert [t["number"] for t in json.loads(response.content)["items"]] == [acme.ticket.number]
