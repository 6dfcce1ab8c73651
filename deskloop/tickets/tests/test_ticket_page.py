"""The ticket page and what it posts to, told with the cast: who sees what, who may change what."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import CustomField, EventKind, Message, Status, Ticket, TicketEvent, TicketPresence
from deskloop.tickets.services.macros import create_macro
from deskloop.tickets.services.messages import CustomerMessage, add_agent_reply, add_customer_message, add_internal_note
from deskloop.tickets.services.presence import heartbeat
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket

HTMX = {"hx-request": "true"}


def _url(ticket: Ticket, suffix: str = "") -> str:
    return f"/tickets/{ticket.number}/{suffix}"


def _status(cast: Cast, category: str) -> Status:
    return Status.objects.get(workspace=cast.workspace, category=category)


def _form(cast: Cast, **overrides: Any) -> dict[str, Any]:
    """The sidebar form as the page renders it for the cast's ticket."""
    ticket = Ticket.objects.get(pk=cast.ticket.pk)
    values: dict[str, Any] = {
        "expected_version": ticket.version,
        "status": ticket.status_id,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id or "",
        "team": ticket.team_id or "",
        "product_area": ticket.product_area_id or "",
        "tags": "",
        "due_at": "",
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize("role", ["owner", "admin", "agent", "light_agent", "viewer"])
def test_every_role_reads_the_ticket(acme: Cast, role: str) -> None:
    response = signed_in_client(acme.by_role(role)).get(_url(acme.ticket))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Invoice shows the wrong VAT number" in html
    assert "Hello, our invoice for March shows our old VAT number. Can you fix it?" in html
    assert "Globex of Acme" in html


def test_another_workspaces_ticket_is_not_found(acme: Cast, umbrella: Cast) -> None:
    umbrella.ticket.subject = "Umbrella only"
    umbrella.ticket.save()
    only_in_umbrella = open_ticket(
        workspace=umbrella.workspace,
        ticket=NewTicket(requester=umbrella.customer, subject="Umbrella second", body_text="x"),
    )[0]
    client = signed_in_client(acme.agent)
    # Both workspaces have a ticket #1: the number resolves inside the caller's workspace only.
    html = client.get(_url(umbrella.ticket)).content.decode()
    assert ("Invoice shows the wrong VAT number" in html, "Umbrella only" in html) == (True, False)
    assert client.get(_url(only_in_umbrella)).status_code == 404


def test_composer_per_role(acme: Cast) -> None:
    def composer(role: str) -> tuple[bool, bool, bool]:
        html = signed_in_client(acme.by_role(role)).get(_url(acme.ticket)).content.decode()
        return ('id="composer-form"' in html, 'value="reply"' in html, 'value="note"' in html)

    assert composer("agent") == (True, True, True)
    assert composer("light_agent") == (True, False, True)
    assert composer("viewer") == (False, False, False)


def test_sidebar_is_read_only_for_viewers_and_light_agents(acme: Cast) -> None:
    for role in ("viewer", "light_agent"):
        html = signed_in_client(acme.by_role(role)).get(_url(acme.ticket)).content.decode()
        assert "data-properties-form" not in html
        assert "Merge into…" not in html
    assert "data-properties-form" in signed_in_client(acme.agent).get(_url(acme.ticket)).content.decode()


# --- properties -------------------------------------------------------------------------------------------------


def test_changing_the_status_updates_the_ticket_and_the_history(acme: Cast) -> None:
    open_status = _status(acme, "open")
    response = signed_in_client(acme.agent).post(
        _url(acme.ticket, "properties/"), _form(acme, status=open_status.pk, tags="vat, billing"), headers=HTMX
    )
    html = response.content.decode()
    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    assert response.status_code == 200
    assert ticket.status_id == open_status.pk
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "vat"]
    assert 'id="ticket-header" class="ticket-header" hx-swap-oob="true"' in html
    assert "Maria Agent</strong> changed Status from “New” to “Open”" in html
    assert f'name="expected_version" value="{ticket.version}"' in html


