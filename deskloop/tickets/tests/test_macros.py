"""Macros: sandboxed placeholders, validated actions, applying them records MACRO_APPLIED."""

from __future__ import annotations

import pytest

from deskloop.conftest import Cast
from deskloop.core.errors import NotFound, PermissionDenied, ValidationFailed
from deskloop.tickets.models import EventKind, Macro, Status, TicketEvent
from deskloop.tickets.services.macros import (
    apply_macro,
    create_macro,
    delete_macro,
    macros_for_agent,
    render_macro_body,
    update_macro,
)


def _status(cast: Cast, category: str) -> Status:
    return Status.objects.get(workspace=cast.workspace, category=category)


def test_placeholders_render_as_plain_text(acme: Cast) -> None:
    macro = create_macro(
        agent=acme.admin,
        name="Greeting",
        body=(
            "Hi {{ requester.first_name }} ({{ requester.name }}) of {{ organization.name }},\n"
            "about #{{ ticket.number }} “{{ ticket.subject }}” — {{ agent.name }}"
        ),
    )
    acme.customer.name = "Carmen <b>Customer</b>"
    body = render_macro_body(macro=macro, ticket=acme.ticket, agent=acme.agent)
    assert body == (
        "Hi Carmen (Carmen <b>Customer</b>) of Globex of Acme,\n"
        f"about #{acme.ticket.number} “Invoice shows the wrong VAT number” — Maria Agent"
    )


def test_the_sandbox_exposes_nothing_but_the_placeholders(acme: Cast) -> None:
    macro = create_macro(
        agent=acme.admin,
        name="Probe",
        body="[{{ settings.SECRET_KEY }}][{{ ticket.requester.user }}][{{ agent.user.password }}][{{ request }}]",
    )
    assert render_macro_body(macro=macro, ticket=acme.ticket, agent=acme.agent) == "[][][][]"


@pytest.mark.parametrize(
    "body",
    [
        "{% debug %}",
        "{% load i18n %}",
        '{% include "base.html" %}',
        "{% url 'tickets:inbox' %}",
        "{{ ticket.number|nosuchfilter }}",
    ],
)
def test_dangerous_or_broken_templates_are_refused(acme: Cast, body: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        create_macro(agent=acme.admin, name="Bad", body=body)
    assert refused.value.field == "body"
    assert refused.value.message.startswith("The reply text has a placeholder error:")


def test_actions_must_reference_objects_of_the_same_workspace(acme: Cast, umbrella: Cast) -> None:
    foreign_status = _status(umbrella, "pending")
    with pytest.raises(ValidationFailed) as bad_status:
        create_macro(agent=acme.admin, name="X", actions={"status": foreign_status.pk})
    assert bad_status.value.message == "The status was not found."
    with pytest.raises(ValidationFailed) as bad_agent:
        create_macro(agent=acme.admin, name="X", actions={"assignee": umbrella.agent.pk})
    assert bad_agent.value.message == "The assignee was not found."
    with pytest.raises(ValidationFailed) as bad_key:
        create_macro(agent=acme.admin, name="X", actions={"delete": True})
    assert bad_key.value.message == "Unknown macro action “delete”."
    with pytest.raises(ValidationFailed) as bad_priority:
        create_macro(agent=acme.admin, name="X", actions={"priority": "asap"})
    assert bad_priority.value.message == "Unknown priority “asap”."
    assert Macro.objects.filter(workspace=acme.workspace).count() == 0


def test_shared_macros_are_for_admins_personal_ones_for_their_owner(acme: Cast) -> None:
    with pytest.raises(PermissionDenied):
        create_macro(agent=acme.agent, name="Team macro")
    with pytest.raises(PermissionDenied):
        create_macro(agent=acme.light_agent, name="Mine", shared=False)
    mine = create_macro(agent=acme.agent, name="Mine", body="x", shared=False)
    shared = create_macro(agent=acme.admin, name="Shared", body="y")
    assert list(macros_for_agent(acme.agent)) == [mine, shared]
    assert list(macros_for_agent(acme.other_team_agent)) == [shared]
    with pytest.raises(NotFound):
        update_macro(macro=mine, agent=acme.other_team_agent, name="Stolen")
    with pytest.raises(PermissionDenied):
        delete_macro(macro=shared, agent=acme.agent)
    update_macro(macro=mine, agent=acme.agent, name="Mine, renamed", body="z", actions={"priority": "high"})
    mine.refresh_from_db()
    assert (mine.name, mine.body, mine.actions) == ("Mine, renamed", "z", {"priority": "high"})
    delete_macro(macro=mine, agent=acme.agent)
    assert list(Macro.objects.filter(workspace=acme.workspace).values_list("name", flat=True)) == ["Shared"]


def test_applying_a_macro_changes_the_ticket_and_records_it(acme: Cast) -> None:
    pending = _status(acme, "pending")
    macro = create_macro(
        agent=acme.admin,
        name="Waiting on customer",
        body="Could you send us a screenshot?",
        actions={"status": pending.pk, "add_tags": ["needs-info"], "assignee": "me", "priority": "high"},
    )
    ticket = apply_macro(ticket=acme.ticket, macro=macro, agent=acme.agent)
    ticket.refresh_from_db()
    assert (ticket.status_id, ticket.assignee_id, ticket.priority) == (pending.pk, acme.agent.pk, "high")
    assert list(ticket.tags.values_list("name", flat=True)) == ["needs-info"]
    applied = TicketEvent.objects.get(ticket=ticket, kind=EventKind.MACRO_APPLIED)
    assert (applied.actor_agent_id, applied.new_value) == (acme.agent.pk, {"id": macro.pk, "name": macro.name})
    changed = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.FIELD_CHANGED).values_list("field", "via")
    assert sorted(changed) == [("assignee", "macro"), ("priority", "macro"), ("status", "macro")]


def test_removing_tags_and_light_agents_with_action_macros(acme: Cast) -> None:
    tidy = create_macro(agent=acme.admin, name="Tidy", actions={"remove_tags": "vip, urgent"})
    text_only = create_macro(agent=acme.admin, name="Thanks", body="Thanks!")
    with pytest.raises(PermissionDenied) as refused:
        apply_macro(ticket=acme.ticket, macro=tidy, agent=acme.light_agent)
    assert refused.value.message == "Your role cannot apply this macro: it changes the ticket."
    apply_macro(ticket=acme.ticket, macro=text_only, agent=acme.light_agent)
    assert TicketEvent.objects.filter(ticket=acme.ticket, kind=EventKind.MACRO_APPLIED).count() == 1
    assert tidy.actions == {"remove_tags": ["vip", "urgent"]}


def test_a_macro_of_another_workspace_cannot_be_applied(acme: Cast, umbrella: Cast) -> None:
    foreign = create_macro(agent=umbrella.admin, name="Foreign", body="x")
    with pytest.raises(NotFound):
        apply_macro(ticket=acme.ticket, macro=foreign, agent=acme.agent)
    with pytest.raises(NotFound):
        render_macro_body(macro=foreign, ticket=acme.ticket, agent=acme.agent)
