from __future__ import annotations

from typing import Any

import pytest

from deskloop.conftest import Cast
from deskloop.core.errors import PermissionDenied, PreconditionFailed, ValidationFailed
from deskloop.customers.services import find_or_create_contact
from deskloop.tickets.models import EventKind, MessageKind, StatusCategory, Ticket, TicketEvent
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.lifecycle import merge_tickets
from deskloop.tickets.services.messages import CustomerMessage, add_agent_reply, add_customer_message, add_internal_note
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket


def test_new_ticket_gets_next_number_organization_and_first_message(acme: Cast) -> None:
    second = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(requester=acme.customer, subject="  Export   to CSV fails ", body_text="It fails."),
    )[0]
    assert second.number == 2
    assert second.subject == "Export to CSV fails"
    assert second.organization_id == acme.organization.pk
    assert second.status.category == StatusCategory.NEW
    assert second.message_count == 1
    assert list(second.messages.values_list("body_text", "body_html")) == [("It fails.", "<p>It fails.</p>")]


def test_agent_reply_sets_first_response_and_opens(acme: Cast) -> None:
    message = add_agent_reply(ticket=acme.ticket, agent=acme.agent, body_text="Fixed, see the new invoice.")
    ticket = Ticket.objects.select_related("status").get(pk=acme.ticket.pk)
    assert ticket.first_response_at == message.created_at
    assert ticket.status.category == StatusCategory.OPEN
    assert ticket.message_count == 2
    assert list(ticket.followers.all()) == [acme.agent]


def test_light_agent_may_note_but_not_reply(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    with pytest.raises(PermissionDenied):
        add_agent_reply(ticket=acme.ticket, agent=acme.light_agent, body_text="hi")
    with django_capture_on_commit_callbacks(execute=True):  # in-app notifications are an outbox consumer
        note = add_internal_note(ticket=acme.ticket, agent=acme.light_agent, body_text="@maria can you check the VAT?")
    assert note.kind == MessageKind.NOTE
    assert [n.agent for n in acme.agent.notifications.all()] == [acme.agent]
    assert acme.agent in acme.ticket.followers.all()


def test_customer_reply_reopens_solved_ticket(acme: Cast) -> None:
    solved = default_status(acme.workspace.pk, StatusCategory.SOLVED)
    update_ticket(ticket=acme.ticket, changes=TicketChanges(status=solved), agent=acme.agent)
    assert Ticket.objects.get(pk=acme.ticket.pk).solved_at is not None
    add_customer_message(ticket=acme.ticket, contact=acme.customer, message=CustomerMessage(body_text="Still wrong!"))
    ticket = Ticket.objects.select_related("status").get(pk=acme.ticket.pk)
    assert (ticket.status.category, ticket.solved_at, ticket.reopen_count) == (StatusCategory.OPEN, None, 1)


def test_reopen_count_counts_reopens_not_replies_to_pending(acme: Cast) -> None:
    """The agent performance report's reopen rate: a solved ticket opened again counts, by an agent or by the
    customer's reply; a customer answering a pending question does not."""
    pending = default_status(acme.workspace.pk, StatusCategory.PENDING)
    solved = default_status(acme.workspace.pk, StatusCategory.SOLVED)
    opened = default_status(acme.workspace.pk, StatusCategory.OPEN)
    update_ticket(ticket=acme.ticket, changes=TicketChanges(status=pending), agent=acme.agent)
    add_customer_message(ticket=acme.ticket, contact=acme.customer, message=CustomerMessage(body_text="Here it is"))
    assert Ticket.objects.get(pk=acme.ticket.pk).reopen_count == 0
    update_ticket(ticket=acme.ticket, changes=TicketChanges(status=solved), agent=acme.agent)
    update_ticket(ticket=acme.ticket, changes=TicketChanges(status=opened), agent=acme.agent)
    add_agent_reply(ticket=acme.ticket, agent=acme.agent, body_text="Solved again", status=solved)
    add_customer_message(ticket=acme.ticket, contact=acme.customer, message=CustomerMessage(body_text="No, sorry"))
    assert Ticket.objects.get(pk=acme.ticket.pk).reopen_count == 2


def test_stale_version_is_refused_and_changes_nothing(acme: Cast) -> None:
    version = acme.ticket.version
    update_ticket(
        ticket=acme.ticket, changes=TicketChanges(priority="high"), agent=acme.agent, expected_version=version
    )
    with pytest.raises(PreconditionFailed):
        update_ticket(
            ticket=acme.ticket, changes=TicketChanges(subject="Other"), agent=acme.admin, expected_version=version
        )
    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    assert (ticket.subject, ticket.priority, ticket.version) == (
        "Invoice shows the wrong VAT number",
        "high",
        version + 1,
    )


def test_foreign_workspace_assignee_is_refused(acme: Cast, umbrella: Cast) -> None:
    with pytest.raises(ValidationFailed):
        update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=umbrella.agent), agent=acme.agent)
    assert Ticket.objects.get(pk=acme.ticket.pk).assignee_id is None