def test_a_stale_form_does_not_overwrite_someone_elses_change(acme: Cast) -> None:
    form = _form(acme, priority="urgent")
    update_ticket(ticket=acme.ticket, changes=TicketChanges(priority="low"), agent=acme.admin)
    response = signed_in_client(acme.agent).post(_url(acme.ticket, "properties/"), form, headers=HTMX)
    assert response.status_code == 412
    assert "This ticket was changed by someone else. Reload it and try again." in response.content.decode()
    assert Ticket.objects.get(pk=acme.ticket.pk).priority == "low"


def test_custom_fields_assignee_team_and_due_date(acme: Cast) -> None:
    CustomField.objects.create(workspace=acme.workspace, key="plan_code", label="Plan code", field_type="text")
    CustomField.objects.create(
        workspace=acme.workspace, key="os", label="OS", field_type="multi_choice", choices=["Linux", "macOS", "Windows"]
    )
    acme.agent.user.time_zone = "Europe/Madrid"
    acme.agent.user.save()
    response = signed_in_client(acme.agent).post(
        _url(acme.ticket, "properties/"),
        _form(
            acme,
            assignee=acme.admin.pk,
            team=acme.billing.pk,
            cf_plan_code="PRO-1",
            cf_os=["Windows", "Linux"],
            due_at="2026-12-01T17:30",
        ),
        headers=HTMX,
    )
    assert response.status_code == 200
    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    assert (ticket.assignee_id, ticket.team_id) == (acme.admin.pk, acme.billing.pk)
    assert ticket.custom_fields == {"plan_code": "PRO-1", "os": ["Linux", "Windows"]}
    assert ticket.due_at == dt.datetime(2026, 12, 1, 16, 30, tzinfo=dt.UTC)


def test_an_assignee_from_another_workspace_is_refused(acme: Cast, umbrella: Cast) -> None:
    response = signed_in_client(acme.agent).post(
        _url(acme.ticket, "properties/"), _form(acme, assignee=umbrella.agent.pk), headers=HTMX
    )
    assert response.status_code == 422
    assert "assignee was not found." in response.content.decode()
    assert Ticket.objects.get(pk=acme.ticket.pk).assignee_id is None


@pytest.mark.parametrize("role", ["viewer", "light_agent"])
def test_readers_cannot_change_properties(acme: Cast, role: str) -> None:
    response = signed_in_client(acme.by_role(role)).post(
        _url(acme.ticket, "properties/"), _form(acme, priority="urgent"), headers=HTMX
    )
    assert response.status_code == 403
    assert Ticket.objects.get(pk=acme.ticket.pk).priority == "normal"


def test_following_and_unfollowing(acme: Cast) -> None:
    client = signed_in_client(acme.light_agent)
    client.post(_url(acme.ticket, "follow/"), {"follow": "1"}, headers=HTMX)
    assert list(acme.ticket.followers.all()) == [acme.light_agent]
    client.post(_url(acme.ticket, "follow/"), {"follow": "0"}, headers=HTMX)
    assert list(acme.ticket.followers.all()) == []


# --- composer ----------------------------------------------------------------------------------------------------


def _compose(client: Client, cast: Cast, **fields: Any) -> Any:
    last = Message.objects.filter(ticket=cast.ticket).order_by("-id").values_list("id", flat=True).first()
    data = {"kind": "reply", "body": "", "last_message_id": last, **fields}
    return client.post(_url(cast.ticket, "messages/"), data, headers=HTMX)


def test_reply_and_set_pending(acme: Cast) -> None:
    pending = _status(acme, "pending")
    response = _compose(signed_in_client(acme.agent), acme, body="We fixed the VAT number.", status_after=pending.pk)
    html = response.content.decode()
    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    reply = Message.objects.filter(ticket=ticket).latest("id")
    assert response.status_code == 200
    assert (reply.kind, reply.author_agent_id, reply.body_text) == ("reply", acme.agent.pk, "We fixed the VAT number.")
    assert ticket.status_id == pending.pk
    assert f'id="message-{reply.pk}"' in html
    # The composer comes back empty and remembers the new last message.
    assert re.search(r'<textarea id="composer-body"[^>]*>\s*</textarea>', html)
    assert f'name="last_message_id" value="{reply.pk}"' in html


