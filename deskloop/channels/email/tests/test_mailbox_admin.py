"""Admins manage mailboxes and look after the quarantine."""

from __future__ import annotations

from deskloop.channels.email.models import InboundEmail, Mailbox
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import hash_inbound_secret
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import ProductArea, Ticket

from .corpus import BASIC, real

FORM = {
    "address": "Billing@Acme.example",
    "display_name": "Acme Billing",
    "unknown_sender_rule": "add_as_cc",
    "subject_threading_days": "7",
    "max_message_bytes": str(10 * 1024 * 1024),
    "is_active": "on",
    "imap_host": "imap.acme.example",
    "imap_port": "993",
    "imap_security": "ssl",
    "imap_auth": "password",
    "imap_username": "billing",
    "imap_secret": "hunter2-imap-password",
    "imap_folder": "INBOX",
}


def test_an_admin_creates_and_edits_a_mailbox_and_the_imap_secret_is_never_shown(acme: Cast) -> None:
    client = signed_in_client(acme.admin)
    created = client.post("/settings/mailboxes/new/", {**FORM, "default_team": acme.billing.pk})
    mailbox = Mailbox.objects.get(workspace=acme.workspace)
    assert created.status_code == 302
    assert created["Location"] == f"/settings/mailboxes/{mailbox.pk}/"
    assert (mailbox.address, mailbox.default_team, mailbox.imap_secret, mailbox.subject_threading_days) == (
        "billing@acme.example",
        acme.billing,
        "hunter2-imap-password",
        7,
    )
    page = client.get(f"/settings/mailboxes/{mailbox.pk}/")
    assert page.status_code == 200
    assert b"hunter2" not in page.content
    # Saving with the password field left empty keeps the stored secret.
    client.post(f"/settings/mailboxes/{mailbox.pk}/", {**FORM, "imap_secret": "", "display_name": "Billing"})
    mailbox.refresh_from_db()
    assert (mailbox.display_name, mailbox.imap_secret) == ("Billing", "hunter2-imap-password")
    listing = client.get("/settings/mailboxes/")
    assert b"billing@acme.example" in listing.content


def test_the_form_refuses_another_workspaces_team_and_a_duplicate_address(acme: Cast, umbrella: Cast) -> None:
    client = signed_in_client(acme.admin)
    client.post("/settings/mailboxes/new/", FORM)
    again = client.post("/settings/mailboxes/new/", FORM)
    foreign = client.post(
        "/settings/mailboxes/new/", {**FORM, "address": "x@acme.example", "default_team": umbrella.support.pk}
    )
    assert again.status_code == 400
    assert "This workspace already has a mailbox with this address." in again.text
    assert foreign.status_code == 400
    assert Mailbox.objects.filter(workspace=acme.workspace).count() == 1


def test_the_http_secret_is_shown_once_and_stored_hashed(acme: Cast) -> None:
    mailbox = Mailbox.objects.create(workspace=acme.workspace, address="support@acme.example")
    response = signed_in_client(acme.owner).post(f"/settings/mailboxes/{mailbox.pk}/inbound-secret/")
    secret = response.text.split("<code data-secret>")[1].split("</code>")[0]
    mailbox.refresh_from_db()
    assert (response.status_code, response["Cache-Control"]) == (200, "no-store")
    assert mailbox.inbound_secret_hash == hash_inbound_secret(secret)
    assert secret.encode() not in signed_in_client(acme.owner).get(f"/settings/mailboxes/{mailbox.pk}/").content


def test_agents_cannot_open_mailbox_settings(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    assert [client.get(url).status_code for url in ("/settings/mailboxes/", "/settings/mailboxes/quarantine/")] == [
        403,
        403,
    ]


def test_the_quarantine_shows_the_error_escaped_headers_the_raw_file_and_retries(acme: Cast, umbrella: Cast) -> None:
    mailbox = Mailbox.objects.create(workspace=acme.workspace, address="support@acme.example")
    foreign_area = ProductArea.objects.create(workspace=umbrella.workspace, name="Elsewhere", path="Elsewhere")
    Mailbox.objects.filter(pk=mailbox.pk).update(default_product_area=foreign_area)
    mailbox.refresh_from_db()
    raw = real(BASIC, Subject="<script>alert(1)</script>")
    ingest_raw(mailbox=mailbox, raw=raw, via="imap")
    inbound = InboundEmail.objects.get()
    client = signed_in_client(acme.admin)

    listing = client.get("/settings/mailboxes/quarantine/?state=quarantined")
    detail = client.get(f"/settings/mailboxes/quarantine/{inbound.pk}/")
    download = client.get(f"/settings/mailboxes/quarantine/{inbound.pk}/raw/")
    assert listing.status_code == 200
    assert f"/settings/mailboxes/quarantine/{inbound.pk}/" in listing.text
    assert "<script>alert(1)</script>" not in detail.text
    assert "Subject: &lt;script&gt;alert(1)&lt;/script&gt;" in detail.text
    assert "product_area was not found." in detail.text
    assert "Process again" in detail.text
    assert (download.content, download["Content-Type"], download["Content-Disposition"]) == (
        raw,
        "message/rfc822",
        f"attachment; filename=\"email-{inbound.pk}.eml\"; filename*=UTF-8''email-{inbound.pk}.eml",
    )

    Mailbox.objects.filter(pk=mailbox.pk).update(default_product_area=None)
    retried = client.post(f"/settings/mailboxes/quarantine/{inbound.pk}/retry/")
    inbound.refresh_from_db()
    ticket = Ticket.objects.get(pk=inbound.ticket_id)
    assert (retried.status_code, inbound.state, ticket.subject) == (302, "processed", "<script>alert(1)</script>")
    # A processed message is not retried again.
    client.post(f"/settings/mailboxes/quarantine/{inbound.pk}/retry/")
    assert Ticket.objects.filter(workspace=acme.workspace).count() == 2


def test_an_admin_sets_the_trusted_authentication_server_and_the_bounce_tag(acme: Cast) -> None:
    client = signed_in_client(acme.admin)
    client.post(
        "/settings/mailboxes/new/", {**FORM, "trusted_authserv_id": " MX.Acme.example ", "tag_bounce_address": "on"}
    )
    mailbox = Mailbox.objects.get(workspace=acme.workspace)
    assert (mailbox.trusted_authserv_id, mailbox.tag_bounce_address) == ("mx.acme.example", True)
    page = client.get(f"/settings/mailboxes/{mailbox.pk}/")
    assert b'value="mx.acme.example"' in page.content

    refused = client.post(
        f"/settings/mailboxes/{mailbox.pk}/", {**FORM, "trusted_authserv_id": "mx.acme.example; dmarc=pass"}
    )
    assert refused.status_code == 400
    assert "The trusted authentication server is a host name, like mx.example.com." in refused.content.decode()
    mailbox.refresh_from_db()
    assert (mailbox.trusted_authserv_id, mailbox.tag_bounce_address) == ("mx.acme.example", True)
