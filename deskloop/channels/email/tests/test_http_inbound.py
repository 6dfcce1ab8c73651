"""The raw-MIME HTTP endpoint mail services post to: the per-mailbox secret decides the tenant."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from deskloop.channels.email.models import InboundEmail, Mailbox
from deskloop.channels.email.services import MailboxSettings, create_mailbox, regenerate_inbound_secret
from deskloop.conftest import Cast
from deskloop.tickets.models import Ticket

from .corpus import BASIC, real


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))


def post(mailbox: Mailbox, body: bytes, secret: str) -> tuple[int, dict[str, object]]:
    response = Client().post(
        f"/inbound/email/{mailbox.pk}/",
        data=body,
        content_type="message/rfc822",
        headers={"authorization": f"Bearer {secret}"},
    )
    return response.status_code, response.json()


def test_a_post_with_the_secret_is_stored_and_processed(acme: Cast, mailbox: Mailbox) -> None:
    secret = regenerate_inbound_secret(actor=acme.admin, mailbox=mailbox)
    status, body = post(mailbox, real(BASIC), secret)
    ticket = Ticket.objects.get(workspace=acme.workspace, subject="Testing 123")
    assert (status, body) == (
        202,
        {"id": InboundEmail.objects.get().pk, "state": "processed", "ticket_number": ticket.number, "duplicate": False},
    )
    assert InboundEmail.objects.get().received_via == "http"


def test_a_mailgun_style_multipart_post_is_accepted(acme: Cast, mailbox: Mailbox) -> None:
    secret = regenerate_inbound_secret(actor=acme.admin, mailbox=mailbox)
    response = Client().post(
        f"/inbound/email/{mailbox.pk}/",
        data={"body-mime": real(BASIC).decode(), "recipient": "support@acme.example"},
        headers={"authorization": f"Bearer {secret}"},
    )
    as_file = Client().post(
        f"/inbound/email/{mailbox.pk}/",
        data={"message": SimpleUploadedFile("m.eml", real(BASIC, Message_Id="<other@x>"), "message/rfc822")},
        headers={"authorization": f"Bearer {secret}"},
    )
    assert (response.status_code, response.json()["state"]) == (202, "processed")
    assert (as_file.status_code, as_file.json()["state"]) == (202, "processed")
    assert InboundEmail.objects.count() == 2


def test_a_wrong_missing_or_old_secret_is_401_and_stores_nothing(acme: Cast, umbrella: Cast, mailbox: Mailbox) -> None:
    old = regenerate_inbound_secret(actor=acme.admin, mailbox=mailbox)
    current = regenerate_inbound_secret(actor=acme.admin, mailbox=mailbox)
    other = create_mailbox(actor=umbrella.admin, values=MailboxSettings(address="support@umbrella.example"))
    other_secret = regenerate_inbound_secret(actor=umbrella.admin, mailbox=other)
    statuses = [post(mailbox, real(BASIC), secret)[0] for secret in (old, "", current + "x", other_secret)]
    assert (statuses, InboundEmail.objects.count()) == ([401, 401, 401, 401], 0)
    assert current.startswith("dlin_")
    assert len(current) == 48
    assert Mailbox.objects.get(pk=mailbox.pk).inbound_secret_hash != current


def test_too_large_is_413_and_get_is_refused(acme: Cast, mailbox: Mailbox) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(max_message_bytes=100)
    secret = regenerate_inbound_secret(actor=acme.admin, mailbox=mailbox)
    assert post(mailbox, real(BASIC), secret) == (413, {"error": "too_large"})
    assert Client().get(f"/inbound/email/{mailbox.pk}/").status_code == 405
    assert InboundEmail.objects.count() == 0
