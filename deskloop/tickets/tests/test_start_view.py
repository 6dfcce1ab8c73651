"""Issue #9: the inbox opens with "All unsolved" (not "All tickets", mostly solved work), or with the view the agent
chose on their own settings screen."""

from __future__ import annotations

import re

from deskloop.accounts.models import Agent
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import StatusCategory
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-ticket-number="(\d+)"', html)]


def _current_view(html: str) -> str:
    found = re.search(r'data-view="(\w+)" aria-current="page"', html)
    assert found is not None
    return found.group(1)


def _solved_and_open(acme: Cast) -> tuple[int, int]:
    done = open_ticket(workspace=acme.workspace, ticket=NewTicket(requester=acme.customer, subject="Done already"))[0]
    update_ticket(
        ticket=done,
        changes=TicketChanges(status=default_status(acme.workspace.pk, StatusCategory.SOLVED)),
        agent=acme.admin,
    )
    mine = open_ticket(
        workspace=acme.workspace, ticket=NewTicket(requester=acme.customer, subject="Mine", assignee=acme.agent)
    )[0]
    return done.number, mine.number


def test_the_inbox_root_opens_all_unsolved(acme: Cast) -> None:
    solved, mine = _solved_and_open(acme)
    html = signed_in_client(acme.agent).get("/").content.decode()
    assert _current_view(html) == "unsolved"
    assert "All unsolved" in html
    assert _numbers(html) == [mine, acme.ticket.number]
    assert solved not in _numbers(html)
    counts = signed_in_client(acme.agent).get("/inbox/sidebar/").content.decode()
    assert re.search(r"data-count=\"unsolved\">2<", counts)
    # "All tickets" is still one click away.
    assert set(_numbers(signed_in_client(acme.agent).get("/?view=all").content.decode())) == {
        solved,
        mine,
        acme.ticket.number,
    }


def test_an_agent_chooses_the_view_the_inbox_opens_with(acme: Cast) -> None:
    _solved, mine = _solved_and_open(acme)
    client = signed_in_client(acme.agent)
    profile = client.get("/settings/profile/").content.decode()
    assert "Inbox opens with" in profile
    assert 'value="mine"' in profile

    response = client.post("/settings/profile/start-view/", {"start_view": "mine"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert _current_view(html) == "mine"
    assert _numbers(html) == [mine]
    # Another agent still opens with the default.
    assert _current_view(signed_in_client(acme.admin).get("/").content.decode()) == "unsolved"


def test_an_unknown_start_view_is_refused_and_nothing_changes(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    response = client.post("/settings/profile/start-view/", {"start_view": "trash"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Agent.objects.get(pk=acme.agent.pk).start_view == ""