def test_light_agents_write_notes_but_not_replies(acme: Cast) -> None:
    client = signed_in_client(acme.light_agent)
    refused = _compose(client, acme, body="Hi customer")
    assert refused.status_code == 403
    assert "Your role cannot reply to customers. You can add an internal note." in refused.content.decode()
    noted = _compose(client, acme, kind="note", body="@maria can you check the VAT?")
    assert noted.status_code == 200
    assert list(Message.objects.filter(ticket=acme.ticket).values_list("kind", flat=True)) == ["reply", "note"]
    assert list(acme.ticket.followers.all()) == [acme.agent]


def test_viewers_cannot_post_anything(acme: Cast) -> None:
    response = _compose(signed_in_client(acme.viewer), acme, kind="note", body="hello")
    assert response.status_code == 403
    assert Message.objects.filter(ticket=acme.ticket).count() == 1


def test_an_empty_message_is_refused(acme: Cast) -> None:
    response = _compose(signed_in_client(acme.agent), acme, body="   ")
    assert response.status_code == 422
    assert "The message is empty." in response.content.decode()


def test_collision_warning_before_sending(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    loaded = Message.objects.filter(ticket=acme.ticket).latest("id").pk
    add_agent_reply(ticket=acme.ticket, agent=acme.admin, body_text="Adam already answered this.")
    warned = client.post(
        _url(acme.ticket, "messages/"), {"kind": "reply", "body": "Me too", "last_message_id": loaded}, headers=HTMX
    )
    html = warned.content.decode()
    assert warned.status_code == 409
    assert "Someone else wrote on this ticket since you opened it." in html
    assert "Adam Admin" in html
    assert "Adam already answered this." in html
    assert Message.objects.filter(ticket=acme.ticket).count() == 2
    sent = client.post(
        _url(acme.ticket, "messages/"),
        {"kind": "reply", "body": "Me too", "last_message_id": loaded, "confirm_collision": "1"},
        headers=HTMX,
    )
    assert sent.status_code == 200
    assert Message.objects.filter(ticket=acme.ticket).count() == 3


def test_sending_with_a_macro_applies_its_actions(acme: Cast) -> None:
    solved = _status(acme, "solved")
    macro = create_macro(
        agent=acme.admin, name="Solved", body="Glad to help, {{ requester.first_name }}!", actions={"status": solved.pk}
    )
    client = signed_in_client(acme.agent)
    rendered = client.get(_url(acme.ticket, f"macros/{macro.pk}/"))
    assert rendered.json() == {"id": macro.pk, "name": "Solved", "body": "Glad to help, Carmen!", "has_actions": True}
    _compose(client, acme, body=rendered.json()["body"], macro_id=macro.pk)
    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    assert ticket.status_id == solved.pk
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.MACRO_APPLIED).count() == 1


def test_another_workspaces_macro_is_not_found(acme: Cast, umbrella: Cast) -> None:
    foreign = create_macro(agent=umbrella.admin, name="Foreign", body="x")
    client = signed_in_client(acme.agent)
    assert client.get(_url(acme.ticket, f"macros/{foreign.pk}/")).status_code == 404
    response = _compose(client, acme, body="hi", macro_id=foreign.pk)
    assert response.status_code == 404
    assert Message.objects.filter(ticket=acme.ticket).count() == 1


def test_without_htmx_the_forms_redirect_back(acme: Cast) -> None:
    response = signed_in_client(acme.agent).post(
        _url(acme.ticket, "messages/"), {"kind": "note", "body": "plain form", "last_message_id": 999999}
    )
    assert (response.status_code, response["Location"]) == (302, _url(acme.ticket))


# --- presence ----------------------------------------------------------------------------------------------------


