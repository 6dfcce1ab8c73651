"""The request type as agents set it (the ticket sidebar) and as an import brings it: the labels the classifier
learns from. No model is needed here."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import EventKind, Ticket, TicketEvent


def _post(cast: Cast, role: str, **fields: str) -> int:
    """The sidebar's change as htmx sends it (a refusal answers its status with the form)."""
    ticket = Ticket.objects.get(pk=cast.ticket.pk)
    response = signed_in_client(cast.by_role(role)).post(
        f"/tickets/{ticket.number}/properties/",
        {"expected_version": ticket.version, **fields},
        headers={"hx-request": "true"},
    )
    return response.status_code


@pytest.mark.parametrize("role", ["owner", "admin", "agent"])
def test_writers_set_the_request_type_in_the_sidebar(acme: Cast, role: str) -> None:
    page = signed_in_client(acme.by_role(role)).get(f"/tickets/{acme.ticket.number}/").content.decode()
    assert '<select id="prop-request-type" name="request_type">' in page
    assert '<option value="feature_request">Feature request</option>' in page

    assert _post(acme, role, request_type="feature_request") in (200, 302)

    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    assert ticket.request_type == "feature_request"
    change = TicketEvent.objects.get(ticket=ticket, kind=EventKind.FIELD_CHANGED, field="request_type")
    assert (change.old_value, change.new_value) == ("", "feature_request")
    history = signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert '<option value="feature_request" selected>Feature request</option>' in history


def test_clearing_the_request_type(acme: Cast) -> None:
    Ticket.objects.filter(pk=acme.ticket.pk).update(request_type="bug")

    assert _post(acme, "agent", request_type="") in (200, 302)

    assert Ticket.objects.get(pk=acme.ticket.pk).request_type == ""


def test_an_unknown_request_type_is_refused_and_changes_nothing(acme: Cast) -> None:
    before = Ticket.objects.get(pk=acme.ticket.pk)

    assert _post(acme, "agent", request_type="complaint", priority="high") == 422

    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    response = signed_in_client(acme.agent).post(
        f"/tickets/{ticket.number}/properties/",
        {"expected_version": ticket.version, "request_type": "complaint"},
        headers={"hx-request": "true"},
    )
    assert "Unknown request type “complaint”." in response.content.decode()
    after = Ticket.objects.get(pk=acme.ticket.pk)
    assert (after.request_type, after.priority, after.version) == ("", before.priority, before.version)


def test_readers_see_the_request_type_but_cannot_change_it(acme: Cast) -> None:
    Ticket.objects.filter(pk=acme.ticket.pk).update(request_type="bug")

    page = signed_in_client(acme.viewer).get(f"/tickets/{acme.ticket.number}/").content.decode()

    assert "<dt>Request type</dt><dd>Bug</dd>" in page
    assert _post(acme, "viewer", request_type="question") == 403
    assert Ticket.objects.get(pk=acme.ticket.pk).request_type == "bug"


def test_import_brings_the_request_type_and_reports_an_unknown_one(acme: Cast, tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text(
        "external_id,subject,requester_email,request_type\n"
        "t-1,Export to CSV please,ana@example.com,Feature request\n"
        "t-2,The app crashes on save,ana@example.com,bug\n"
        "t-3,Something,ana@example.com,complaint\n"
    )
    out, errors = StringIO(), StringIO()

    call_command("import_tickets", str(path), "--workspace", acme.workspace.slug, stdout=out, stderr=errors)

    imported = dict(
        Ticket.objects.filter(workspace=acme.workspace, external_id__isnull=False).values_list(
            "external_id", "request_type"
        )
    )
    assert imported == {"t-1": "feature_request", "t-2": "bug"}
    assert "2 created, 0 skipped (already imported), 1 failed." in out.getvalue()
    assert "line 4 (t-3): Unknown request type “complaint”; use question, problem, bug or feature_request." in (
        errors.getvalue()
    )
