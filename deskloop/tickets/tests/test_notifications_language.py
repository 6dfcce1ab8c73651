"""Issue #9: an in-app notification is worded in the language of the agent reading it, when they read it -- not in
the language of the agent who caused it, nor in the one the reader had when it was made."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps

from deskloop.accounts.models import Agent
from deskloop.accounts.services import update_profile
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import Notification
from deskloop.tickets.services.messages import add_internal_note
from deskloop.tickets.services.tickets import NewTicket, open_ticket

Capture = Any


def _speak(agent: Agent, language: str) -> None:
    user = agent.user
    update_profile(user=user, name=user.name or agent.name, language=language, time_zone=user.time_zone)


def _notifications_page(agent: Agent) -> str:
    return signed_in_client(Agent.objects.get(pk=agent.pk)).get("/notifications/").content.decode()


def test_a_mention_reads_in_the_readers_language_of_the_moment(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    _speak(acme.admin, "ru")  # the agent who mentions works in Russian
    _speak(acme.agent, "es")
    with django_capture_on_commit_callbacks(execute=True):
        add_internal_note(ticket=acme.ticket, agent=acme.admin, body_text="@maria can you check this?")
    assert f"Adam Admin te mencionó en #{acme.ticket.number}" in _notifications_page(acme.agent)

    _speak(acme.agent, "en")  # the reader changes language: the same notification follows
    assert f"Adam Admin mentioned you on #{acme.ticket.number}" in _notifications_page(acme.agent)
    _speak(acme.agent, "ru")
    assert f"Adam Admin упомянул(а) вас в #{acme.ticket.number}" in _notifications_page(acme.agent)


def test_an_assignment_reads_in_the_readers_language(acme: Cast, django_capture_on_commit_callbacks: Capture) -> None:
    _speak(acme.admin, "es")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(requester=acme.customer, subject="Refund", assignee=acme.agent),
            created_by=acme.admin,
        )[0]
    assert f"#{ticket.number} was assigned to you" in _notifications_page(acme.agent)
    _speak(acme.agent, "ru")
    assert f"Вам назначено обращение #{ticket.number}" in _notifications_page(acme.agent)


def test_rows_stored_as_sentences_get_their_parameters_back(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        add_internal_note(ticket=acme.ticket, agent=acme.admin, body_text="@maria see above")
    # As rows were stored before: a Spanish sentence, no parameters, and an outbox event that is gone.
    Notification.objects.update(params={}, text=f"Adam Admin te mencionó en #{acme.ticket.number}", event_id=None)
    migration = importlib.import_module("deskloop.tickets.migrations.0009_agent_ui")
    migration.recover_params(apps, None)

    assert list(Notification.objects.values_list("params", flat=True)) == [
        {"number": acme.ticket.number, "author": "Adam Admin"}
    ]
    assert f"Adam Admin mentioned you on #{acme.ticket.number}" in _notifications_page(acme.agent)
