"""Writes for the email channel's settings: mailboxes, their HTTP inbound secret, and retrying quarantined mail."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent, Team
from deskloop.channels.email.imap.connection import MAILBOXES_ADMINS_ONLY
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.customers.services import normalize_email
from deskloop.tickets.models import ProductArea

from . import pipeline
from .models import InboundEmail, InboundState, Mailbox, UnknownSenderRule

SECRET_PREFIX = "dlin_"  # noqa: S105 (a prefix, not a secret)
MAX_SUBJECT_THREADING_DAYS = 365
MIN_MESSAGE_BYTES = 64 * 1024
MAX_MESSAGE_BYTES = 200 * 1024 * 1024
IMAP_SECURITY = ("ssl", "starttls", "none")
IMAP_AUTH = ("password", "xoauth2")


@dataclass
class MailboxSettings:
    """Everything an admin edits about a mailbox. ``imap_secret`` None keeps the stored one (it is never shown
    back, so an untouched form field must not erase it); "" clears it."""

    address: str
    display_name: str = ""
    default_team: Team | None = None
    default_product_area: ProductArea | None = None
    unknown_sender_rule: str = UnknownSenderRule.NEW_TICKET
    subject_threading_days: int = 0
    trusted_authserv_id: str = ""
    tag_bounce_address: bool = True
    max_message_bytes: int = 40 * 1024 * 1024
    is_active: bool = True
    trust_spam_headers: bool = False
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "ssl"
    imap_username: str = ""
    imap_secret: str | None = None
    imap_auth: str = "password"
    imap_folder: str = "INBOX"


def _require_same_workspace(actor: Agent, mailbox: Mailbox) -> None:
    if mailbox.workspace_id != actor.workspace_id:
        raise NotFound(_("Mailbox not found."))


def _validate(actor: Agent, values: MailboxSettings, *, mailbox: Mailbox | None) -> str:
    address = normalize_email(values.address)
    clash = Mailbox.objects.filter(workspace_id=actor.workspace_id, address__iexact=address)
    if mailbox is not None:
        clash = clash.exclude(pk=mailbox.pk)
    if clash.exists():
        raise ValidationFailed(_("This workspace already has a mailbox with this address."), field="address")
    for obj, name in ((values.default_team, "default_team"), (values.default_product_area, "default_product_area")):
        if obj is not None and obj.workspace_id != actor.workspace_id:
            raise ValidationFailed(_("%(field)s was not found.") % {"field": name}, field=name)
    if values.unknown_sender_rule not in UnknownSenderRule.values:
        raise ValidationFailed(_("Choose what happens with replies from unknown senders."), field="unknown_sender_rule")
    if not 0 <= values.subject_threading_days <= MAX_SUBJECT_THREADING_DAYS:
        raise ValidationFailed(
            _("Subject threading can look back between 0 and %(max)d days.") % {"max": MAX_SUBJECT_THREADING_DAYS},
            field="subject_threading_days",
        )
    authserv_id = values.trusted_authserv_id.strip()
    if authserv_id and (len(authserv_id) > 253 or not re.fullmatch(r"[A-Za-z0-9.-]+", authserv_id)):
        raise ValidationFailed(
            _("The trusted authentication server is a host name, like mx.example.com."), field="trusted_authserv_id"
        )
    if not MIN_MESSAGE_BYTES <= values.max_message_bytes <= MAX_MESSAGE_BYTES:
        raise ValidationFailed(
            _("The largest accepted message must be between 64 KB and 200 MB."), field="max_message_bytes"
        )
    if values.imap_security not in IMAP_SECURITY:
        raise ValidationFailed(_("Unknown IMAP security setting."), field="imap_security")
    if values.imap_auth not in IMAP_AUTH:
        raise ValidationFailed(_("Unknown IMAP sign-in method."), field="imap_auth")
    if not 1 <= values.imap_port <= 65535:
        raise ValidationFailed(_("The IMAP port must be between 1 and 65535."), field="imap_port")
    host = values.imap_host.strip()
    if host and (any(ch.isspace() for ch in host) or len(host) > 253):
        raise ValidationFailed(_("The IMAP host is not a valid host name."), field="imap_host")
    if host and not values.imap_username.strip():
        raise ValidationFailed(_("IMAP needs a user name."), field="imap_username")
    return address


def _apply(mailbox: Mailbox, values: MailboxSettings, address: str) -> None:
    mailbox.address = address
    mailbox.display_name = values.display_name.strip()[:200]
    mailbox.default_team = values.default_team
    mailbox.default_product_area = values.default_product_area
    mailbox.unknown_sender_rule = values.unknown_sender_rule
    mailbox.subject_threading_days = values.subject_threading_days
    mailbox.trusted_authserv_id = values.trusted_authserv_id.strip().lower()
    mailbox.tag_bounce_address = values.tag_bounce_address
    mailbox.max_message_bytes = values.max_message_bytes
    mailbox.is_active = values.is_active
    mailbox.trust_spam_headers = values.trust_spam_headers
    mailbox.imap_host = values.imap_host.strip()
    mailbox.imap_port = values.imap_port
    mailbox.imap_security = values.imap_security
    mailbox.imap_username = values.imap_username.strip()[:254]
    if values.imap_secret is not None:
        mailbox.imap_secret = values.imap_secret[:4000]
    mailbox.imap_auth = values.imap_auth
    mailbox.imap_folder = values.imap_folder.strip()[:200] or "INBOX"


def create_mailbox(*, actor: Agent, values: MailboxSettings) -> Mailbox:
    require_admin(actor, MAILBOXES_ADMINS_ONLY)
    with transaction.atomic():
        address = _validate(actor, values, mailbox=None)
        mailbox = Mailbox(workspace_id=actor.workspace_id)
        _apply(mailbox, values, address)
        mailbox.save()
    return mailbox


# The last fetch's status is the fetcher's to write (imap.fetch.record_imap_check): saving the settings must not
# put back what the form's page loaded minutes earlier.
_FETCH_STATUS = {"imap_checked_at", "imap_error", "imap_failing_since"}


def update_mailbox(*, actor: Agent, mailbox: Mailbox, values: MailboxSettings) -> Mailbox:
    require_admin(actor, MAILBOXES_ADMINS_ONLY)
    _require_same_workspace(actor, mailbox)
    with transaction.atomic():
        address = _validate(actor, values, mailbox=mailbox)
        _apply(mailbox, values, address)
        mailbox.save(
            update_fields=[
                field.name
                for field in Mailbox._meta.concrete_fields
                if not field.primary_key and field.name not in _FETCH_STATUS
            ]
        )
    return mailbox


def hash_inbound_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def regenerate_inbound_secret(*, actor: Agent, mailbox: Mailbox) -> str:
    """A new secret for the HTTP endpoint; the old one stops working at once. Returns the clear value, which is
    shown this once: only its SHA-256 is stored."""
    require_admin(actor, MAILBOXES_ADMINS_ONLY)
    _require_same_workspace(actor, mailbox)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    Mailbox.objects.filter(pk=mailbox.pk).update(inbound_secret_hash=hash_inbound_secret(secret))
    mailbox.inbound_secret_hash = hash_inbound_secret(secret)
    return secret


def retry_inbound_email(*, actor: Agent, inbound: InboundEmail) -> pipeline.IngestResult:
    """Process a quarantined message again, after a fix. Refused messages are decisions, not errors, so they
    are not retried."""
    require_admin(actor, MAILBOXES_ADMINS_ONLY)
    if inbound.workspace_id != actor.workspace_id:
        raise NotFound(_("Email not found."))
    if inbound.state != InboundState.QUARANTINED:
        raise ValidationFailed(_("Only quarantined emails can be processed again."), field="state")
    return pipeline.reprocess(inbound=inbound)