def test_none_clears_a_field_and_a_field_left_unset_stays(acme: Cast) -> None:
    update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=acme.agent, team=acme.billing), agent=acme.admin)
    update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=None, priority="high"), agent=acme.admin)
    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    assert (ticket.assignee_id, ticket.team_id, ticket.priority) == (None, acme.billing.pk, "high")
    changed = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.FIELD_CHANGED).order_by("id")
    assert [(e.field, e.old_value, e.new_value) for e in changed] == [
        ("assignee", None, acme.agent.pk),
        ("team", acme.support.pk, acme.billing.pk),
        ("priority", "normal", "high"),
        ("assignee", acme.agent.pk, None),
    ]


def test_merge_moves_messages_and_points_to_survivor(acme: Cast) -> None:
    other = find_or_create_contact(workspace=acme.workspace, email="dan@globex-acme.example", name="Dan")
    duplicate = open_ticket(
        workspace=acme.workspace, ticket=NewTicket(requester=other, subject="VAT again", body_text="Same issue")
    )[0]
    merge_tickets(source=duplicate, target=acme.ticket, agent=acme.agent)
    duplicate.refresh_from_db()
    survivor = Ticket.objects.get(pk=acme.ticket.pk)
    assert duplicate.merged_into_id == survivor.pk
    assert survivor.message_count == 2
    assert list(survivor.cc_contacts.all()) == [other]
    assert TicketEvent.objects.filter(ticket=survivor, kind=EventKind.MERGED).count() == 1


def test_copied_contacts_are_added_once_each_without_the_requester_or_another_workspace(
    acme: Cast, umbrella: Cast
) -> None:
    from deskloop.tickets.services.channel_writes import add_cc_contacts

    erin = find_or_create_contact(workspace=acme.workspace, email="erin@example.org", name="Erin")
    frank = find_or_create_contact(workspace=acme.workspace, email="frank@example.org", name="Frank")
    copied = [erin, acme.customer, frank, erin, umbrella.customer]  # the requester, a repeat, another workspace
    ticket, _first = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(requester=acme.customer, subject="Export", body_text="It fails."),
        via="email",
    )
    assert add_cc_contacts(ticket=ticket, contacts=copied, via="email") == [erin, frank]
    assert sorted(ticket.cc_contacts.values_list("name", flat=True)) == ["Erin", "Frank"]
    timeline = [
        (kind, field, "the message" if kind == EventKind.MESSAGE_ADDED else new)
        for kind, field, new in TicketEvent.objects.filter(ticket=ticket)
        .order_by("id")
        .values_list("kind", "field", "new_value")
    ]
    assert timeline == [
        (EventKind.CREATED, "", None),
        (EventKind.MESSAGE_ADDED, "", "the message"),
        (EventKind.FIELD_CHANGED, "cc", "Erin"),
        (EventKind.FIELD_CHANGED, "cc", "Frank"),
    ]
    assert Ticket.objects.get(pk=ticket.pk).status.name == default_status(acme.workspace.pk, StatusCategory.NEW).name
