"""In-app notifications are an outbox consumer (tickets.services.notifications.notify_in_app)."""

from __future__ import annotations

import json
from typing import Any

from deskloop.accounts.services import create_api_token
from deskloop.conftest import Cast
from deskloop.core import outbox
from deskloop.core.models import OutboxEvent
from deskloop.tickets.models import Notification
from deskloop.tickets.services.messages import add_internal_note
from deskloop.tickets.services.tickets import NewTicket, open_ticket

Capture = Any


def _new_ticket(cast: Cast, capture: Capture, *, created_by: Any, assignee: Any) -> Any:
    with capture(execute=True):
        new = NewTicket(
            requester=cast.customer, subject="Invoice address", body_text="Please change it.", assignee=assignee
        )
        return open_ticket(workspace=cast.workspace, ticket=new, created_by=created_by)[0]


def _assignments(agent: Any) -> list[tuple[int, str]]:
    rows = Notification.objects.filter(agent=agent, kind=Notification.Kind.ASSIGNMENT)
    return list(rows.values_list("ticket__number", "text"))


def test_a_ticket_created_through_the_api_with_an_assignee_notifies_the_assignee_in_the_app(
    acme: Cast, client: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    _token, secret = create_api_token(agent=acme.admin, name="story")
    body = {"subject": "Refund", "requester_id": acme.customer.pk, "body_text": "Twice.", "assignee_id": acme.agent.pk}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/tickets", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
        )
    assert response.status_code == 201
    number = response.json()["number"]
    assert _assignments(acme.agent) == [(number, f"#{number} was assigned to you")]


def test_a_ticket_created_by_the_ui_service_with_an_assignee_notifies_the_assignee_once(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = _new_ticket(acme, django_capture_on_commit_callbacks, created_by=acme.admin, assignee=acme.agent)
    assert _assignments(acme.agent) == [(ticket.number, f"#{ticket.number} was assigned to you")]
    # A consumer may run twice for one event (a sweep after a crash): the agent is told once.
    event = OutboxEvent.objects.get(name="ticket.created", payload__id=ticket.pk)
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
    outbox.dispatch(event.pk)
    assert len(_assignments(acme.agent)) == 1


def test_an_agent_assigning_themselves_is_not_notified(acme: Cast, django_capture_on_commit_callbacks: Capture) -> None:
    _new_ticket(acme, django_capture_on_commit_callbacks, created_by=acme.agent, assignee=acme.agent)
    assert _assignments(acme.agent) == []


def test_a_mention_in_a_note_notifies_the_mentioned_agent_not_the_author(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        add_internal_note(ticket=acme.ticket, agent=acme.admin, body_text="@maria and @adam, look")
    mentions = Notification.objects.filter(kind=Notification.Kind.MENTION)
    assert list(mentions.values_list("agent", "text")) == [
        (acme.agent.pk, f"Adam Admin mentioned you on #{acme.ticket.number}")
    ]
