"""A filter that matches nothing (an agent in no team, an unknown product area) answers an empty list, on
SQLite and PostgreSQL alike: the ticket lists embed the filter's SQL in larger statements (the inbox page's
id sub-select, full-text search), where a filter Django compiles to "nothing" must not become a server error."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from deskloop.accounts.services import create_api_token, set_team_members
from deskloop.conftest import Cast, signed_in_client


def api(cast: Cast) -> Client:
    _token, secret = create_api_token(agent=cast.agent, name="tests")
    return Client(headers={"authorization": f"Bearer {secret}"})


def leave_every_team(cast: Cast) -> None:
    set_team_members(actor=cast.admin, team=cast.support, members=[cast.admin])


@pytest.mark.parametrize(
    "query",
    [
        "view=my_teams",
        "view=all&area=0",
        "view=all&area=999999",
        "view=all&team=0",
        "view=all&status=0",
        "view=all&org=0",
        "view=my_teams&q=printer",
        "view=all&area=0&q=printer",
        "view=mine&area=0&q=printer&sort=-created_at",
        "view=all&status=99999999999999999999",
        "view=all&area=99999999999999999999&q=printer",
        "view=all&assignee=99999999999999999999",
    ],
)
def test_inbox_with_a_filter_that_matches_nothing_shows_no_tickets(acme: Cast, query: str) -> None:
    leave_every_team(acme)
    response = signed_in_client(acme.agent).get(f"/?{query}")
    # No ticket has an id past 64 bits: refused as not a valid id, like any other malformed one.
    if "9" * 20 in query:
        assert response.status_code == 400
    else:
        assert response.status_code == 200
        assert acme.ticket.subject not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "product_area_id=999999",
        "product_area_id=0",
        "team_id=999999",
        "status_id=999999",
        "view=my_teams",
        "status_id=99999999999999999999",
        "requester_id=-99999999999999999999",
    ],
)
def test_api_ticket_list_with_a_filter_that_matches_nothing_is_empty(acme: Cast, query: str) -> None:
    leave_every_team(acme)
    response = api(acme).get(f"/api/v1/tickets?{query}")
    assert response.status_code in (200, 422), response.content
    if response.status_code == 200:
        assert json.loads(response.content)["items"] == []
