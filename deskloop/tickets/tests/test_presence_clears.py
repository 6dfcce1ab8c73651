"""Issue #9: "X is replying" ends when X's reply or note is sent, not when X closes the tab."""

from __future__ import annotations

import pytest

from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import Message
from deskloop.tickets.services import presence


@pytest.mark.parametrize("kind", ["reply", "note"])
def test_sending_ends_replying_for_the_other_agents(acme: Cast, kind: str) -> None:
    maria = signed_in_client(acme.agent)
    url = f"/tickets/{acme.ticket.number}/"
    assert maria.post(f"{url}presence/", {"replying": "1"}).status_code == 200
    adam = signed_in_client(acme.admin)
    assert "Maria Agent is replying" in adam.get(url).content.decode()

    seen = presence.last_message_id(acme.ticket)
    sent = maria.post(f"{url}messages/", {"kind": kind, "body": "Done, see the new invoice.", "last_message_id": seen})
    assert sent.status_code == 302
    assert Message.objects.filter(ticket=acme.ticket, author_agent=acme.agent).count() == 1

    page = adam.get(url).content.decode()
    assert "Maria Agent is viewing" in page
    assert "Maria Agent is replying" not in page
