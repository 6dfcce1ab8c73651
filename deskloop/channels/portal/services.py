"""The customer portal's writes: magic sign-in links, and the one way a customer opens a request
(``submit_customer_request``, which the portal and the in-app widget both call).

Sign-in links are sent to any well-formed address, known or not, and the page answers the same either way, so the
form never tells whether an address is a contact. The contact is made (or found) when the link is used, which
proves the visitor reads that mailbox: that is also how the widget confirms an anonymous visitor's address.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.models import Workspace
from deskloop.channels.portal.models import SignInLink
from deskloop.channels.portal.queries import customer_fields
from deskloop.core.emails import send_templated_email
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import Contact
from deskloop.customers.services import find_or_create_contact, mark_email_verified, normalize_email
from deskloop.knowledge.models import RequestSession
from deskloop.knowledge.services.request_sessions import record_submitted
from deskloop.tickets.attachments import IncomingFile, check_size
from deskloop.tickets.models import Channel, StatusCategory, Ticket
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.messages import CustomerMessage, add_customer_message
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket

logger = logging.getLogger(__name__)

LINK_INVALID = gettext_noop("This sign-in link is invalid, was already used, or has expired. Ask for a new one.")
REQUEST_NEEDS_BODY = gettext_noop("Describe what you need help with.")
REPLY_EMPTY = gettext_noop("The message is empty.")
REQUEST_BODY_TOO_LONG = gettext_noop("The description can be at most %(max)d characters.")
TOO_MANY_FILES = gettext_noop("At most %(max)d files can be attached to one message.")
UNKNOWN_FIELD = gettext_noop("Unknown custom field “%(key)s”.")
WRONG_CHANNEL = gettext_noop("Requests come in through the portal or the widget.")
CONTACT_NOT_FOUND = gettext_noop("The contact was not found.")
SESSION_NOT_FOUND = gettext_noop("This request session was not found.")

BODY_MAX = 20_000
# Unused links asked for one address within a link's lifetime; past it the form still says "check your mail" but
# sends nothing, so the form cannot be used to flood someone's mailbox.
LINKS_PER_ADDRESS = 3
TOKEN_BYTES = 32
# The channels that open a ticket through this service, and the ``via`` their history records.
REQUEST_CHANNELS = {Channel.WEB.value: "portal", Channel.WIDGET.value: "widget"}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def safe_next_path(next_path: str) -> str:
    """``next_path`` when it is a path on this site ("/portal/acme/tickets/4/"), else "": never another host
    ("//evil.example", "https://evil.example", "/\\evil.example")."""
    candidate = (next_path or "").strip()
    if not candidate.startswith("/") or any(ch in candidate for ch in "\\\r\n\t") or len(candidate) > 500:
        return ""
    return candidate if url_has_allowed_host_and_scheme(candidate, allowed_hosts=set()) else ""


def issue_sign_in_link(*, workspace: Workspace, email: str, language: str, next_path: str = "") -> None:
    """Mail a single-use sign-in link for ``workspace`` to ``email`` (after commit). The same visible nothing for
    an unknown address (it is sent all the same), a blocked contact, or an address that asked too often (not sent).
    Only a malformed address is refused (ValidationFailed on ``email``)."""
    address = normalize_email(email)
    now = timezone.now()
    lifetime = dt.timedelta(seconds=settings.DESKLOOP_PORTAL_LINK_SECONDS)
    recent = SignInLink.objects.filter(
        workspace=workspace, email=address, used_at__isnull=True, created_at__gt=now - lifetime
    ).count()
    if recent >= LINKS_PER_ADDRESS:
        logger.warning("portal sign-in link not sent: %s asked %d times in %s", workspace.slug, recent, lifetime)
        return
    blocked = Contact.objects.filter(workspace=workspace, emails__email=address, is_blocked=True).exists()
    if blocked:
        logger.info("portal sign-in link not sent: the contact is blocked (workspace %s)", workspace.slug)
        return
    token = secrets.token_urlsafe(TOKEN_BYTES)
    SignInLink.objects.create(
        workspace=workspace,
        token_hash=token_hash(token),
        email=address,
        next_path=safe_next_path(next_path),
        created_at=now,
        expires_at=now + lifetime,
    )
    known_locale = Contact.objects.filter(workspace=workspace, emails__email=address).values_list("locale", flat=True)
    transaction.on_commit(
        functools.partial(
            _send_sign_in_email,
            workspace=workspace,
            address=address,
            token=token,
            language=(known_locale.first() or language or settings.LANGUAGE_CODE),
        ),
        robust=True,
    )


def sign_in_link_url(workspace: Workspace, token: str) -> str:
    """The absolute link (SITE_URL, never the request's Host: a forged Host must not receive the token)."""
    path = reverse("portal:signin_link", kwargs={"slug": workspace.slug, "token": token})
    return settings.SITE_URL.rstrip("/") + path


def _send_sign_in_email(*, workspace: Workspace, address: str, token: str, language: str) -> None:
    send_templated_email(
        template_base="portal/emails/sign_in_link",
        context={
            "workspace": workspace,
            "sign_in_url": sign_in_link_url(workspace, token),
            "minutes": settings.DESKLOOP_PORTAL_LINK_SECONDS // 60,
        },
        to=[address],
        language=language if language in {code for code, _name in settings.LANGUAGES} else settings.LANGUAGE_CODE,
    )


@dataclass(frozen=True)
class SignedIn:
    contact: Contact
    next_path: str


def consume_sign_in_link(*, workspace: Workspace, token: str) -> SignedIn:
    """Use a sign-in link: the contact it signs in (created for a new address) and where to go next. A link works
    once, for its own workspace, before it expires; otherwise ValidationFailed (``invalid_sign_in_link``)."""
    now = timezone.now()
    hashed = token_hash(token)
    with transaction.atomic():
        # One conditional UPDATE: of two concurrent uses of the same link exactly one changes the row.
        used = SignInLink.objects.filter(
            workspace=workspace, token_hash=hashed, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if used != 1:
            raise ValidationFailed(_(LINK_INVALID), code="invalid_sign_in_link")
        link = SignInLink.objects.get(token_hash=hashed)
        contact = find_or_create_contact(workspace=workspace, email=link.email)
        if contact.is_blocked:
            raise ValidationFailed(_(LINK_INVALID), code="invalid_sign_in_link")
        mark_email_verified(workspace=workspace, email=link.email)
    return SignedIn(contact=contact, next_path=link.next_path)


def purge_sign_in_links(now: dt.datetime | None = None) -> int:
    """Delete links that expired more than a day ago (used or not); returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=1)
    deleted, _by_model = SignInLink.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def check_attachments(attachments: Sequence[IncomingFile]) -> None:
    """At most DESKLOOP_PORTAL_MAX_ATTACHMENTS files, each within DESKLOOP_ATTACHMENT_MAX_BYTES."""
    limit = settings.DESKLOOP_PORTAL_MAX_ATTACHMENTS
    if len(attachments) > limit:
        raise ValidationFailed(_(TOO_MANY_FILES) % {"max": limit}, field="attachments", code="too_many_attachments")
    for incoming in attachments:
        check_size(incoming)


def _customer_custom_fields(workspace: Workspace, values: Mapping[str, Any]) -> dict[str, Any]:
    """Only fields marked visible to customers may be set from outside; any other key is refused as unknown (the
    same answer as a key no field has, so a hidden field's key is not confirmed)."""
    allowed = {field.key for field in customer_fields(workspace)}
    for key in values:
        if key not in allowed:
            raise ValidationFailed(_(UNKNOWN_FIELD) % {"key": key}, field=f"custom_fields.{key}")
    return {key: value for key, value in values.items() if value not in (None, "", [])}


def submit_customer_request(
    *,
    workspace: Workspace,
    contact: Contact,
    subject: str,
    body: str,
    custom_fields: Mapping[str, Any],
    attachments: Sequence[IncomingFile],
    channel: str,
    request_session: RequestSession | None = None,
) -> Ticket:
    """Open a ticket for ``contact`` from the portal (channel "web") or the widget ("widget"), with its first
    message and files, and close ``request_session`` as submitted in the same transaction: both are stored or
    neither. Notifications and webhooks follow from the ticket's ``ticket.created`` outbox event, as for every
    ticket. Bad input raises ValidationFailed (naming the field) and stores nothing."""
    if channel not in REQUEST_CHANNELS:
        raise ValidationFailed(_(WRONG_CHANNEL), field="channel")
    if contact.workspace_id != workspace.pk:
        raise ValidationFailed(_(CONTACT_NOT_FOUND), field="contact")
    if request_session is not None and (
        request_session.workspace_id != workspace.pk or request_session.contact_id not in (None, contact.pk)
    ):
        raise ValidationFailed(_(SESSION_NOT_FOUND), field="request_session")
    text = (body or "").strip()
    if not text:
        raise ValidationFailed(_(REQUEST_NEEDS_BODY), field="body")
    if len(text) > BODY_MAX:
        raise ValidationFailed(_(REQUEST_BODY_TOO_LONG) % {"max": BODY_MAX}, field="body")
    check_attachments(attachments)
    fields = _customer_custom_fields(workspace, custom_fields)
    new = NewTicket(
        requester=contact,
        subject=subject,
        body_text=text,
        channel=channel,
        custom_fields=fields,
        attachments=attachments,
    )
    with transaction.atomic():
        ticket, _message = open_ticket(workspace=workspace, ticket=new, via=REQUEST_CHANNELS[channel])
        if request_session is not None:
            record_submitted(session=request_session, ticket=ticket)
    return ticket


def reply_as_contact(*, ticket: Ticket, contact: Contact, body: str, attachments: Sequence[IncomingFile]) -> None:
    """The customer's reply from the portal (reopens a pending or solved ticket, as any customer message does)."""
    text = (body or "").strip()
    if len(text) > BODY_MAX:
        raise ValidationFailed(_(REQUEST_BODY_TOO_LONG) % {"max": BODY_MAX}, field="body")
    if not text and not attachments:
        raise ValidationFailed(_(REPLY_EMPTY), field="body")
    check_attachments(attachments)
    # Its own transaction (a savepoint inside a caller's): add_customer_message joins a caller's without one.
    with transaction.atomic():
        add_customer_message(
            ticket=ticket,
            contact=contact,
            message=CustomerMessage(body_text=text, channel=Channel.WEB, attachments=attachments),
            via="portal",
        )


def solve_as_contact(*, ticket: Ticket, contact: Contact) -> Ticket:
    """The customer says their request is solved: the ticket moves to the workspace's solved status (a ticket
    already solved or closed is left as it is)."""
    if contact.workspace_id != ticket.workspace_id:
        raise ValidationFailed(_(CONTACT_NOT_FOUND), field="contact")
    if ticket.status.category in (StatusCategory.SOLVED, StatusCategory.CLOSED):
        return ticket
    solved = default_status(ticket.workspace_id, StatusCategory.SOLVED)
    return update_ticket(ticket=ticket, changes=TicketChanges(status=solved), agent=None, via="portal")
