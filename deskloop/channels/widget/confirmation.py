"""Anonymous visitors confirm their email before the widget shows any conversation.

The panel asks for a confirmation of an address: a row with a secret only the panel's memory holds (its hash is
stored) and a short code; the address gets the portal's magic sign-in link (``issue_sign_in_link``, same answer
whether the address is known or not), whose next page, for the contact signed in by it, asks "show your
conversations in the help panel that shows code 123456?". Once the contact says yes, the panel's next poll trades
its secret for a pass naming the contact, once. Someone who asks for a victim's address gets nothing without the
victim's mailbox and the victim's deliberate yes beside a code they can compare.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import Workspace
from deskloop.channels.portal.services import issue_sign_in_link
from deskloop.channels.widget.identity import WidgetPass
from deskloop.channels.widget.models import EmailConfirmation
from deskloop.channels.widget.services import Visitor
from deskloop.core.errors import NotFound
from deskloop.customers.models import Contact, ContactEmail
from deskloop.customers.services import normalize_email

SECRET_BYTES = 32


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def request_confirmation(*, workspace: Workspace, visitor: Visitor, email: str) -> tuple[str, str]:
    """Mail the portal's sign-in link to ``email`` leading to the confirmation page; the secret the panel keeps
    and the code it shows."""
    address = normalize_email(email)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        confirmation = EmailConfirmation.objects.create(
            workspace=workspace,
            secret_hash=_hash(secret),
            code=code,
            email=address,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=settings.DESKLOOP_PORTAL_LINK_SECONDS),
        )
        issue_sign_in_link(
            workspace=workspace,
            email=address,
            language=visitor.widget_pass.locale,
            next_path=reverse("widget:confirm_email", args=[workspace.slug, confirmation.public_id]),
        )
    return secret, code


def pending_confirmation(*, workspace: Workspace, contact: Contact, public_id: uuid.UUID) -> EmailConfirmation:
    """The confirmation this signed-in contact may answer: for one of their addresses, not expired, not yet used."""
    addresses = ContactEmail.objects.filter(workspace=workspace, contact=contact).values_list("email", flat=True)
    found = EmailConfirmation.objects.filter(
        workspace=workspace,
        public_id=public_id,
        email__in=list(addresses),
        expires_at__gt=timezone.now(),
        claimed_at__isnull=True,
    ).first()
    if found is None:
        raise NotFound(_("This confirmation has expired or was already used. Ask again in the help panel."))
    return found


def confirm(*, workspace: Workspace, contact: Contact, public_id: uuid.UUID) -> None:
    """The signed-in contact says yes: the panel holding the secret may now show their conversations."""
    confirmation = pending_confirmation(workspace=workspace, contact=contact, public_id=public_id)
    EmailConfirmation.objects.filter(pk=confirmation.pk, confirmed_at__isnull=True).update(
        contact=contact, confirmed_at=timezone.now()
    )


def claim(*, workspace: Workspace, visitor: Visitor, secret: str) -> WidgetPass | None:
    """The panel's poll: a pass naming the contact once the confirmation is confirmed (single use: one conditional
    UPDATE, so two polls cannot both get it); None while it waits."""
    now = timezone.now()
    rows = EmailConfirmation.objects.filter(
        workspace=workspace, secret_hash=_hash(secret), expires_at__gt=now, claimed_at__isnull=True
    )
    if not rows.exists():
        raise NotFound(_("This confirmation has expired or was already used. Ask again in the help panel."))
    with transaction.atomic():
        if rows.filter(confirmed_at__isnull=False).update(claimed_at=now) != 1:
            return None
        contact_id = (
            EmailConfirmation.objects.filter(secret_hash=_hash(secret)).values_list("contact_id", flat=True).get()
        )
    return WidgetPass(
        workspace_id=workspace.pk,
        session_key=visitor.widget_pass.session_key,
        locale=visitor.widget_pass.locale,
        visitor=visitor.widget_pass.visitor,
        contact_id=contact_id,
    )


def purge_confirmations(now: dt.datetime | None = None) -> int:
    """Delete confirmations that expired more than a day ago (used or not); returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=1)
    deleted, _by_model = EmailConfirmation.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
