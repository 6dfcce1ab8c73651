"""Issue #9: an agent opens a ticket in the UI for a phone call or another conversation, for a customer found by
search or created inline; a refused ticket leaves nothing behind."""

from __future__ import annotations

from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.models import Contact
from deskloop.tickets.models import Channel, EventKind, Message, Ticket, TicketEvent


def test_the_inbox_offers_new_ticket_to_writers_only(acme: Cast) -> None:
    assert 'href="/tickets/new/"' in signed_in_client(acme.agent).get("/").content.decode()
    assert 'href="/tickets/new/"' not in signed_in_client(acme.viewer).get("/").content.decode()
    assert signed_in_client(acme.light_agent).get("/tickets/new/").status_code == 403


def test_searching_finds_existing_customers(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    html = client.get("/tickets/new/requesters/", {"find": "carmen"}, headers={"HX-Request": "true"}).content.decode()
    assert f'name="requester" value="{acme.customer.pk}"' in html
    assert "carmen@globex-acme.example" in html
    assert "<html" not in html  # htmx gets the list only
    assert "Carmen Customer" in client.get("/tickets/new/", {"find": "globex"}).content.decode()  # without JavaScript


def test_a_phone_call_from_a_new_caller_with_only_a_phone_number(acme: Cast) -> None:
    response = signed_in_client(acme.agent).post(
        "/tickets/new/",
        {
            "name": "Pavel Caller",
            "phone": "+34 600 111 222",
            "opening": "phone",
            "subject": "Cannot sign in",
            "body": "Called: the sign-in page says his account is locked.",
        },
    )
    ticket = Ticket.objects.get(subject="Cannot sign in")
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.number}/"
    assert ticket.channel == Channel.PHONE
    assert (ticket.requester.name, ticket.requester.phone) == ("Pavel Caller", "+34 600 111 222")
    first = Message.objects.get(ticket=ticket)
    assert first.author_contact_id == ticket.requester_id
    assert first.body_text == "Called: the sign-in page says his account is locked."
    created = TicketEvent.objects.get(ticket=ticket, kind=EventKind.CREATED)
    assert created.actor_agent_id == acme.agent.pk  # the history says who logged it


def test_another_conversation_for_an_existing_customer_records_channel_other(acme: Cast) -> None:
    response = signed_in_client(acme.agent).post(
        "/tickets/new/",
        {"requester": acme.customer.pk, "opening": "other", "subject": "Met at the fair", "body": "Wants a demo."},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Met at the fair")
    assert (ticket.requester_id, ticket.channel) == (acme.customer.pk, "other")


def test_a_refused_ticket_says_why_and_creates_nothing(acme: Cast, umbrella: Cast) -> None:
    client = signed_in_client(acme.agent)
    before = (Ticket.objects.count(), Contact.objects.count())

    no_message = client.post(
        "/tickets/new/", {"name": "Nadia New", "email": "nadia@example.com", "opening": "phone", "subject": "Hi"}
    )
    assert no_message.status_code == 400
    assert "Write the first message." in no_message.content.decode()
    assert 'value="nadia@example.com"' in no_message.content.decode()  # what was typed is kept

    nobody = client.post("/tickets/new/", {"opening": "phone", "subject": "Hi", "body": "Hello"})
    assert "Give the new customer&#x27;s name." in nobody.content.decode()
    no_contact_way = client.post("/tickets/new/", {"name": "Nadia", "opening": "phone", "subject": "Hi", "body": "x"})
    assert "email address or phone number" in no_contact_way.content.decode()
    foreign = client.post(
        "/tickets/new/", {"requester": umbrella.customer.pk, "opening": "phone", "subject": "Hi", "body": "x"}
    )
    assert foreign.status_code == 400
    assert "The requester was not found." in foreign.content.decode()
    no_address = client.post(
        "/tickets/new/",
        {"name": "Pavel", "phone": "+34 600", "opening": "email", "subject": "Hi", "body": "Hello Pavel"},
    )
    assert "no email address to write to" in no_address.content.decode()
    bad_email = client.post(
        "/tickets/new/", {"name": "Pavel", "email": "pavel@", "opening": "phone", "subject": "Hi", "body": "x"}
    )
    assert "is not a valid email address" in bad_email.content.decode()

    assert (Ticket.objects.count(), Contact.objects.count()) == before
