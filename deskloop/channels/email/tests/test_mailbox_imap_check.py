"""The mailbox settings page's "Test connection" against a real Dovecot: it signs in with what the admin entered
(the stored password when the field is left empty), reports the folder's message count or a clear error, and
saves or changes nothing."""

from __future__ import annotations

import socket
import threading

import pytest
from django.test import override_settings

from deskloop.channels.email import imap
from deskloop.channels.email.models import InboundEmail, Mailbox
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast, signed_in_client

from .corpus import BASIC, real
from .dovecot import SUPPORT_PASSWORD, SUPPORT_USER, Dovecot, imap_mailbox

HTMX = {"HX-Request": "true"}


def entered(dovecot: Dovecot, folder: str, **changes: str) -> dict[str, str]:
    return {
        "address": "support@acme.example",
        "unknown_sender_rule": "new_ticket",
        "subject_threading_days": "0",
        "max_message_bytes": str(10 * 1024 * 1024),
        "is_active": "on",
        "imap_host": "127.0.0.1",
        "imap_port": str(dovecot.port),
        "imap_security": "none",
        "imap_auth": "password",
        "imap_username": SUPPORT_USER,
        "imap_secret": "",
        "imap_folder": folder,
        **changes,
    }


def test_testing_a_saved_mailbox_uses_the_stored_password_and_counts_the_folder(
    acme: Cast, dovecot: Dovecot, folder: str
) -> None:
    dovecot.append([real(BASIC), real(BASIC, Message_Id="<two@globex.example>")], folder=folder)
    mailbox = imap_mailbox(acme, dovecot, folder)
    client = signed_in_client(acme.admin)
    url = f"/settings/mailboxes/{mailbox.pk}/imap-test/"

    works = client.post(url, entered(dovecot, folder), headers=HTMX)
    wrong = client.post(url, entered(dovecot, folder, imap_secret="not the password"), headers=HTMX)
    missing = client.post(url, entered(dovecot, "Nope"), headers=HTMX)
    bad_port = client.post(url, entered(dovecot, folder, imap_port="0"), headers=HTMX)

    assert [r.status_code for r in (works, wrong, missing, bad_port)] == [200, 200, 200, 200]
    assert works.content.decode().strip() == (
        '<p class="alert alert-success" role="status">Connection works. '
        f"Signed in. The folder {folder} holds 2 messages.</p>"
    )
    assert (
        "Connection failed. Sign-in was refused. Check the user name and the password or token. (error: sign_in_refused)"
        in wrong.content.decode()
    )
    assert "Connection failed. The folder Nope cannot be opened; check its name. (error: folder_unavailable)" in (
        missing.content.decode()
    )
    # The server's own words (here Dovecot's) are never shown.
    assert "AUTHENTICATIONFAILED" not in wrong.content.decode()
    assert "doesn" not in missing.content.decode()
    assert (
        "Connection failed. Correct the IMAP settings first "
        "(IMAP port: Ensure this value is greater than or equal to 1.)." in bad_port.content.decode()
    )
    # Testing saves nothing: the stored password and settings are as they were.
    mailbox.refresh_from_db()
    assert (mailbox.imap_secret, mailbox.imap_folder) == (SUPPORT_PASSWORD, folder)


def test_testing_a_new_mailbox_without_javascript_shows_the_form_again_and_saves_nothing(
    acme: Cast, dovecot: Dovecot, folder: str
) -> None:
    dovecot.append([], folder=folder)  # an empty folder
    client = signed_in_client(acme.admin)
    page = client.post("/settings/mailboxes/new/imap-test/", entered(dovecot, folder, imap_secret=SUPPORT_PASSWORD))
    body = page.content.decode()
    assert page.status_code == 200
    assert f"Connection works. Signed in. The folder {folder} holds 0 messages." in body
    assert 'value="support@acme.example"' in body
    assert SUPPORT_PASSWORD not in body  # a password is never rendered back
    assert 'action="/settings/mailboxes/new/"' in body  # "Create mailbox" still creates
    assert Mailbox.objects.count() == 0


def test_only_admins_of_the_workspace_can_test(acme: Cast, umbrella: Cast, dovecot: Dovecot, folder: str) -> None:
    foreign = create_mailbox(actor=umbrella.admin, values=MailboxSettings(address="support@umbrella.example"))
    own = imap_mailbox(acme, dovecot, folder)
    assert signed_in_client(acme.agent).post(f"/settings/mailboxes/{own.pk}/imap-test/", {}).status_code == 403
    assert signed_in_client(acme.admin).post(f"/settings/mailboxes/{foreign.pk}/imap-test/", {}).status_code == 404


@pytest.mark.parametrize(
    ("host", "security"),
    [
        ("127.0.0.1", "none"),
        ("localhost", "none"),
        ("::1", "none"),
        ("10.0.0.7", "ssl"),
        ("192.168.1.20", "starttls"),
        ("169.254.169.254", "ssl"),  # the cloud metadata service
        ("100.64.0.1", "ssl"),  # shared address space (CGNAT)
        ("::ffff:127.0.0.1", "ssl"),  # loopback hidden in IPv6
    ],
)
def test_internal_addresses_are_refused_without_connecting(
    acme: Cast, dovecot: Dovecot, folder: str, host: str, security: str
) -> None:
    mailbox = imap_mailbox(acme, dovecot, folder)
    client = signed_in_client(acme.admin)
    with override_settings(DESKLOOP_IMAP_ALLOW_PRIVATE_HOSTS=False):
        answer = client.post(
            f"/settings/mailboxes/{mailbox.pk}/imap-test/",
            entered(dovecot, folder, imap_host=host, imap_security=security, imap_secret=SUPPORT_PASSWORD),
            headers=HTMX,
        )
        fetched = imap.fetch_mailbox(mailbox)  # the stored loopback host: the background fetch refuses it as well
    assert answer.status_code == 200
    assert answer.content.decode().strip() == (
        '<p class="alert alert-error" role="status">Connection failed. '
        f"{host} points to a private or local address. Mail servers on a private network are only reached when "
        "the installation allows it (DESKLOOP_IMAP_ALLOW_PRIVATE_HOSTS). (error: private_address)</p>"
    )
    assert fetched.error.endswith("(error: private_address)")
    assert InboundEmail.objects.count() == 0


def test_what_a_foreign_service_answers_is_never_shown(acme: Cast, dovecot: Dovecot, folder: str) -> None:
    """Pointed at another service (allowed here: loopback in tests), "Test connection" fails without the service's
    banner, which would tell a prober what runs there."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def greet() -> None:
            peer, _address = server.accept()
            with peer:
                peer.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 internal-build-host\r\n")
                peer.recv(1024)

        greeter = threading.Thread(target=greet, daemon=True)
        greeter.start()
        answer = signed_in_client(acme.admin).post(
            "/settings/mailboxes/new/imap-test/",
            entered(dovecot, folder, imap_port=str(port), imap_secret=SUPPORT_PASSWORD),
            headers=HTMX,
        )
        greeter.join(timeout=5)
    body = answer.content.decode()
    assert body.strip() == (
        '<p class="alert alert-error" role="status">Connection failed. '
        f"The connection to 127.0.0.1:{port} broke. (error: connection_lost)</p>"
    )
    assert "OpenSSH" not in body
