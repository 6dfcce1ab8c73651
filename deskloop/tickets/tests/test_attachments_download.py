"""Attachments are served as downloads only: never rendered inline, never sniffed, active types neutralised."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings
from django.utils import timezone

from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.attachments import IncomingFile, purge_orphan_blobs
from deskloop.tickets.models import Attachment, Blob, Message, Ticket
from deskloop.tickets.services.messages import CustomerMessage, add_customer_message, add_internal_note
from deskloop.tickets.services.tickets import NewTicket, open_ticket
from deskloop.tickets.views.ticket_attachments import content_disposition, download_content_type


@pytest.mark.parametrize(
    ("stored", "served"),
    [
        ("image/png", "image/png"),
        ("application/pdf", "application/pdf"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("text/html", "application/octet-stream"),
        ("TEXT/HTML", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("text/xml", "application/octet-stream"),
        ("application/xml", "application/octet-stream"),
        ("application/atom+xml", "application/octet-stream"),
        ("text/javascript", "application/octet-stream"),
        ("application/x-shockwave-flash", "application/octet-stream"),
        ("", "application/octet-stream"),
        ("text/plain\r\nX-Injected: 1", "application/octet-stream"),
    ],
)
def test_download_content_type(stored: str, served: str) -> None:
    assert download_content_type(stored) == served


def test_content_disposition_has_an_ascii_fallback_and_the_rfc5987_name() -> None:
    assert content_disposition("Счёт март.pdf") == (
        "attachment; filename=\"____ ____.pdf\"; filename*=UTF-8''%D0%A1%D1%87%D1%91%D1%82%20%D0%BC%D0%B0%D1%80%D1%82.pdf"
    )
    assert content_disposition('report "final".csv') == (
        "attachment; filename=\"report _final_.csv\"; filename*=UTF-8''report%20%22final%22.csv"
    )


def _attach(cast: Cast, filename: str, content: bytes, content_type: str) -> Attachment:
    message = add_customer_message(
        ticket=cast.ticket,
        contact=cast.customer,
        message=CustomerMessage(
            body_text="see attached",
            attachments=[IncomingFile(filename=filename, content=content, content_type=content_type)],
        ),
    )
    return Attachment.objects.get(message=message)


def test_an_uploaded_html_file_downloads_as_inert_bytes(acme: Cast) -> None:
    attachment = _attach(acme, "invoice.html", b"<script>alert(1)</script>", "text/html")
    response = signed_in_client(acme.viewer).get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response.getvalue() == b"<script>alert(1)</script>"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == "attachment; filename=\"invoice.html\"; filename*=UTF-8''invoice.html"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Length"] == "25"


def test_an_image_keeps_its_type_but_is_still_a_download(acme: Cast) -> None:
    attachment = _attach(acme, "screenshot.png", b"\x89PNG\r\n\x1a\nfake", "image/png")
    response = signed_in_client(acme.agent).get(f"/attachments/{attachment.pk}/")
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment; ")


def test_another_workspaces_attachment_is_not_found(acme: Cast, umbrella: Cast) -> None:
    foreign = _attach(umbrella, "secret.txt", b"umbrella secret", "text/plain")
    assert signed_in_client(acme.owner).get(f"/attachments/{foreign.pk}/").status_code == 404


def test_attachments_of_a_trashed_ticket_are_only_for_writers(acme: Cast) -> None:
    attachment = _attach(acme, "notes.txt", b"hello", "text/plain")
    acme.ticket.refresh_from_db()
    from deskloop.tickets.services.lifecycle import soft_delete_ticket

    soft_delete_ticket(ticket=acme.ticket, agent=acme.agent)
    assert signed_in_client(acme.viewer).get(f"/attachments/{attachment.pk}/").status_code == 404
    assert signed_in_client(acme.agent).get(f"/attachments/{attachment.pk}/").status_code == 200


def test_same_bytes_are_stored_once(acme: Cast) -> None:
    first = _attach(acme, "a.txt", b"same bytes", "text/plain")
    note = add_internal_note(
        ticket=acme.ticket,
        agent=acme.agent,
        body_text="copy",
        attachments=[IncomingFile(filename="b.txt", content=b"same bytes", content_type="text/plain")],
    )
    second = Attachment.objects.get(message=note)
    assert (first.blob_id, second.filename) == (second.blob_id, "b.txt")
    assert Message.objects.filter(ticket=acme.ticket).count() == 3


@override_settings(DESKLOOP_ATTACHMENT_MAX_BYTES=1000)
def test_uploading_an_oversized_file_through_the_composer_gives_a_clear_error(acme: Cast) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = signed_in_client(acme.agent).post(
        f"/tickets/{acme.ticket.number}/messages/",
        {
            "kind": "reply",
            "body": "Here is the log",
            "last_message_id": "999999",
            "attachments": [SimpleUploadedFile("server.log", b"x" * 1500, content_type="text/plain")],
        },
        headers={"hx-request": "true"},
    )
    assert response.status_code == 422
    assert "“server.log” is 1.5\xa0KB; the limit is 1000\xa0bytes." in response.content.decode()
    assert Message.objects.filter(ticket=acme.ticket).count() == 1


def _second_ticket(cast: Cast) -> Ticket:
    return open_ticket(
        workspace=cast.workspace,
        ticket=NewTicket(requester=cast.customer, subject="Export fails", body_text="The export fails."),
    )[0]


def test_blobs_of_purged_tickets_are_deleted_and_shared_ones_kept(acme: Cast) -> None:
    kept = add_customer_message(
        ticket=acme.ticket,
        contact=acme.customer,
        message=CustomerMessage(
            body_text="log attached", attachments=[IncomingFile("shared.log", b"same bytes", "text/plain")]
        ),
    )
    doomed_ticket = _second_ticket(acme)
    add_customer_message(
        ticket=doomed_ticket,
        contact=acme.customer,
        message=CustomerMessage(
            body_text="two files",
            attachments=[
                IncomingFile("shared-again.log", b"same bytes", "text/plain"),
                # Unique bytes: MEDIA_ROOT is shared by parallel test workers and blobs are content-addressed.
                IncomingFile("only-here.csv", f"a,b\n{uuid.uuid4()},2\n".encode(), "text/csv"),
            ],
        ),
    )
    shared_blob = Attachment.objects.get(message=kept).blob
    only_here = Attachment.objects.get(filename="only-here.csv").blob
    doomed_ticket.delete()

    assert purge_orphan_blobs() == 0  # within the grace period nothing goes
    assert purge_orphan_blobs(now=timezone.now() + dt.timedelta(days=2)) == 1

    assert list(
        Blob.objects.filter(sha256__in=[shared_blob.sha256, only_here.sha256]).values_list("sha256", flat=True)
    ) == [shared_blob.sha256]
    assert default_storage.exists(shared_blob.storage_name)
    assert not default_storage.exists(only_here.storage_name)
