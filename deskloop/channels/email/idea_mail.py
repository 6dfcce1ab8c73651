"""Closing the loop: when an idea ships, everyone who asked for it hears so, once.

The ideas app publishes ``idea.status_changed``; this consumer (registered in apps.py) takes the shipped ones and
writes one email per person in ``ideas.shipping.shipped_audience`` (voters, followers, requesters of linked tickets,
and whoever other apps registered: lost deals' and churned organizations' owners). Customers get the customer
email (``idea_shipped``), agents a notice (``idea_shipped_agent``), each from the workspace's editable template in
the recipient's language. An ``IdeaShippedNotice`` row per (idea, person) is written first, under its unique
constraint, so a second delivery of the event, or an idea shipped again after being reopened, tells nobody twice.
An email not sent (no mailbox, a bouncing or system address, template switched off, rate limit) is still written,
skipped with its reason, as every automatic email is.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from deskloop.accounts.models import Agent, Workspace
from deskloop.core.models import OutboxEvent
from deskloop.customers.models import Contact, ContactEmail
from deskloop.ideas.models import Idea, IdeaStatus
from deskloop.ideas.services.ideas import idea_url
from deskloop.ideas.shipping import shipped_audience

from . import email_templates, outbound
from .agent_notices import queue_agent_notice, skip_reason, workspace_mailbox
from .models import IdeaShippedNotice, OutboundEmail, OutboundKind
from .outbound import SkipReason

log = logging.getLogger(__name__)


def consume_outbox_event(event: OutboxEvent) -> None:
    """Registered with deskloop.core.outbox in EmailChannelConfig.ready(). Like the channel's other consumer, a
    failure is logged and does not stop the other consumers of the event (webhooks)."""
    if event.name != "idea.status_changed" or event.payload.get("status") != IdeaStatus.SHIPPED:
        return
    try:
        with transaction.atomic():
            notify_idea_shipped(workspace_id=event.workspace_id, idea_id=int(event.payload["id"]))
    except Exception:
        log.exception("email channel: could not tell who asked that idea %s shipped", event.payload.get("id"))


def notify_idea_shipped(*, workspace_id: int, idea_id: int) -> list[OutboundEmail]:
    """Write the shipped emails for everyone in the idea's audience not told yet; returns the emails written.
    Nothing when the idea is gone, merged away or no longer shipped (reopened before the event was handled)."""
    idea = (
        Idea.objects.select_related("workspace")
        .filter(pk=idea_id, workspace_id=workspace_id, status=IdeaStatus.SHIPPED, merged_into__isnull=True)
        .first()
    )
    if idea is None:
        return []
    audience = shipped_audience(idea)
    workspace = idea.workspace
    written: list[OutboundEmail] = []
    contacts = Contact.objects.filter(workspace_id=workspace_id, pk__in=audience.contact_ids).order_by("pk")
    for contact in contacts:
        notice = _claim(idea, contact=contact)
        if notice is not None:
            mail = _customer_mail(idea, workspace, contact)
            written += _record(notice, mail)
    agents = (
        Agent.objects.select_related("user")
        .filter(workspace_id=workspace_id, pk__in=audience.agent_ids, is_active=True)
        .order_by("pk")
    )
    for agent in agents:
        notice = _claim(idea, agent=agent)
        if notice is not None:
            written += _record(notice, _agent_mail(idea, workspace, agent))
    return written


def _claim(idea: Idea, *, contact: Contact | None = None, agent: Agent | None = None) -> IdeaShippedNotice | None:
    """The recipient's notice row, or None when they were told already (the unique row exists)."""
    notice, created = IdeaShippedNotice.objects.get_or_create(
        workspace_id=idea.workspace_id, idea=idea, contact=contact, agent=agent
    )
    return notice if created else None


def _record(notice: IdeaShippedNotice, mail: OutboundEmail | None) -> list[OutboundEmail]:
    if mail is None:
        return []
    notice.outbound = mail
    notice.save(update_fields=["outbound"])
    return [mail]


def _board_url(idea: Idea, workspace: Workspace) -> str:
    """The idea on the customers' board (the portal's), when it is shown to customers and the board is mounted."""
    if not idea.is_public:
        return ""
    try:
        path = reverse("ideaboard:idea", kwargs={"slug": workspace.slug, "idea_id": idea.pk})
    except NoReverseMatch:
        return ""
    return settings.SITE_URL.rstrip("/") + path


def _idea_context(idea: Idea, workspace: Workspace, *, for_customer: bool) -> dict[str, Any]:
    return {
        "title": idea.title,
        "status": str(IdeaStatus(idea.status).label),
        "shipped_note": idea.shipped_note,
        # Customers never get the agents' page (nor the counts of who else asked).
        "url": "" if for_customer else idea_url(idea),
        "board_url": _board_url(idea, workspace),
        "votes": 0 if for_customer else idea.vote_count,
        "organizations": 0 if for_customer else idea.organization_count,
    }


def _customer_mail(idea: Idea, workspace: Workspace, contact: Contact) -> OutboundEmail | None:
    identities = list(ContactEmail.objects.filter(workspace_id=workspace.pk, contact=contact).order_by("-is_primary"))
    if not identities:
        return None  # a contact known by phone only: nobody to write to (the notice row says we decided)
    identity = identities[0]
    kind = OutboundKind.IDEA_SHIPPED
    source = email_templates.template_source(workspace.pk, kind)
    language = outbound.language_of_contact(contact.locale, workspace)
    context = email_templates.idea_email_context(
        idea=_idea_context(idea, workspace, for_customer=True),
        recipient={"name": contact.name, "email": identity.email},
        workspace_name=workspace.name,
    )
    rendered = email_templates.render(source, context, language=language)
    mailbox = workspace_mailbox(workspace)
    reason = skip_reason(source.is_active, workspace.pk, identity.email, kind)
    if not reason and mailbox is None:
        reason = SkipReason.NO_MAILBOX
    if not reason and identity.bouncing_since is not None:
        reason = SkipReason.BOUNCING
    return outbound.queue_outbound(
        ticket=None,
        workspace_id=workspace.pk,
        email=outbound.NewOutboundEmail(
            kind=kind,
            to=[[contact.name, identity.email]],
            subject=rendered.subject,
            body_text=rendered.body_text,
            body_html=rendered.body_html,
            from_name=(mailbox.display_name or workspace.name) if mailbox else workspace.name,
            from_address=mailbox.address if mailbox else "",
            mailbox=mailbox,
            # An answer is a customer writing to support: it reaches the shared mailbox and opens a ticket.
            reply_to=mailbox.address if mailbox else "",
            auto_submitted="auto-generated",
            skip_reason=reason,
        ),
    )


def _agent_mail(idea: Idea, workspace: Workspace, agent: Agent) -> OutboundEmail | None:
    kind = OutboundKind.IDEA_SHIPPED_AGENT
    source = email_templates.template_source(workspace.pk, kind)
    context = email_templates.idea_email_context(
        idea=_idea_context(idea, workspace, for_customer=False),
        recipient={"name": agent.name, "email": agent.user.email},
        workspace_name=workspace.name,
    )
    rendered = email_templates.render(source, context, language=agent.user.language)
    return queue_agent_notice(
        workspace=workspace,
        agent=agent,
        kind=kind,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        is_active=source.is_active,
    )
