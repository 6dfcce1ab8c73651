"""The API shows the trash and spam to the same roles as the inbox does: agents who can change tickets. The same
rule (queries.may_see_trash_and_spam) answers every read of one ticket: the ticket page, its attachments, and the
API's ticket, messages and macro preview."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from deskloop.accounts.models import Role
from deskloop.accounts.services import create_api_token
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.attachments import IncomingFile
from deskloop.tickets.models import Attachment, Ticket
from deskloop.tickets.services.lifecycle import mark_spam, soft_delete_ticket
from deskloop.tickets.services.macros import create_macro
from deskloop.tickets.services.messages import CustomerMessage, add_customer_message


def api_as(cast: Cast, role: str) -> Client:
    _token, secret = create_api_token(agent=cast.by_role(role), name="tests")
    return Client(headers={"authorization": f"Bearer {secret}"})


def _put_in(cast: Cast, place: str) -> Ticket:
    if place == "trash":
        return soft_delete_ticket(ticket=cast.ticket, agent=cast.agent)
    return mark_spam(ticket=cast.ticket, agent=cast.agent)


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


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LIGHT_AGENT])
@pytest.mark.parametrize("place", ["trash", "spam"])
def test_a_ticket_in_the_trash_or_spam_does_not_exist_for_viewers_and_light_agents(
    acme: Cast, role: str, place: str
) -> None:
    macro = create_macro(agent=acme.admin, name="Thanks", body="Hello {{ ticket.subject }}")
    ticket = _put_in(acme, place)
    number = ticket.number
    api = api_as(acme, role)
    reads = [
        api.get(f"/api/v1/tickets/{number}"),
        api.get(f"/api/v1/tickets/{number}/messages"),
        signed_in_client(acme.by_role(role)).get(f"/tickets/{number}/"),
    ]
    if role == Role.LIGHT_AGENT:  # the macro preview is for roles that write notes or replies
        reads.append(api.get(f"/api/v1/tickets/{number}/macros/{macro.pk}"))
    # Refused as the ticket page refused the trash: no such ticket, and nothing of it in the answer.
    assert [r.status_code for r in reads] == [404] * len(reads)
    assert not any(ticket.subject in r.content.decode() for r in reads)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LIGHT_AGENT])
@pytest.mark.parametrize("place", ["trash", "spam"])
def test_the_attachments_of_a_ticket_in_the_trash_or_spam_are_refused_to_viewers_and_light_agents(
    acme: Cast, role: str, place: str
) -> None:
    message = add_customer_message(
        ticket=acme.ticket,
        contact=acme.customer,
        message=CustomerMessage(
            body_text="see attached",
            attachments=[IncomingFile(filename="invoice.txt", content=b"secret", content_type="text/plain")],
        ),
    )
    attachment = Attachment.objects.get(message=message)
    acme.ticket.refresh_from_db()
    _put_in(acme, place)
    assert signed_in_client(acme.by_role(role)).get(f"/attachments/{attachment.pk}/").status_code == 404
    assert signed_in_client(acme.agent).get(f"/attachments/{attachment.pk}/").status_code == 200


def test_agents_still_open_a_spam_ticket_to_rescue_it(acme: Cast) -> None:
    ticket = _put_in(acme, "spam")
    assert signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/").status_code == 200
    assert api_as(acme, Role.AGENT).get(f"/api/v1/tickets/{ticket.number}").json()["is_spam"] is True
