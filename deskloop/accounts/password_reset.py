"""Password reset for agents who forgot theirs: Django's token-based flow, email through ``core.emails``.

The request never says whether an address has an account: the answer and the page are the same either way, and the
limit counts requests per address and per client IP whether or not the address exists. The token is Django's
``default_token_generator``: it stops working once the password changes, after ``PASSWORD_RESET_TIMEOUT``, or after
the next sign-in, so nothing is stored.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.models import User
from deskloop.accounts.services import set_new_password
from deskloop.core.emails import send_templated_email
from deskloop.core.errors import ValidationFailed

RESET_LINK_INVALID = gettext_noop("This reset link is invalid or has expired. Ask for a new one.")
RESET_PASSWORDS_DIFFER = gettext_noop("The two new passwords are not the same.")

# Requests allowed per window, per address and per client IP. A small limiter of its own (``_allow``): when the
# shared throttling module lands, only ``_allow`` changes.
RESET_REQUESTS_PER_ADDRESS = 3
RESET_REQUESTS_PER_IP = 10
RESET_WINDOW_SECONDS = 3600


class ResetThrottled(Exception):
    """Too many reset requests from this address or IP; nothing was sent."""


def request_password_reset(*, email: str, ip: str) -> None:
    """Email a reset link when ``email`` belongs to an active user; do the same visible nothing otherwise.
    Raises ResetThrottled past the limit (counted for every address, existing or not)."""
    address = email.strip().lower()
    if not (
        _allow(f"pw-reset:addr:{address}", RESET_REQUESTS_PER_ADDRESS)
        and _allow(f"pw-reset:ip:{ip}", RESET_REQUESTS_PER_IP)
    ):
        raise ResetThrottled
    user = User.objects.filter(email__iexact=address, is_active=True).first()
    if user is None:
        return
    # After commit and outside any transaction, like the invitation email; a failed send is logged (robust).
    transaction.on_commit(functools.partial(_send_reset_email, user=user), robust=True)


def reset_link(user: User) -> str:
    """The absolute link (SITE_URL, never the request's Host: a forged Host must not receive the token)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse(
        "accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)}
    )
    return settings.SITE_URL.rstrip("/") + path


def user_for_reset_link(*, uidb64: str, token: str) -> User:
    """The user the link is for, or ValidationFailed when it is malformed, used or expired."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        pk = 0
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationFailed(_(RESET_LINK_INVALID), code="invalid_reset_link")
    return user


def reset_password(*, uidb64: str, token: str, new_password: str, new_password_again: str) -> User:
    user = user_for_reset_link(uidb64=uidb64, token=token)
    if new_password != new_password_again:
        raise ValidationFailed(_(RESET_PASSWORDS_DIFFER), field="new_password_again")
    # A new hash: the token was made from the old one, so the link works once.
    return set_new_password(user=user, new_password=new_password)


def _send_reset_email(*, user: User) -> None:
    send_templated_email(
        template_base="accounts/emails/password_reset",
        context={"reset_url": reset_link(user), "hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
        to=[user.email],
        language=user.language or settings.LANGUAGE_CODE,
        time_zone=user.time_zone or "UTC",
    )


def _allow(key: str, limit: int) -> bool:
    """Count one request against ``key``; False once more than ``limit`` were made in the window."""
    if cache.add(key, 1, RESET_WINDOW_SECONDS):
        return True
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, RESET_WINDOW_SECONDS)
        return True
    return int(count) <= limit
