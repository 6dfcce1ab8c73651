"""Actions that leave Deskloop: a webhook call (the webhooks app's signed, SSRF-checked delivery) and an email to the
requester (the email channel's automatic mail), as the receiver and the customer see them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail

from deskloop.automations.models import AutomationRun, RunOutcome
from deskloop.automations.services import RuleDraft, create_rule
from deskloop.channels.email.models import Mailbox, OutboundEmail
from deskloop.conftest import Cast
from deskloop.core.errors import ValidationFailed
from deskloop.tickets.services.tickets import NewTicket, open_ticket
from deskloop.webhooks.models import Delivery, Endpoint
from deskloop.webhooks.signing import signature_header
from deskloop.webhooks.tests.conftest import Receiver, receiver  # noqa: F401 (the fixture)


def _open(cast: Cast, capture: Any, subject: str) -> Any:
    with capture(execute=True):
        return open_ticket(
            workspace=cast.workspace,
            ticket=NewTicket(
                requester=cast.customer, subject=subject, body_text="Everything is down.", channel="email"
            ),
        )[0]


def _webhook_rule(cast: Cast, endpoint: Endpoint) -> None:
    create_rule(
        actor=cast.admin,
        draft=RuleDraft(
            name="Tell the status page",
            events=["ticket.created"],
            conditions=[{"field": "subject", "operator": "contains", "value": "outage"}],
            actions=[{"type": "call_webhook", "value": endpoint.url}],
        ),
    )


def test_a_rule_calls_a_webhook_signed_like_every_delivery(
    acme: Cast,
    receiver: Receiver,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    acme.workspace.allow_private_webhook_targets = True
    acme.workspace.save(update_fields=["allow_private_webhook_targets"])
    endpoint = Endpoint.objects.create(workspace=acme.workspace, url=receiver.url, secret="whsec_test", events=[])
    _webhook_rule(acme, endpoint)

    ticket = _open(acme, django_capture_on_commit_callbacks, "Outage in the EU")

    [request] = receiver.requests
    body = json.loads(request.body)
    assert (body["event"], body["data"]["rule"]["name"]) == ("automation.action", "Tell the status page")
    assert (body["data"]["ticket"]["number"], body["data"]["ticket"]["subject"]) == (ticket.number, "Outage in the EU")
    expected = signature_header(
        secret="whsec_test", timestamp=int(request.headers["X-Deskloop-Timestamp"]), body=request.body
    )
    assert request.headers["X-Deskloop-Signature"] == expected
    assert Delivery.objects.get(endpoint=endpoint).state == "delivered"
    assert AutomationRun.objects.get().detail == f"called the webhook {receiver.url}"


def test_a_rule_cannot_reach_a_private_address(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    """The endpoint's name pointed at a public address when it was saved and now points inside (or the admin typed an
    internal address): the delivery is refused by the webhook SSRF rule, logged on the delivery, nothing is sent."""
    endpoint = Endpoint.objects.create(
        workspace=acme.workspace, url="http://127.0.0.1:9/internal", secret="whsec_test", events=[]
    )
    _webhook_rule(acme, endpoint)

    _open(acme, django_capture_on_commit_callbacks, "Outage in the US")

    delivery = Delivery.objects.get(endpoint=endpoint)
    [attempt] = delivery.attempts.all()
    assert attempt.response_status is None
    assert "points to a private or local address (127.0.0.1)" in attempt.error


def test_a_rule_cannot_name_another_workspaces_webhook(acme: Cast, umbrella: Cast) -> None:
    theirs = Endpoint.objects.create(
        workspace=umbrella.workspace, url="https://hooks.umbrella.example/in", secret="s", events=[]
    )
    with pytest.raises(ValidationFailed) as refused:
        _webhook_rule(acme, theirs)
    assert refused.value.message == "“https://hooks.umbrella.example/in” was not found in this workspace."


def test_a_rule_emails_the_requester_from_its_template(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    Mailbox.objects.create(workspace=acme.workspace, address="support@acme.example", display_name="Acme Support")
    create_rule(
        actor=acme.admin,
        draft=RuleDraft(
            name="Outage notice",
            events=["ticket.created"],
            conditions=[{"field": "subject", "operator": "contains", "value": "outage"}],
            actions=[
                {
                    "type": "send_email",
                    "value": "We know about the outage",
                    "text": "Hello {{ requester.name }}, we are on it (ticket {{ ticket.number }}).",
                }
            ],
        ),
    )

    ticket = _open(acme, django_capture_on_commit_callbacks, "Outage again")

    sent = OutboundEmail.objects.get(kind="automation")
    assert (sent.state, sent.to, sent.auto_submitted) == (
        "sent",
        [["Carmen Customer", acme.customer.primary_email]],
        "auto-replied",
    )
    [message] = [
        m.message()
        for m in mail.outbox
        if str(m.message()["Auto-Submitted"]) and "outage" in str(m.message()["Subject"])
    ]
    assert str(message["Subject"]) == f"We know about the outage [ACME #{ticket.number}]"
    assert message.get_payload() == f"Hello Carmen Customer, we are on it (ticket {ticket.number}).\n"


def test_an_email_template_that_does_not_render_is_refused_on_save(acme: Cast) -> None:
    with pytest.raises(ValidationFailed) as refused:
        create_rule(
            actor=acme.admin,
            draft=RuleDraft(
                name="Broken",
                events=["ticket.created"],
                actions=[{"type": "send_email", "value": "Hi", "text": "{% load os %}"}],
            ),
        )
    assert refused.value.field == "actions"
    assert not AutomationRun.objects.filter(outcome=RunOutcome.APPLIED).exists()
