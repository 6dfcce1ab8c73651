"""Outbound webhooks: Adam (admin of Acme) points a receiver at Deskloop and watches deliveries arrive."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from deskloop.accounts.services import set_private_webhook_targets
from deskloop.conftest import Cast, signed_in_client
from deskloop.core.errors import PermissionDenied, ValidationFailed
from deskloop.core.models import OutboxEvent
from deskloop.core.outbound_addresses import is_private_address
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.messages import add_agent_reply
from deskloop.tickets.services.tickets import NewTicket, open_ticket
from deskloop.webhooks import services, transport
from deskloop.webhooks.models import Delivery, DeliveryAttempt, Endpoint
from deskloop.webhooks.signing import signature_header, verify_signature
from deskloop.webhooks.tests.conftest import Receiver

UTC = dt.UTC


def _allow_private(cast: Cast) -> None:
    set_private_webhook_targets(actor=cast.owner, allowed=True)


def _new_ticket(cast: Cast, capture: Any, subject: str = "Webhook test") -> Ticket:
    with capture(execute=True):
        ticket = open_ticket(
            workspace=cast.workspace,
            ticket=NewTicket(requester=cast.customer, subject=subject, body_text="Hello from Globex"),
        )[0]
    return ticket


def _attempts(delivery: Delivery) -> list[tuple[int, bool, int | None, str, bool]]:
    return list(
        DeliveryAttempt.objects.filter(delivery=delivery)
        .order_by("number")
        .values_list("number", "is_replay", "response_status", "error", "succeeded")
    )


# --- signatures, as a receiver checks them -------------------------------------------------------------------


def test_receiver_verifies_signature_over_timestamp_and_body() -> None:
    secret = "whsec_test-secret"
    body = b'{"event":"ticket.created"}'
    header = signature_header(secret=secret, timestamp=1_700_000_000, body=body)
    digest = hmac.new(secret.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={digest}"
    assert verify_signature(secret=secret, header=header, body=body, now=1_700_000_100) is True
    # Tampered body, wrong secret, a replay captured ten minutes ago, and garbage are all refused.
    assert verify_signature(secret=secret, header=header, body=body + b" ", now=1_700_000_100) is False
    assert verify_signature(secret="whsec_other", header=header, body=body, now=1_700_000_100) is False
    assert verify_signature(secret=secret, header=header, body=body, now=1_700_000_601) is False
    assert verify_signature(secret=secret, header="v1=abc", body=body, now=1_700_000_000) is False


# --- SSRF ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host", "address"),
    [
        ("http://127.0.0.1/hook", "127.0.0.1", "127.0.0.1"),
        ("http://[::1]:8080/hook", "::1", "::1"),
        ("http://10.1.2.3/hook", "10.1.2.3", "10.1.2.3"),
        ("http://192.168.0.10/hook", "192.168.0.10", "192.168.0.10"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254", "169.254.169.254"),
        ("http://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("http://[fe80::1]/hook", "fe80::1", "fe80::1"),
        ("http://0.0.0.0/hook", "0.0.0.0", "0.0.0.0"),  # noqa: S104 (an address refused, not bound)
        ("http://224.0.0.1/hook", "224.0.0.1", "224.0.0.1"),
        ("http://100.64.0.1/hook", "100.64.0.1", "100.64.0.1"),
        # A decimal IPv4 literal resolves to loopback; the resolved address is what is checked.
        ("http://2130706433/hook", "2130706433", "127.0.0.1"),
    ],
)
def test_private_and_local_addresses_are_refused(acme: Cast, url: str, host: str, address: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.create_endpoint(actor=acme.admin, url=url, events=["ticket.created"])
    assert refused.value.code == "private_target"
    assert refused.value.message == (
        f"“{host}” points to a private or local address ({address}). Webhooks are only sent to public "
        "addresses unless a workspace owner allows private targets."
    )
    assert Endpoint.objects.count() == 0


def test_a_host_name_resolving_to_loopback_is_refused(acme: Cast) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.create_endpoint(actor=acme.admin, url="http://localhost:9000/hook", events=["ticket.created"])
    assert refused.value.code == "private_target"
    assert refused.value.message.startswith("“localhost” points to a private or local address (")


@pytest.mark.parametrize("url", ["ftp://hooks.example/", "file:///etc/passwd", "gopher://127.0.0.1:25/", "hooks"])
def test_only_http_and_https_urls(acme: Cast, url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.create_endpoint(actor=acme.admin, url=url, events=["ticket.created"])
    assert refused.value.message == "A webhook URL must start with http:// or https://."


def test_public_address_is_accepted_and_gets_a_secret(acme: Cast) -> None:
    endpoint = services.create_endpoint(
        actor=acme.admin, url="https://93.184.215.14/hooks", events=["message.created", "ticket.created"]
    )
    assert endpoint.events == ["ticket.created", "message.created"]
    assert endpoint.secret.startswith("whsec_")
    assert len(endpoint.secret) == 49
    assert is_private_address(ipaddress.ip_address("2606:4700:4700::1111")) is False


def test_owner_override_allows_private_targets_and_is_rechecked_at_send_time(
    acme: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    _allow_private(acme)
    endpoint = services.create_endpoint(actor=acme.admin, url=receiver.url, events=["ticket.created"])
    # The override is switched off again; the next send is refused before any connection is made.
    set_private_webhook_targets(actor=acme.owner, allowed=False)
    _new_ticket(acme, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert receiver.requests == []
    assert _attempts(delivery) == [
        (
            1,
            False,
            None,
            "“127.0.0.1” points to a private or local address (127.0.0.1). Webhooks are only sent to public "
            "addresses unless a workspace owner allows private targets.",
            False,
        )
    ]
    assert delivery.state == "pending"


def test_connection_goes_to_the_checked_address_with_the_original_host_name(receiver: Receiver) -> None:
    port = int(receiver.url.split(":")[2].split("/")[0])
    target = transport.Target(scheme="http", host="hooks.example.com", port=port, path="/in", address="127.0.0.1")
    response = transport.post(target, body=b"{}", headers={"X-Deskloop-Event": "ticket.created"})
    assert response.status == 200
    assert response.body == b"thanks"
    assert receiver.requests[0].headers["Host"] == f"hooks.example.com:{port}"
    assert receiver.requests[0].path == "/in"


# --- delivery --------------------------------------------------------------------------------------------------


def test_ticket_created_is_delivered_to_a_real_receiver_with_exact_body_and_headers(
    acme: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    _allow_private(acme)
    endpoint = services.create_endpoint(actor=acme.admin, url=receiver.url, events=["ticket.created"])
    ticket = _new_ticket(acme, django_capture_on_commit_callbacks)
    ticket.refresh_from_db()
    delivery = Delivery.objects.select_related("outbox_event").get(endpoint=endpoint)
    event = delivery.outbox_event
    assert event is not None

    [request] = receiver.requests
    assert request.path == "/hooks/deskloop?src=test"
    assert json.loads(request.body) == {
        "id": f"evt_{event.pk}",
        "event": "ticket.created",
        "created_at": event.created_at.isoformat(),
        "workspace": {"id": acme.workspace.pk, "slug": "acme"},
        "data": {
            "id": ticket.pk,
            "number": 2,
            "subject": "Webhook test",
            "status": {"id": ticket.status_id, "name": "New", "category": "new"},
            "priority": "normal",
            "channel": "web",
            "requester_id": acme.customer.pk,
            "organization_id": acme.organization.pk,
            "assignee_id": None,
            "team_id": None,
            "product_area_id": None,
            "request_type": "",
            "custom_fields": {},
            "created_at": ticket.created_at.isoformat(),
            "updated_at": ticket.updated_at.isoformat(),
            "version": 2,
        },
    }
    timestamp = request.headers["X-Deskloop-Timestamp"]
    expected_digest = hmac.new(endpoint.secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
    port = receiver.url.split(":")[2].split("/")[0]
    assert {name: request.headers[name] for name in request.headers if name != "X-Deskloop-Timestamp"} == {
        "Host": f"127.0.0.1:{port}",
        "Accept-Encoding": "identity",
        "Content-Length": str(len(request.body)),
        "User-Agent": "Deskloop-Webhooks/1.0",
        "Content-Type": "application/json",
        "X-Deskloop-Event": "ticket.created",
        "X-Deskloop-Delivery": str(delivery.uuid),
        "X-Deskloop-Signature": f"t={timestamp},v1={expected_digest.hexdigest()}",
    }
    assert verify_signature(secret=endpoint.secret, header=request.headers["X-Deskloop-Signature"], body=request.body)

    assert (delivery.state, delivery.attempt_count, delivery.next_attempt_at) == ("delivered", 1, None)
    assert [(n, replay, status, err, ok) for n, replay, status, err, ok in _attempts(delivery)] == [
        (1, False, 200, "", True)
    ]
    assert DeliveryAttempt.objects.get(delivery=delivery).response_body == "thanks"


def test_only_active_subscribed_endpoints_of_the_workspace_get_deliveries(
    acme: Cast, umbrella: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    _allow_private(acme)
    _allow_private(umbrella)
    messages_only = services.create_endpoint(actor=acme.admin, url=receiver.url, events=["message.created"])
    services.create_endpoint(actor=acme.admin, url=receiver.url, events=["ticket.created"], is_active=False)
    services.create_endpoint(actor=umbrella.admin, url=receiver.url, events=["ticket.created", "message.created"])
    ticket = _new_ticket(acme, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        add_agent_reply(ticket=ticket, agent=acme.agent, body_text="We are on it.")
    assert list(Delivery.objects.values_list("endpoint_id", "event", "state")) == [
        (messages_only.pk, "message.created", "delivered")
    ]
    assert [json.loads(r.body)["data"]["body_text"] for r in receiver.requests] == ["We are on it."]


def test_failed_attempts_back_off_then_give_up(
    acme: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    _allow_private(acme)
    receiver.statuses = [500] * 6
    endpoint = services.create_endpoint(actor=acme.admin, url=receiver.url, events=["ticket.created"])
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    delays: list[dt.timedelta] = []
    with time_machine.travel(start, tick=False) as traveller:
        _new_ticket(acme, django_capture_on_commit_callbacks)
        delivery = Delivery.objects.get(endpoint=endpoint)
        for _ in range(5):
            delivery.refresh_from_db()
            assert delivery.next_attempt_at is not None
            delays.append(delivery.next_attempt_at - dt.datetime.now(tz=UTC))
            # Not due yet: a duplicate or early task does nothing.
            assert services.send_delivery_now(delivery.pk) is None
            traveller.move_to(delivery.next_attempt_at)
            with django_capture_on_commit_callbacks(execute=True):
                assert services.send_due_deliveries() == 1
        delivery.refresh_from_db()
    assert delays == [
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=30),
        dt.timedelta(hours=2),
        dt.timedelta(hours=12),
    ]
    assert (delivery.state, delivery.attempt_count, delivery.next_attempt_at) == ("failed", 6, None)
    assert delivery.last_error == "The receiver answered with HTTP 500."
    assert len(receiver.requests) == 6
    assert services.send_due_deliveries() == 0


def test_retry_is_enqueued_with_run_after_on_a_deferring_backend(
    acme: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    _allow_private(acme)
    receiver.statuses = [503]
    endpoint = services.create_endpoint(actor=acme.admin, url=receiver.url, events=["ticket.created"])
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        from django_tasks import default_task_backend

        _new_ticket(acme, django_capture_on_commit_callbacks)
        # The dummy backend only records: run the outbox dispatch by hand, then the first send.
        [dispatch] = default_task_backend.results  # type: ignore[attr-defined]
        default_task_backend.clear()  # type: ignore[attr-defined]
        with django_capture_on_commit_callbacks(execute=True):
            dispatch.task.call(*dispatch.args)
        [first_send] = default_task_backend.results  # type: ignore[attr-defined]
        assert first_send.task.run_after is None
        default_task_backend.clear()  # type: ignore[attr-defined]
        with django_capture_on_commit_callbacks(execute=True):
            first_send.task.call(*first_send.args)
        [retry] = default_task_backend.results  # type: ignore[attr-defined]
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert retry.task.name == "send_delivery"
    assert retry.args == [delivery.pk]
    assert retry.task.run_after == delivery.next_attempt_at
    # Scheduled one minute after the attempt finished (the request itself takes a few milliseconds).
    started_at = DeliveryAttempt.objects.get(delivery=delivery).started_at
    assert delivery.next_attempt_at is not None
    assert dt.timedelta(minutes=1) <= delivery.next_attempt_at - started_at < dt.timedelta(minutes=1, seconds=10)


def test_a_redirect_is_not_followed(acme: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any) -> None:
    _allow_private(acme)
    receiver.statuses = [302]
    endpoint = services.create_endpoint(actor=acme.admin, url=receiver.url, events=["ticket.created"])
    _new_ticket(acme, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert len(receiver.requests) == 1
    assert _attempts(delivery) == [(1, False, 302, "The receiver answered with HTTP 302.", False)]


def test_sending_task_is_idempotent(acme: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any) -> None:
    from deskloop.webhooks.tasks import send_delivery

    _allow_private(acme)
    endpoint = services.create_endpoint(actor=acme.admin, url=receiver.url, events=["ticket.created"])
    _new_ticket(acme, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=endpoint)
    send_delivery.enqueue(delivery.pk)
    send_delivery.call(delivery.pk)
    assert services.send_due_deliveries() == 0
    assert len(receiver.requests) == 1
    assert _attempts(delivery) == [(1, False, 200, "", True)]


def test_replay_sends_a_delivered_delivery_again_as_a_new_attempt(
    acme: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    _allow_private(acme)
    endpoint = services.create_endpoint(actor=acme.admin, url=receiver.url, events=["ticket.created"])
    _new_ticket(acme, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=endpoint)
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        services.replay_delivery(actor=acme.admin, delivery=delivery)
    delivery.refresh_from_db()
    # A failed replay is one try: it is not rescheduled.
    assert (delivery.state, delivery.next_attempt_at) == ("failed", None)
    with django_capture_on_commit_callbacks(execute=True):
        services.replay_delivery(actor=acme.admin, delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count) == ("delivered", 3)
    assert _attempts(delivery) == [
        (1, False, 200, "", True),
        (2, True, 500, "The receiver answered with HTTP 500.", False),
        (3, True, 200, "", True),
    ]
    assert len({r.body for r in receiver.requests}) == 1
    assert {r.headers["X-Deskloop-Delivery"] for r in receiver.requests} == {str(delivery.uuid)}
    with pytest.raises(PermissionDenied):
        services.replay_delivery(actor=acme.agent, delivery=delivery)


def test_rotating_the_secret_signs_the_next_delivery_with_the_new_one(
    acme: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    _allow_private(acme)
    endpoint = services.create_endpoint(actor=acme.admin, url=receiver.url, events=["ticket.created"])
    old_secret = endpoint.secret
    services.rotate_secret(actor=acme.admin, endpoint=endpoint)
    _new_ticket(acme, django_capture_on_commit_callbacks)
    [request] = receiver.requests
    header = request.headers["X-Deskloop-Signature"]
    assert endpoint.secret != old_secret
    assert verify_signature(secret=endpoint.secret, header=header, body=request.body) is True
    assert verify_signature(secret=old_secret, header=header, body=request.body) is False


def test_only_admins_manage_endpoints(acme: Cast, umbrella: Cast) -> None:
    with pytest.raises(PermissionDenied) as refused:
        services.create_endpoint(actor=acme.agent, url="https://93.184.215.14/", events=["ticket.created"])
    assert refused.value.message == "Only admins can manage webhooks."
    endpoint = services.create_endpoint(actor=umbrella.owner, url="https://93.184.215.14/", events=["ticket.created"])
    with pytest.raises(ValidationFailed) as invalid:
        services.update_endpoint(actor=umbrella.owner, endpoint=endpoint, url=endpoint.url, events=["ticket.exploded"])
    assert invalid.value.message == "Unknown event “ticket.exploded”."
    from deskloop.core.errors import NotFound

    with pytest.raises(NotFound):
        services.delete_endpoint(actor=acme.admin, endpoint=endpoint)
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


# --- pages -----------------------------------------------------------------------------------------------------


def test_admin_creates_an_endpoint_and_reads_its_delivery_log(
    acme: Cast, umbrella: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in_client(acme.admin)
    refused = client.post("/settings/webhooks/new/", {"url": receiver.url, "events": ["ticket.created"]})
    assert refused.status_code == 400
    assert "points to a private or local address (127.0.0.1)" in refused.content.decode()

    # Admins manage endpoints; opening the internal network is the owner's switch on the workspace page.
    page = client.get("/settings/webhooks/").content.decode()
    assert "Only a workspace owner can change this." in page
    assert client.post("/settings/workspace/private-targets/", {"allowed": "1"}).status_code == 403
    assert (
        signed_in_client(acme.owner).post("/settings/workspace/private-targets/", {"allowed": "1"}).status_code == 302
    )
    created = client.post(
        "/settings/webhooks/new/",
        {"url": receiver.url, "description": "CRM sync", "events": ["ticket.created"], "is_active": "on"},
    )
    endpoint = Endpoint.objects.get(workspace=acme.workspace)
    assert created.status_code == 302
    assert created["Location"] == f"/settings/webhooks/{endpoint.pk}/"
    assert (endpoint.description, endpoint.events, endpoint.is_active) == ("CRM sync", ["ticket.created"], True)

    _new_ticket(acme, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=endpoint)
    detail = client.get(f"/settings/webhooks/{endpoint.pk}/")
    assert endpoint.secret in detail.content.decode()
    assert f"/settings/webhooks/deliveries/{delivery.pk}/" in detail.content.decode()
    log = client.get(f"/settings/webhooks/deliveries/{delivery.pk}/")
    assert "HTTP 200" in log.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        replayed = client.post(f"/settings/webhooks/deliveries/{delivery.pk}/replay/")
    assert replayed.status_code == 302
    assert len(receiver.requests) == 2

    assert signed_in_client(acme.agent).get("/settings/webhooks/").status_code == 403
    foreign = services.create_endpoint(actor=umbrella.owner, url="https://93.184.215.14/", events=["ticket.created"])
    assert client.get(f"/settings/webhooks/{foreign.pk}/").status_code == 404
    assert client.post(f"/settings/webhooks/{foreign.pk}/delete/").status_code == 404
    assert Endpoint.objects.filter(pk=foreign.pk).exists()


def test_the_scheduler_retries_a_due_delivery(
    acme: Cast, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    _allow_private(acme)
    receiver.statuses = [500]
    endpoint = services.create_endpoint(actor=acme.admin, url=receiver.url, events=["ticket.created"])
    _new_ticket(acme, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.next_attempt_at is not None
    OutboxEvent.objects.update(dispatched_at=timezone.now())  # the fixture's own events are not this test's
    out = StringIO()
    with (
        time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("run_periodic", "--once", stdout=out)
    done = dict(line.split(": ") for line in out.getvalue().splitlines())
    assert done["send_due_webhooks"] == "1"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count) == ("delivered", 2)
    assert len(receiver.requests) == 2
