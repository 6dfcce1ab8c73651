"""Actions that reach outside the ticket: an email to the requester and a webhook call. Each goes through the one
machinery that already does it (the email channel's automatic mail, the webhooks app's deliveries), queued in the
rule's transaction and sent after commit: a rule never opens a connection of its own."""

from __future__ import annotations

from django.utils.translation import gettext as _

from deskloop.automations.models import AutomationRule
from deskloop.channels.email.notifications import email_requester_for_rule
from deskloop.tickets.models import Ticket
from deskloop.tickets.payloads import ticket_payload
from deskloop.webhooks.services import deliver_for_automation


def email_requester(*, rule: AutomationRule, ticket: Ticket, subject: str, body: str) -> str:
    sent = email_requester_for_rule(ticket=ticket, subject=subject, body=body)
    if sent is None:
        return _("no email sent: the requester has no email address")
    if sent.skip_reason:
        return _("email to the requester not sent (%(reason)s)") % {"reason": sent.skip_reason}
    return _("emailed the requester “%(subject)s”") % {"subject": sent.subject}


def call_webhook(*, rule: AutomationRule, ticket: Ticket, endpoint_id: int) -> str:
    fresh = Ticket.objects.select_related("status").get(pk=ticket.pk)
    delivery = deliver_for_automation(
        workspace_id=ticket.workspace_id,
        endpoint_id=endpoint_id,
        data={"rule": {"id": rule.pk, "name": rule.name}, "ticket": ticket_payload(fresh)},
    )
    return _("called the webhook %(url)s") % {"url": delivery.endpoint.url}
