"""Writes for outbound webhooks: endpoints (admin-only), deliveries fed from the outbox, sending and replay.

A delivery is created per (outbox event, subscribed endpoint) inside the outbox dispatch transaction and sent
by a task after commit. Sending claims the row with a short lease, does the HTTP request outside any
transaction, then records the attempt and schedules the next one with exponential backoff.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.core.models import OutboxEvent
from deskloop.core.retries import MAX_ATTEMPTS, enqueue_attempt, retry_delay
from deskloop.webhooks import transport
from deskloop.webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Endpoint, WebhookEvent
from deskloop.webhooks.signing import signature_header

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
# While an attempt is in flight the row is "due" only after this lease, so a duplicate task does nothing and a
# worker that died mid-request is retried later. Longer than the request timeout.
SEND_LEASE = dt.timedelta(minutes=5)
# Workers may pick a deferred task up a moment before its time by their clock; accept that.
DUE_SLACK = dt.timedelta(seconds=5)
RESPONSE_BODY_KEEP = 2000
URL_MAX = 2000


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


WEBHOOKS_ADMINS_ONLY = gettext_noop("Only admins can manage webhooks.")


def _require_same_workspace(actor: Agent, endpoint: Endpoint) -> None:
    if endpoint.workspace_id != actor.workspace_id:
        raise NotFound(_("Webhook endpoint not found."))


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = {name.strip() for name in events if name and name.strip()}
    unknown = sorted(chosen - set(WebhookEvent.values))
    if unknown:
        raise ValidationFailed(_("Unknown event “%(event)s”.") % {"event": unknown[0]}, field="events")
    if not chosen:
        raise ValidationFailed(_("Choose at least one event to send."), field="events")
    return [name for name in WebhookEvent.values if name in chosen]


def _clean_url(workspace: Workspace, url: str) -> str:
    cleaned = (url or "").strip()
    if not cleaned:
        raise ValidationFailed(_("Enter the URL to send events to."), field="url")
    if len(cleaned) > URL_MAX:
        raise ValidationFailed(_("The URL is too long."), field="url")
    # Checked now so an admin sees the problem at once; checked again before every send (DNS can change).
    transport.resolve_target(cleaned, allow_private=workspace.allow_private_webhook_targets)
    return cleaned


def create_endpoint(
    *, actor: Agent, url: str, events: Iterable[str], description: str = "", is_active: bool = True
) -> Endpoint:
    require_admin(actor, WEBHOOKS_ADMINS_ONLY)
    workspace = actor.workspace
    cleaned_url = _clean_url(workspace, url)
    cleaned_events = _clean_events(events)
    return Endpoint.objects.create(
        workspace=workspace,
        url=cleaned_url,
        description=(description or "").strip()[:200],
        secret=generate_secret(),
        events=cleaned_events,
        is_active=is_active,
        created_by=actor,
    )


def update_endpoint(
    *, actor: Agent, endpoint: Endpoint, url: str, events: Iterable[str], description: str = "", is_active: bool = True
) -> Endpoint:
    require_admin(actor, WEBHOOKS_ADMINS_ONLY)
    _require_same_workspace(actor, endpoint)
    endpoint.url = _clean_url(actor.workspace, url)
    endpoint.events = _clean_events(events)
    endpoint.description = (description or "").strip()[:200]
    endpoint.is_active = is_active
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["url", "events", "description", "is_active", "updated_at"])
    return endpoint


def delete_endpoint(*, actor: Agent, endpoint: Endpoint) -> None:
    """Deletes the endpoint and its delivery log; queued sends find no row and do nothing."""
    require_admin(actor, WEBHOOKS_ADMINS_ONLY)
    _require_same_workspace(actor, endpoint)
    endpoint.delete()


def rotate_secret(*, actor: Agent, endpoint: Endpoint) -> Endpoint:
    """A new signing secret, effective for the next attempt; the old one stops verifying at once."""
    require_admin(actor, WEBHOOKS_ADMINS_ONLY)
    _require_same_workspace(actor, endpoint)
    endpoint.secret = generate_secret()
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


def replay_delivery(*, actor: Agent, delivery: Delivery) -> Delivery:
    """Send a delivery again now, as a new attempt. A delivered or failed one gets exactly one more try;
    a pending one is simply moved forward (its retries continue as before)."""
    require_admin(actor, WEBHOOKS_ADMINS_ONLY)
    if delivery.workspace_id != actor.workspace_id:
        raise NotFound(_("Delivery not found."))
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.state != DeliveryState.PENDING:
            locked.is_replay = True
        locked.state = DeliveryState.PENDING
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["state", "next_attempt_at", "is_replay"])
        transaction.on_commit(partial(enqueue_send, locked.pk))
    return locked


def event_body(event: OutboxEvent, workspace: Workspace) -> str:
    return _document(f"evt_{event.pk}", event.name, event.created_at, workspace, event.payload)


def _document(document_id: str, name: str, created_at: dt.datetime, workspace: Workspace, data: object) -> str:
    document = {
        "id": document_id,
        "event": name,
        "created_at": created_at.isoformat(),
        "workspace": {"id": workspace.pk, "slug": workspace.slug},
        "data": data,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


# What an automation rule's "call webhook" action sends: not an outbox event, so not subscribable; the endpoint gets
# it because the rule names it.
AUTOMATION_EVENT = "automation.action"


def deliver_for_automation(*, workspace_id: int, endpoint_id: int, data: dict[str, object]) -> Delivery:
    """Queue one signed POST of ``data`` to the workspace's active endpoint, sent after commit like every delivery
    (the same SSRF-checked transport, signature, retries and delivery log). ValidationFailed when the endpoint is
    gone or switched off."""
    endpoint = Endpoint.objects.select_related("workspace").filter(pk=endpoint_id, workspace_id=workspace_id).first()
    if endpoint is None or not endpoint.is_active:
        raise ValidationFailed(_("The webhook endpoint no longer exists or is switched off."), field="actions")
    now = timezone.now()
    body = _document(f"auto_{secrets.token_hex(8)}", AUTOMATION_EVENT, now, endpoint.workspace, data)
    delivery = Delivery.objects.create(
        workspace_id=workspace_id, endpoint=endpoint, event=AUTOMATION_EVENT, body=body, next_attempt_at=now
    )
    transaction.on_commit(partial(enqueue_send, delivery.pk))
    return delivery


def create_deliveries_for_event(event: OutboxEvent) -> list[Delivery]:
    """The outbox consumer: one delivery per active endpoint subscribed to the event, sent after commit.

    Runs inside the outbox dispatch transaction; if that rolls back, no delivery exists and nothing is sent.
    """
    if event.name not in WebhookEvent.values:
        return []
    endpoints = [
        endpoint
        for endpoint in Endpoint.objects.filter(workspace_id=event.workspace_id, is_active=True)
        if endpoint.subscribes_to(event.name)
    ]
    if not endpoints:
        return []
    workspace = Workspace.objects.get(pk=event.workspace_id)
    body = event_body(event, workspace)
    now = timezone.now()
    created: list[Delivery] = []
    for endpoint in endpoints:
        delivery, is_new = Delivery.objects.get_or_create(
            endpoint=endpoint,
            outbox_event=event,
            defaults={
                "workspace_id": event.workspace_id,
                "event": event.name,
                "body": body,
                "next_attempt_at": now,
            },
        )
        if is_new:
            created.append(delivery)
            transaction.on_commit(partial(enqueue_send, delivery.pk))
    return created


def consume_outbox_event(event: OutboxEvent) -> None:
    """Registered with deskloop.core.outbox in WebhooksConfig.ready()."""
    create_deliveries_for_event(event)


def enqueue_send(delivery_id: int, run_after: dt.datetime | None = None) -> None:
    """Queue the send task (``send_due_deliveries`` sweeps what a backend could not defer)."""
    from deskloop.webhooks.tasks import send_delivery

    enqueue_attempt(send_delivery, delivery_id, run_after)


def _claim(delivery_id: int, now: dt.datetime) -> tuple[Delivery, bool] | None:
    """Lock the delivery, check it is due, and lease it. Returns it and whether this attempt is a replay."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update().select_related("endpoint", "workspace").filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.state != DeliveryState.PENDING or delivery.next_attempt_at is None:
            return None
        if delivery.next_attempt_at > now + DUE_SLACK:
            return None
        if not delivery.endpoint.is_active:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = _("The endpoint is disabled.")
            delivery.save(update_fields=["state", "next_attempt_at", "last_error"])
            return None
        is_replay = delivery.is_replay
        delivery.attempt_count += 1
        delivery.next_attempt_at = now + SEND_LEASE
        delivery.is_replay = False
        delivery.save(update_fields=["attempt_count", "next_attempt_at", "is_replay"])
        return delivery, is_replay


