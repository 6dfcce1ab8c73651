"""The anonymous help-center visitor: a random id in an HttpOnly cookie, so their searches and votes form one request
session of the self-service funnel. The id is stored only hashed (``request_sessions.visitor_hash``)."""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

COOKIE_NAME = "deskloop_visitor"
COOKIE_MAX_AGE = 365 * 24 * 3600
_VALID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def visitor_id(request: HttpRequest) -> str:
    """The visitor's id from the cookie; "" when missing or not one we made."""
    value = request.COOKIES.get(COOKIE_NAME, "")
    return value if _VALID.match(value) else ""


def new_visitor_id() -> str:
    return secrets.token_urlsafe(24)


def remember_visitor(response: HttpResponseBase, visitor: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        visitor,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
