"""A signed-in customer follows their requests in the portal: reads the public conversation (never an internal
note), replies with a file, marks a request solved; an organization's contacts see each other's requests only when
an agent turned sharing on (on the organization page or through the API)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from deskloop.channels.portal.tests.helpers import signed_in
from deskloop.conftest import Cast, api_client, api_send, signed_in_client
from deskloop.core.models import OutboxEvent
from deskloop.customers.models import Organization
from deskloop.customers.services import find_or_create_contact
from deskloop.tickets.attachments import IncomingFile
from deskloop.tickets.models import Message, StatusCategory, Ticket
from deskloop.tickets.services.messages import add_agent_reply, add_internal_note


@pytest.fixture
def carmen(acme: Cast, django_capture_on_commit_callbacks: Any) -> Client:
    return signed_in(Client(), acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)


def test_the_customer_reads_replies_and_their_files_but_never_internal_notes(acme: Cast, carmen: Client) -> None:
    add_agent_reply(
        ticket=acme.ticket,
        agent=acme.agent,
        body_text="We corrected the VAT number; the new invoice is attached.",
        attachments=[IncomingFile(filename="invoice-march.pdf", content=b"%PDF-1.4", content_type="application/pdf")],
    )
    add_internal_note(
        ticket=acme.ticket,
        agent=acme.agent,
        body_text="Finance says this customer is late on payments",
        attachments=[IncomingFile(filename="collections.xlsx", content=b"secret")],
    )
    page = carmen.get(f"/portal/acme/tickets/{acme.ticket.number}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "We corrected the VAT number" in html
    assert "invoice-march.pdf" in html
    assert "late on payments" not in html
    assert "collections.xlsx" not in html
    invoice = Message.objects.get(body_text__startswith="We corrected").attachments.get()
    download = carmen.get(f"/portal/acme/files/{invoice.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4"
    assert download["Content-Disposition"].startswith("attachment;")
    note_file = Message.objects.get(body_text__startswith="Finance").attachments.get()
    assert carmen.get(f"/portal/acme/files/{note_file.pk}/").status_code == 404


def test_the_customer_replies_with_a_file_and_the_ticket_reopens(acme: Cast, carmen: Client) -> None:
    carmen.post(f"/portal/acme/tickets/{acme.ticket.number}/solve/")
    response = carmen.post(
        f"/portal/acme/tickets/{acme.ticket.number}/reply/",
        {"body": "Still wrong on the April invoice.", "attachments": [SimpleUploadedFile("april.png", b"\x89PNG")]},
    )
    assert response.status_code == 302
    reply = Message.objects.filter(ticket=acme.ticket).latest("pk")
    assert (reply.body_text, reply.author_contact_id, reply.channel) == (
        "Still wrong on the April invoice.",
        acme.customer.pk,
        "web",
    )
    assert list(reply.attachments.values_list("filename", flat=True)) == ["april.png"]
    ticket = Ticket.objects.select_related("status").get(pk=acme.ticket.pk)
    assert ticket.status.category == StatusCategory.OPEN
    assert OutboxEvent.objects.filter(name="message.created", payload__id=reply.pk).count() == 1


def test_an_empty_reply_is_refused_and_nothing_is_stored(acme: Cast, carmen: Client) -> None:
    before = Message.objects.count()
    response = carmen.post(f"/portal/acme/tickets/{acme.ticket.number}/reply/", {"body": "  "})
    assert response.status_code == 422
    assert "The message is empty." in response.content.decode()
    assert Message.objects.count() == before


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={"submit": (1, 100)})
def test_replying_too_often_is_429(acme: Cast, carmen: Client) -> None:
    url = f"/portal/acme/tickets/{acme.ticket.number}/reply/"
    assert [carmen.post(url, {"body": f"more {i}"}).status_code for i in range(2)] == [302, 429]


def test_the_customer_marks_the_request_solved(acme: Cast, carmen: Client) -> None:
    page = carmen.get(f"/portal/acme/tickets/{acme.ticket.number}/").content.decode()
    assert "Mark as solved" in page
    response = carmen.post(f"/portal/acme/tickets/{acme.ticket.number}/solve/")
    assert response.status_code == 302
    ticket = Ticket.objects.select_related("status").get(pk=acme.ticket.pk)
    assert ticket.status.category == StatusCategory.SOLVED
    assert ticket.solved_at is not None
    assert "Mark as solved" not in carmen.get(f"/portal/acme/tickets/{acme.ticket.number}/").content.decode()
    assert ticket.events.filter(field="status", via="portal").count() == 1


def test_colleagues_see_each_others_requests_only_when_the_organization_shares(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    find_or_create_contact(workspace=acme.workspace, email="gus@globex-acme.example", name="Gus")
    gus = signed_in(Client(), acme.workspace, "gus@globex-acme.example", django_capture_on_commit_callbacks)
    url = f"/portal/acme/tickets/{acme.ticket.number}/"
    assert "Invoice shows the wrong VAT number" not in gus.get("/portal/acme/").content.decode()
    assert gus.get(url).status_code == 404
    # An agent turns sharing on, on the organization page.
    page = signed_in_client(acme.agent).post(
        f"/organizations/{acme.organization.pk}/",
        {"name": acme.organization.name, "lifecycle_stage": "customer", "portal_shares_tickets": "on"},
    )
    assert page.status_code == 302
    home = gus.get("/portal/acme/").content.decode()
    assert "Invoice shows the wrong VAT number" in home
    assert "from Carmen Customer" in home
    assert gus.get(url).status_code == 200
    # And off again through the API.
    response = api_send(
        api_client(acme.agent),
        "patch",
        f"/api/v1/organizations/{acme.organization.pk}",
        {"portal_shares_tickets": False},
    )
    assert response.status_code == 200
    assert response.json()["portal_shares_tickets"] is False
    assert Organization.objects.get(pk=acme.organization.pk).portal_shares_tickets is False
    assert gus.get(url).status_code == 404


def test_a_viewer_cannot_turn_sharing_on_through_the_api(acme: Cast) -> None:
    response = api_send(
        api_client(acme.viewer),
        "patch",
        f"/api/v1/organizations/{acme.organization.pk}",
        {"portal_shares_tickets": True},
    )
    assert response.status_code == 403
    assert Organization.objects.get(pk=acme.organization.pk).portal_shares_tickets is False


def test_the_requests_page_costs_the_same_queries_for_few_or_many_requests(
    acme: Cast, carmen: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from deskloop.tickets.services.tickets import NewTicket, open_ticket

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert carmen.get("/portal/acme/").status_code == 200
        return len(queries)

    Organization.objects.filter(pk=acme.organization.pk).update(portal_shares_tickets=True)
    few = count()
    for i in range(4):
        # Without a name: the page shows their address, read with the requests, not per request.
        colleague = find_or_create_contact(workspace=acme.workspace, email=f"c{i}@globex-acme.example")
        open_ticket(workspace=acme.workspace, ticket=NewTicket(requester=colleague, subject=f"Q{i}", body_text="?"))
    assert count() == few
