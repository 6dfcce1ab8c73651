"""A signed-in customer opens a request in the portal: one transaction stores the ticket, its first message and
files, and closes the request session as submitted; bad input gets a clear error and stores nothing; robots that
fill the honeypot are told the same "thanks" and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from deskloop.accounts.models import Workspace
from deskloop.channels.portal.services import submit_customer_request
from deskloop.channels.portal.tests.helpers import signed_in
from deskloop.conftest import Cast
from deskloop.core.errors import ValidationFailed
from deskloop.core.models import OutboxEvent
from deskloop.knowledge.models import RequestEventKind, RequestOutcome, RequestSession
from deskloop.tickets.models import Attachment, CustomField, Message, Ticket
from deskloop.tickets.services.configuration import create_custom_field


@pytest.fixture
def carmen(acme: Cast, django_capture_on_commit_callbacks: Any) -> Client:
    return signed_in(Client(), acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)


@pytest.fixture
def fields(acme: Cast) -> dict[str, CustomField]:
    return {
        "plan": create_custom_field(
            actor=acme.admin, label="Plan", field_type="choice", choices=["Free", "Pro"], visible_to_customers=True
        ),
        "risk": create_custom_field(actor=acme.admin, label="Churn risk", field_type="text"),
    }


def _form_session(client: Client, workspace: Workspace) -> str:
    page = client.get(f"/portal/{workspace.slug}/new/")
    assert page.status_code == 200
    return str(RequestSession.objects.latest("pk").key)


def test_a_customer_submits_a_request_with_a_field_and_a_file(
    acme: Cast, carmen: Client, fields: dict[str, CustomField]
) -> None:
    page = carmen.get("/portal/acme/new/")
    html = page.content.decode()
    assert 'name="cf_plan"' in html
    assert "cf_churn_risk" not in html
    session = RequestSession.objects.get(contact=acme.customer)
    assert session.channel == "portal"
    assert f'value="{session.key}"' in html
    before = Ticket.objects.count()
    response = carmen.post(
        "/portal/acme/new/",
        {
            "subject": "Export to CSV fails",
            "body": "The export button shows an error.",
            "cf_plan": "Pro",
            "session": str(session.key),
            "website": "",
            "attachments": [SimpleUploadedFile("error.txt", b"stack trace", content_type="text/plain")],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/portal/acme/new/received/"
    assert Ticket.objects.count() == before + 1
    ticket = Ticket.objects.latest("pk")
    assert (ticket.subject, ticket.channel, ticket.requester_id) == ("Export to CSV fails", "web", acme.customer.pk)
    assert ticket.custom_fields == {"plan": "Pro"}
    assert Message.objects.get(ticket=ticket).body_text == "The export button shows an error."
    assert list(Attachment.objects.filter(message__ticket=ticket).values_list("filename", flat=True)) == ["error.txt"]
    session.refresh_from_db()
    assert (session.outcome, session.ticket_id) == (RequestOutcome.SUBMITTED, ticket.pk)
    assert list(session.events.values_list("kind", flat=True)) == [RequestEventKind.SUBMITTED]
    assert OutboxEvent.objects.filter(name="ticket.created", payload__number=ticket.number).count() == 1
    # And the customer sees it among their requests.
    assert "Export to CSV fails" in carmen.get("/portal/acme/").content.decode()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"subject": ""}, "This field is required."),
        ({"body": "   "}, "This field is required."),
        ({"body": "x" * 20_001}, "The description can be at most 20000 characters."),
        ({"cf_plan": "Enterprise"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    acme: Cast, carmen: Client, fields: dict[str, CustomField], change: dict[str, str], error: str
) -> None:
    key = _form_session(carmen, acme.workspace)
    before = (Ticket.objects.count(), Message.objects.count())
    data = {"subject": "Help", "body": "Please help", "session": key, **change}
    response = carmen.post("/portal/acme/new/", data)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert (Ticket.objects.count(), Message.objects.count()) == before
    assert RequestSession.objects.get(key=key).outcome == RequestOutcome.OPEN


def test_a_field_hidden_from_customers_cannot_be_set(acme: Cast, fields: dict[str, CustomField]) -> None:
    before = Ticket.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        submit_customer_request(
            workspace=acme.workspace,
            contact=acme.customer,
            subject="Help",
            body="Please",
            custom_fields={"churn_risk": "high"},
            attachments=[],
            channel="web",
        )
    assert refused.value.message == "Unknown custom field “churn_risk”."
    assert Ticket.objects.count() == before


def test_a_contact_or_session_of_another_workspace_is_refused(acme: Cast, umbrella: Cast) -> None:
    from deskloop.knowledge.services.request_sessions import start_request_session

    foreign_session = start_request_session(workspace=umbrella.workspace, channel="portal", locale="en")
    before = Ticket.objects.count()
    for contact, session in ((umbrella.customer, None), (acme.customer, foreign_session)):
        with pytest.raises(ValidationFailed):
            submit_customer_request(
                workspace=acme.workspace,
                contact=contact,
                subject="Help",
                body="Please",
                custom_fields={},
                attachments=[],
                channel="web",
                request_session=session,
            )
    assert Ticket.objects.count() == before


@override_settings(DESKLOOP_PORTAL_MAX_ATTACHMENTS=2, DESKLOOP_ATTACHMENT_MAX_BYTES=100)
def test_too_many_or_too_large_files_are_refused(acme: Cast, carmen: Client) -> None:
    before = (Ticket.objects.count(), Attachment.objects.count())
    three = [SimpleUploadedFile(f"f{i}.txt", b"x") for i in range(3)]
    response = carmen.post("/portal/acme/new/", {"subject": "Help", "body": "Please", "attachments": three})
    assert response.status_code == 422
    assert "At most 2 files can be attached to one message." in response.content.decode()
    large = [SimpleUploadedFile("big.log", b"x" * 101)]
    response = carmen.post("/portal/acme/new/", {"subject": "Help", "body": "Please", "attachments": large})
    assert response.status_code == 422
    assert "“big.log” is 101\xa0bytes; the limit is 100\xa0bytes." in response.content.decode()
    assert (Ticket.objects.count(), Attachment.objects.count()) == before


def test_a_filled_honeypot_stores_nothing_and_looks_the_same(
    acme: Cast, carmen: Client, caplog: pytest.LogCaptureFixture
) -> None:
    before = Ticket.objects.count()
    person = carmen.post("/portal/acme/new/", {"subject": "Real", "body": "A real request", "website": ""})
    robot = carmen.post(
        "/portal/acme/new/", {"subject": "Buy", "body": "Cheap pills", "website": "http://spam.example"}
    )
    assert person.status_code == robot.status_code == 302
    assert person["Location"] == robot["Location"] == "/portal/acme/new/received/"
    assert Ticket.objects.count() == before + 1
    assert not Ticket.objects.filter(subject="Buy").exists()
    assert "refused by the honeypot" in caplog.text


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={"submit": (2, 100)})
def test_submitting_too_often_is_429(acme: Cast, carmen: Client) -> None:
    answers = [
        carmen.post("/portal/acme/new/", {"subject": f"Help {i}", "body": "Please"}).status_code for i in range(3)
    ]
    assert answers == [302, 302, 429]
    assert Ticket.objects.filter(subject__startswith="Help ").count() == 2


def test_the_request_form_has_csrf_protection(acme: Cast, carmen: Client) -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies = carmen.cookies  # the same signed-in customer, on a page of another site that posts here
    response = client.post("/portal/acme/new/", {"subject": "Help", "body": "Please"})
    assert response.status_code == 403
    assert not Ticket.objects.filter(subject="Help").exists()


def test_an_admin_chooses_which_fields_customers_are_asked(acme: Cast, carmen: Client) -> None:
    from deskloop.conftest import api_client, api_send, signed_in_client

    field = create_custom_field(actor=acme.admin, label="Order number", field_type="text")
    assert "cf_order_number" not in carmen.get("/portal/acme/new/").content.decode()
    page = signed_in_client(acme.admin).post(
        f"/settings/fields/{field.pk}/", {"label": "Order number", "visible_to_customers": "on"}
    )
    assert page.status_code == 302
    assert 'name="cf_order_number"' in carmen.get("/portal/acme/new/").content.decode()
    response = api_send(
        api_client(acme.admin), "patch", f"/api/v1/custom-fields/{field.pk}", {"visible_to_customers": False}
    )
    assert response.json()["visible_to_customers"] is False
    assert "cf_order_number" not in carmen.get("/portal/acme/new/").content.decode()
