"""Asking: an invitation per contact and survey, never more often than the survey's gap allows.

Who asks: the periodic job ``send_due_nps_invitations`` (NPS by email on a schedule) and the outbox consumer
``ask_after_solved`` (CSAT when a ticket is solved). An invitation publishes ``survey.invitation_created``; the
email channel writes the email from it (``channels/email/survey_mail.py``), so this app never imports a channel.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from deskloop.core import outbox
from deskloop.core.models import OutboxEvent
from deskloop.customers.models import Contact, ContactEmail
from deskloop.customers.segments import organization_q
from deskloop.surveys import tokens
from deskloop.surveys.models import Survey, SurveyInvitation, SurveyKind, SurveyResponse
from deskloop.surveys.queries import is_due
from deskloop.tickets.models import Channel, StatusCategory, Ticket

log = logging.getLogger(__name__)

# Contacts asked per survey per run of the job: a big workspace is asked over several runs, not in one burst.
NPS_BATCH = 200


def invite(
    *, survey: Survey, contact: Contact, ticket: Ticket | None = None, now: dt.datetime | None = None
) -> SurveyInvitation | None:
    """Ask ``contact``; None when they may not be asked now (the gap, blocked, no email address, survey off, this
    ticket asked already)."""
    now = now or timezone.now()
    if not survey.is_active or contact.is_blocked or contact.workspace_id != survey.workspace_id:
        return None
    if not ContactEmail.objects.filter(contact=contact, bouncing_since__isnull=True).exists():
        return None
    nonce = tokens.new_nonce()
    try:
        with transaction.atomic():
            # The contact row is the lock: the job and a consumer asking at once cannot both pass the gap.
            Contact.objects.select_for_update().filter(pk=contact.pk).first()
            if not is_due(survey, contact, now):
                return None
            invitation = SurveyInvitation.objects.create(
                workspace_id=survey.workspace_id,
                survey=survey,
                contact=contact,
                ticket=ticket,
                nonce=nonce,
                token_hash=tokens.token_hash(tokens.token_for_nonce(nonce)),
                created_at=now,
            )
            outbox.publish(
                workspace_id=survey.workspace_id, name="survey.invitation_created", payload={"id": invitation.pk}
            )
    except IntegrityError:
        return None  # this ticket's requester was asked already (a redelivered ticket.updated)
    return invitation


def mark_sent(*, invitation: SurveyInvitation, now: dt.datetime | None = None) -> None:
    SurveyInvitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(sent_at=now or timezone.now())


def due_nps_contacts(survey: Survey, now: dt.datetime, limit: int = NPS_BATCH) -> list[Contact]:
    """Contacts of the survey's audience (its segment, else everyone) with an address that does not bounce, who were
    neither asked nor answered within the gap."""
    since = now - dt.timedelta(days=survey.min_days_between)
    contacts = Contact.objects.filter(workspace_id=survey.workspace_id, is_blocked=False).filter(
        Exists(ContactEmail.objects.filter(contact=OuterRef("pk"), bouncing_since__isnull=True))
    )
    if survey.segment is not None:
        contacts = contacts.filter(organization_q(survey.segment))
    contacts = contacts.exclude(
        Exists(SurveyInvitation.objects.filter(survey=survey, contact=OuterRef("pk"), created_at__gt=since))
    ).exclude(Exists(SurveyResponse.objects.filter(survey=survey, contact=OuterRef("pk"), created_at__gt=since)))
    return list(contacts.order_by("id")[:limit])


def send_due_nps_invitations() -> int:
    """The periodic job: every active NPS survey asks its due contacts by email. Returns how many were asked."""
    now = timezone.now()
    asked = 0
    for survey in Survey.objects.filter(kind=SurveyKind.NPS, is_active=True).select_related("segment"):
        for contact in due_nps_contacts(survey, now):
            if invite(survey=survey, contact=contact, now=now) is not None:
                asked += 1
    return asked


def ask_after_solved(event: OutboxEvent) -> None:
    """Outbox consumer: a ticket that became solved asks its requester the workspace's active CSAT survey (once per
    ticket). Tickets nobody talked about (spam, deleted, imported history) ask nothing. A failure is logged and does
    not stop the event's other consumers (webhooks, emails): a survey not asked must not stop the rest."""
    if event.name != "ticket.updated" or "status" not in event.payload.get("changes", []):
        return
    try:
        with transaction.atomic():
            _ask_after_solved(event)
    except Exception:
        log.exception("surveys: could not ask CSAT for outbox event %s", event.pk)


def _ask_after_solved(event: OutboxEvent) -> None:
    status = event.payload.get("status") or {}
    if not isinstance(status, dict) or status.get("category") != StatusCategory.SOLVED:
        return
    survey = (
        Survey.objects.filter(workspace_id=event.workspace_id, kind=SurveyKind.CSAT, is_active=True)
        .order_by("id")
        .first()
    )
    if survey is None:
        return
    ticket = (
        Ticket.objects.select_related("requester")
        .filter(pk=event.payload.get("id"), workspace_id=event.workspace_id)
        .first()
    )
    if ticket is None or ticket.is_spam or ticket.deleted_at is not None or ticket.channel == Channel.IMPORT:
        return
    invite(survey=survey, contact=ticket.requester, ticket=ticket)
