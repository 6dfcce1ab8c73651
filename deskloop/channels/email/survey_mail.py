"""Survey invitations by email: ``survey.invitation_created`` from the outbox becomes an ``OutboundEmail`` with one
link per score (``/s/<token>/<score>/``), in the contact's language, from the workspace's editable template.

The link's token is derived here from the invitation (``surveys.tokens``), never stored with the invitation; the
email row holds it, as it holds everything that went out. Mail that must not go (no mailbox to send from, a
bouncing or system address, the template switched off) is written as skipped with its reason, as notifications are.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from deskloop.core.models import OutboxEvent
from deskloop.customers.models import ContactEmail
from deskloop.surveys import tokens
from deskloop.surveys.models import CsatScale, SurveyInvitation, SurveyKind
from deskloop.surveys.services.invitations import mark_sent
from deskloop.surveys.services.responses import score_bounds

from . import email_templates, outbound
from .models import Mailbox, OutboundEmail, OutboundKind
from .notifications import is_system_address
from .outbound import SkipReason

KIND_OF_SURVEY = {SurveyKind.NPS: OutboundKind.SURVEY_NPS, SurveyKind.CSAT: OutboundKind.SURVEY_CSAT}


def _links(invitation: SurveyInvitation, token: str) -> list[dict[str, object]]:
    survey = invitation.survey
    bounds = score_bounds(survey) or (0, 0)
    base = settings.SITE_URL.rstrip("/")
    scores = list(range(bounds[0], bounds[1] + 1))
    labels: dict[int, str] = {}
    if survey.kind == SurveyKind.CSAT and survey.csat_scale == CsatScale.GOOD_BAD:
        scores, labels = [1, 0], {1: _("Good"), 0: _("Bad")}
    return [
        {
            "score": score,
            "label": labels.get(score, str(score)),
            "url": base + reverse("survey_links:answer", args=[token, score]),
        }
        for score in scores
    ]


def send_invitation(*, invitation: SurveyInvitation) -> OutboundEmail | None:
    """Write the invitation's email once (None when it was written already or there is no address to write to)."""
    if invitation.sent_at is not None or invitation.survey.kind not in KIND_OF_SURVEY:
        return None
    kind = KIND_OF_SURVEY[SurveyKind(invitation.survey.kind)]
    contact = invitation.contact
    identity = ContactEmail.objects.filter(contact=contact).order_by("-is_primary", "id").first()
    if identity is None:
        return None
    workspace = invitation.workspace
    ticket = invitation.ticket
    mailbox = (
        outbound.mailbox_for_ticket(ticket)
        if ticket is not None
        else Mailbox.objects.filter(workspace=workspace, is_active=True).order_by("id").first()
    )
    language = outbound.language_of_contact(contact.locale, workspace)
    token = tokens.invitation_token(invitation)
    with translation.override(language or None):
        context = email_templates.survey_email_context(
            recipient={"name": contact.name, "email": identity.email},
            survey={
                "question": invitation.survey.localized_question(language),
                "links": _links(invitation, token),
                "url": settings.SITE_URL.rstrip("/") + reverse("survey_links:page", args=[token]),
            },
            ticket={"number": ticket.number, "subject": ticket.subject} if ticket is not None else None,
            workspace_name=workspace.name,
        )
    source = email_templates.template_source(workspace.pk, kind)
    rendered = email_templates.render(source, context, language=language)
    skip_reason = ""
    if not source.is_active:
        skip_reason = SkipReason.DISABLED
    elif mailbox is None:
        skip_reason = SkipReason.NO_MAILBOX
    elif identity.bouncing_since is not None:
        skip_reason = SkipReason.BOUNCING
    elif is_system_address(identity.email):
        skip_reason = SkipReason.SYSTEM_ADDRESS
    email = outbound.NewOutboundEmail(
        kind=kind,
        mailbox=mailbox,
        to=[[contact.name, identity.email]],
        from_name=(mailbox.display_name if mailbox else "") or workspace.name,
        from_address=mailbox.address if mailbox else "",
        reply_to=mailbox.address if mailbox else "",
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        auto_submitted="auto-generated",
        skip_reason=skip_reason,
    )
    sent = outbound.queue_outbound(ticket=ticket, email=email, workspace_id=workspace.pk)
    mark_sent(invitation=invitation)
    return sent


def handle_survey_event(event: OutboxEvent) -> None:
    if event.name != "survey.invitation_created":
        return
    invitation = (
        SurveyInvitation.objects.select_related("survey", "contact", "workspace", "ticket")
        .filter(pk=event.payload.get("id"), workspace_id=event.workspace_id)
        .first()
    )
    if invitation is not None:
        send_invitation(invitation=invitation)