def test_presence_shows_who_else_is_viewing_or_replying(acme: Cast) -> None:
    heartbeat(ticket=acme.ticket, agent=acme.admin, is_replying=True)
    heartbeat(ticket=acme.ticket, agent=acme.other_team_agent, is_replying=False)
    response = signed_in_client(acme.agent).post(
        _url(acme.ticket, "presence/"), {"version": acme.ticket.version, "replying": "0"}, headers=HTMX
    )
    html = response.content.decode()
    assert "Adam Admin is replying" in html
    assert "Boris Billing is viewing" in html
    assert "This ticket changed since you opened it." not in html
    assert TicketPresence.objects.filter(ticket=acme.ticket, agent=acme.agent, is_replying=False).count() == 1


def test_presence_says_when_the_ticket_changed_under_the_agent(acme: Cast) -> None:
    seen = acme.ticket.version
    add_internal_note(ticket=acme.ticket, agent=acme.admin, body_text="new info")
    html = (
        signed_in_client(acme.agent)
        .post(_url(acme.ticket, "presence/"), {"version": seen, "replying": "1"}, headers=HTMX)
        .content.decode()
    )
    assert "This ticket changed since you opened it." in html
    assert f'name="version" value="{seen}"' in html


def test_leaving_the_page_removes_presence(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    client.post(_url(acme.ticket, "presence/"), {"version": 1}, headers=HTMX)
    assert client.post(_url(acme.ticket, "presence/"), {"leave": "1"}).status_code == 204
    assert TicketPresence.objects.filter(ticket=acme.ticket).count() == 0


# --- reading: history wording, time zone, query count ----------------------------------------------------------------


def test_history_and_times_are_in_the_agents_time_zone(acme: Cast) -> None:
    acme.agent.user.time_zone = "Asia/Tokyo"
    acme.agent.user.save()
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        add_customer_message(
            ticket=acme.ticket, contact=acme.customer, message=CustomerMessage(body_text="Still wrong")
        )
        update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=acme.admin), agent=acme.owner)
    html = signed_in_client(acme.agent).get(_url(acme.ticket)).content.decode()
    assert '<time datetime="2026-03-01T21:00:00+09:00" title="March 1, 2026, 9 p.m.">' in html
    assert "<strong>Olivia Owner</strong> changed Assignee from “none” to “Adam Admin”" in html
    assert "<strong>Carmen Customer</strong> created the ticket" in html


def _add_messages(cast: Cast, count: int) -> None:
    for i in range(count):
        if i % 3 == 0:
            add_customer_message(
                ticket=cast.ticket, contact=cast.customer, message=CustomerMessage(body_text=f"customer {i}")
            )
        elif i % 3 == 1:
            add_agent_reply(ticket=cast.ticket, agent=cast.agent, body_text=f"reply {i}")
        else:
            add_internal_note(ticket=cast.ticket, agent=cast.admin, body_text=f"note {i}")


# 21: the knowledge panel asks once whether a request session led to the ticket (knowledge/ticket_panel.py).
# 24: the ideas panel reads the ideas linked to the ticket and, for writers, the conversation's other customers
# (ideas/ticket_panel.py); the classification panel asks once for the ticket's pending suggestion
# (classification/ticket_panel.py).
# 25: the quality panel reads the scorecard and whether the agent is named a reviewer, in one query
# (quality/ticket_panel.py; with a scorecard, one more for the reviews of the conversation).
# 26: the SLA panel reads the ticket's clocks (service_levels/panel.py).
PAGE_QUERIES = 26


@pytest.mark.parametrize("messages", [3, 10])
def test_the_ticket_page_runs_a_fixed_number_of_queries(
    acme: Cast, messages: int, django_assert_num_queries: Any
) -> None:
    _add_messages(acme, messages - 1)  # plus the first message of the cast's ticket
    heartbeat(ticket=acme.ticket, agent=acme.admin, is_replying=False)
    create_macro(agent=acme.admin, name="Thanks", body="Thanks")
    client = signed_in_client(acme.agent)
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(_url(acme.ticket))
    assert response.content.decode().count("data-message ") == messages
