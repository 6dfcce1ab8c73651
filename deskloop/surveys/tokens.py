"""The one-click link's token of a survey invitation.

The token is an HMAC (SECRET_KEY) of the invitation's random nonce: the email channel derives it when it writes the
email, after the invitation committed, without the token ever being stored; the invitation is found by the token's
SHA-256. Knowing a token answers that one invitation (one contact, one survey) and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings

from deskloop.surveys.models import SurveyInvitation

TOKEN_CHARS = 32


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for_nonce(nonce: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"deskloop.survey:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:TOKEN_CHARS]


def invitation_token(invitation: SurveyInvitation) -> str:
    return token_for_nonce(invitation.nonce)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
