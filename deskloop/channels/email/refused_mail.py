"""Refused mail reviewed from the inbox side: the list admins read, "Deliver it anyway", and the allow list of
senders whose mail is never refused as list/bulk mail (docs/architecture.md, "Refused mail").

Reads and writes of this one screen live together here, as mailbox settings do in queries.py and services.py.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.customers.services import normalize_email

from . import pipeline
from .decide import OVERRULABLE
from .models import InboundEmail, InboundState, SenderAllowance

REFUSED_MAIL_ADMINS_ONLY = gettext_noop("Only admins can review refused mail.")
NOT_OVERRULABLE = gettext_noop(
    "Only mail refused as list/bulk mail or as an automatic reply can be delivered anyway; this one was refused as %(reason)s."
)
ALREADY_DELIVERED = gettext_noop("This email is no longer refused.")
BAD_PATTERN = gettext_noop("Enter an email address (ana@customer.example) or a domain (customer.example).")
DUPLICATE_PATTERN = gettext_noop("%(pattern)s is already on the allow list.")
PATTERN_MAX = 254


# Reads -------------------------------------------------------------------------------------------------------


def allowances_for_agent(agent: Agent) -> QuerySet[SenderAllowance]:
    return (
        SenderAllowance.objects.filter(workspace_id=agent.workspace_id)
        .select_related("created_by__user")
        .order_by("pattern")
    )


def get_allowance_for_agent(agent: Agent, allowance_id: int) -> SenderAllowance:
    allowance = SenderAllowance.objects.filter(workspace_id=agent.workspace_id, pk=allowance_id).first()
    if allowance is None:
        raise Http404("No such allow-list entry")
    return allowance


# Writes ------------------------------------------------------------------------------------------------------


def deliver_refused_email(*, actor: Agent, inbound: InboundEmail) -> pipeline.IngestResult:
    """Overrule a list/bulk or automatic-reply refusal: the message goes through ``deliver`` like any mail (once,
    however often it is clicked) and the row records who did it."""
    require_admin(actor, REFUSED_MAIL_ADMINS_ONLY)
    if inbound.workspace_id != actor.workspace_id:
        raise NotFound(_("Email not found."))
    if inbound.state != InboundState.REFUSED:
        raise ValidationFailed(_(ALREADY_DELIVERED), field="state")
    if inbound.refusal_reason not in OVERRULABLE:
        raise ValidationFailed(_(NOT_OVERRULABLE) % {"reason": inbound.refusal_reason}, field="state")
    return pipeline.deliver_anyway(inbound=inbound, actor_id=actor.pk)


def clean_pattern(value: str) -> str:
    """An address or a domain as the allow list stores it (lower-case; "@domain" and "*.domain" read as the
    domain), or ValidationFailed."""
    value = value.strip().lower()
    if value.startswith(("*.", "@")):
        value = value.lstrip("*.@")
    if "@" in value:
        try:
            return normalize_email(value)
        except ValidationFailed:
            raise ValidationFailed(_(BAD_PATTERN), field="pattern") from None
    labels = value.split(".")
    valid = (
        0 < len(value) <= PATTERN_MAX
        and len(labels) >= 2
        and all(label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels)
        and value.isascii()
    )
    if not valid:
        raise ValidationFailed(_(BAD_PATTERN), field="pattern")
    return value


def add_sender_allowance(*, actor: Agent, pattern: str) -> SenderAllowance:
    """Put an address or a domain on the allow list: its mail is no longer refused as list/bulk mail."""
    require_admin(actor, REFUSED_MAIL_ADMINS_ONLY)
    cleaned = clean_pattern(pattern)
    try:
        with transaction.atomic():
            return SenderAllowance.objects.create(workspace_id=actor.workspace_id, pattern=cleaned, created_by=actor)
    except IntegrityError:
        raise ValidationFailed(_(DUPLICATE_PATTERN) % {"pattern": cleaned}, field="pattern") from None


def remove_sender_allowance(*, actor: Agent, allowance: SenderAllowance) -> None:
    require_admin(actor, REFUSED_MAIL_ADMINS_ONLY)
    if allowance.workspace_id != actor.workspace_id:
        raise NotFound(_("Allow-list entry not found."))
    allowance.delete()
