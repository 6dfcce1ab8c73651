"""The API searches like the agent UI's search box and moves tickets to and from the trash as the ticket page does,
with the same roles; another workspace's tickets are never found (issue #9)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from deskloop.conftest import Cast, api_client, problem_body, signed_in_client
from deskloop.tickets.models import EventKind, Ticket, TicketEvent
from deskloop.tickets.services.tickets import NewTicket, open_ticket


def opened(cast: Cast, subject: str, body: str = "") -> Ticket:
    return open_ticket(
        workspace=cast.workspace, ticket=NewTicket(requester=cast.customer, subject=subject, body_text=body)
    )[0]


def numbers(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["number"] for item in response.json()["items"]]


# ---- search -------------------------------------------------------------------------------------------------


def test_q_searches_like_the_ui_search_box(acme: Cast, umbrella: Cast) -> None:
    body_only = opened(acme, "Question about my account", "Where can I download the refund receipt?")
    subject = opened(acme, "Refund not received", "I asked for my money back two weeks ago.")
    opened(acme, "Printer on fire", "Smoke everywhere.")
    opened(umbrella, "Refund please", "Umbrella's refund.")
    client = api_client(acme.agent)
    # Best match first, the same order the UI search page lists.
    assert numbers(client.get("/api/v1/tickets", {"q": "refund"})) == [subject.number, body_only.number]
    ui = signed_in_client(acme.agent).get(reverse("tickets:search"), {"q": "refund"}).text
    assert ui.index(f'href="/tickets/{subject.number}/"') < ui.index(f'href="/tickets/{body_only.number}/"')
    # Phrases, other word forms (facturas -> factura), and the inbox filters combine with q.
    factura = opened(acme, "Factura duplicada", "Recibí la misma factura dos veces.")
    assert numbers(client.get("/api/v1/tickets", {"q": "facturas"})) == [factura.number]
    assert numbers(client.get("/api/v1/tickets", {"q": '"money back"'})) == [subject.number]
    assert numbers(client.get("/api/v1/tickets", {"q": "refund", "status_category": "solved"})) == []
    assert numbers(client.get("/api/v1/tickets", {"q": "refund", "view": "unassigned"})) == [
        subject.number,
        body_only.number,
    ]
    # Umbrella's caller finds only Umbrella's ticket.
    assert numbers(api_client(umbrella.agent).get("/api/v1/tickets", {"q": "refund"})) == [2]


def test_q_pages_with_the_cursor_it_gives_out(acme: Cast) -> None:
    for index in range(5):
        opened(acme, f"Refund request {index}")
    client = api_client(acme.agent)
    first = client.get("/api/v1/tickets", {"q": "refund", "limit": 2}).json()
    second = client.get("/api/v1/tickets", {"q": "refund", "limit": 2, "cursor": first["next_cursor"]}).json()
    third = client.get("/api/v1/tickets", {"q": "refund", "limit": 2, "cursor": second["next_cursor"]}).json()
    seen = [item["number"] for page in (first, second, third) for item in page["items"]]
    assert sorted(seen) == [2, 3, 4, 5, 6]
    assert third["next_cursor"] is None
    refused = client.get("/api/v1/tickets", {"q": "refund", "cursor": "not-a-cursor"})
    assert refused.status_code == 422
    assert problem_body(refused)["errors"][0]["field"] == "cursor"
    too_deep = client.get("/api/v1/tickets", {"q": "refund", "cursor": "5000"})
    assert too_deep.status_code == 422


def test_q_of_punctuation_only_finds_nothing_and_blank_q_lists_every_ticket(acme: Cast) -> None:
    opened(acme, "Refund not received")
    client = api_client(acme.agent)
    assert numbers(client.get("/api/v1/tickets", {"q": "*** ( )"})) == []
    assert sorted(numbers(client.get("/api/v1/tickets", {"q": "  "}))) == [1, 2]


@pytest.mark.parametrize("role", ["viewer", "light_agent"])
def test_every_role_searches_what_it_may_see(acme: Cast, role: str) -> None:
    assert numbers(api_client(getattr(acme, role)).get("/api/v1/tickets", {"q": "invoice"})) == [1]


# ---- trash --------------------------------------------------------------------------------------------------


def test_delete_moves_to_the_trash_and_restore_brings_it_back(acme: Cast) -> None:
    ticket = opened(acme, "Refund not received")
    client = api_client(acme.agent)
    deleted = client.delete(f"/api/v1/tickets/{ticket.number}")
    assert deleted.status_code == 204
    assert client.get(f"/api/v1/tickets/{ticket.number}").status_code == 404
    assert numbers(client.get("/api/v1/tickets", {"q": "refund"})) == []
    assert ticket.number not in numbers(client.get("/api/v1/tickets"))
    restored = client.post(f"/api/v1/tickets/{ticket.number}/restore")
    assert restored.status_code == 200
    assert restored.json()["number"] == ticket.number
    assert numbers(client.get("/api/v1/tickets", {"q": "refund"})) == [ticket.number]
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "via").order_by("pk"))
    assert (EventKind.DELETED, "api") in kinds
    assert (EventKind.RESTORED, "api") in kinds


@pytest.mark.parametrize("role", ["viewer", "light_agent"])
def test_roles_that_cannot_delete_in_the_ui_cannot_over_the_api(acme: Cast, role: str) -> None:
    client = api_client(getattr(acme, role))
    refused = client.delete(f"/api/v1/tickets/{acme.ticket.number}")
    assert refused.status_code == 403
    assert problem_body(refused)["status"] == 403
    Ticket.objects.filter(pk=acme.ticket.pk).update(deleted_at=acme.ticket.created_at)
    assert client.post(f"/api/v1/tickets/{acme.ticket.number}/restore").status_code == 403
    acme.ticket.refresh_from_db()
    assert acme.ticket.deleted_at is not None


def test_another_workspaces_ticket_is_not_found_for_delete_or_restore(acme: Cast, umbrella: Cast) -> None:
    client = api_client(umbrella.admin)
    assert client.delete(f"/api/v1/tickets/{acme.ticket.number + 100}").status_code == 404
    other = opened(acme, "Only in Acme")
    assert problem_body(client.delete(f"/api/v1/tickets/{other.number}"))["status"] == 404
    assert client.post(f"/api/v1/tickets/{other.number}/restore").status_code == 404
    other.refresh_from_db()
    assert other.deleted_at is None