def send_delivery_now(delivery_id: int) -> DeliveryAttempt | None:
    """Make one attempt if the delivery is due; None when there is nothing to do (delivered, not due yet,
    gone, or another worker holds it). Safe to call any number of times."""
    started = timezone.now()
    claimed = _claim(delivery_id, started)
    if claimed is None:
        return None
    delivery, is_replay = claimed
    endpoint = delivery.endpoint
    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "X-Deskloop-Event": delivery.event,
        "X-Deskloop-Delivery": str(delivery.uuid),
        "X-Deskloop-Timestamp": str(timestamp),
        "X-Deskloop-Signature": signature_header(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    status: int | None = None
    response_body = ""
    error = ""
    clock = time.monotonic()
    # The request runs outside any transaction: a slow receiver must not hold database locks.
    try:
        target = transport.resolve_target(endpoint.url, allow_private=delivery.workspace.allow_private_webhook_targets)
        response = transport.post(target, body=body, headers=headers)
        status = response.status
        response_body = response.body[:RESPONSE_BODY_KEEP].decode("utf-8", errors="replace")
    except ValidationFailed as exc:
        error = exc.message
    except transport.DeliveryError as exc:
        error = str(exc)
    duration_ms = int((time.monotonic() - clock) * 1000)
    succeeded = status is not None and 200 <= status < 300
    if status is not None and not succeeded:
        error = _("The receiver answered with HTTP %(status)d.") % {"status": status}
    return _record_attempt(
        delivery_id=delivery.pk,
        started=started,
        duration_ms=duration_ms,
        status=status,
        response_body=response_body,
        error=error[:500],
        succeeded=succeeded,
        is_replay=is_replay,
    )


def _record_attempt(
    *,
    delivery_id: int,
    started: dt.datetime,
    duration_ms: int,
    status: int | None,
    response_body: str,
    error: str,
    succeeded: bool,
    is_replay: bool,
) -> DeliveryAttempt | None:
    finished = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:  # the endpoint was deleted while the request was in flight
            return None
        attempt = DeliveryAttempt.objects.create(
            workspace_id=delivery.workspace_id,
            delivery=delivery,
            number=delivery.attempt_count,
            is_replay=is_replay,
            started_at=started,
            duration_ms=duration_ms,
            response_status=status,
            response_body=response_body,
            error=error,
            succeeded=succeeded,
        )
        delivery.last_response_status = status
        delivery.last_error = error
        if succeeded:
            delivery.state = DeliveryState.DELIVERED
            delivery.delivered_at = finished
            delivery.next_attempt_at = None
        elif is_replay or delivery.attempt_count >= MAX_ATTEMPTS:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = finished + retry_delay(delivery.attempt_count)
            transaction.on_commit(partial(enqueue_send, delivery.pk, delivery.next_attempt_at))
        delivery.save(update_fields=["state", "delivered_at", "next_attempt_at", "last_response_status", "last_error"])
    return attempt


def send_due_deliveries(limit: int = 200) -> int:
    """Sweep: queue every pending delivery whose time has come (its deferred task was lost, the worker was
    down, or the backend cannot defer). Sending twice is prevented by the lease in ``_claim``."""
    ids = list(
        Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for delivery_id in ids:
        enqueue_send(delivery_id)
    return len(ids)
