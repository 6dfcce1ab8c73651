"""Who the widget's visitor is: the host application's signed statement about its user, and the widget pass that
the panel carries from one request to the next.

The host application signs its user's id and email (optionally name, organization id, plan and MRR) with the
workspace's widget secret (HMAC-SHA256 over ``canonical_identity``; docs/widget.md has the exact string and a
Python and a Node example). The signature is checked in constant time, and a statement older or newer than
``MAX_SKEW`` is refused: a signature copied out of a page stops working within minutes, whoever holds it.

The panel lives in an iframe on Deskloop's origin inside someone else's site, where browsers increasingly refuse
third-party cookies; so the panel's credential is not a cookie but a *widget pass*: a short-lived value signed with
SECRET_KEY (``django.core.signing``), handed to the panel's JavaScript in the page and sent back in a request
header. It names the workspace, the request session and, once identified, the contact. Nothing ambient (no
cookie) authorizes a widget request, which is also why the widget's POST endpoints need no CSRF cookie: a page of
another site cannot read the pass and cannot send the header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core import signing
from django.utils.translation import gettext as _

from deskloop.core.errors import DomainError, PermissionDenied, ValidationFailed

# How far the host's timestamp may be from our clock, either way.
MAX_SKEW = 10 * 60
# How long a pass lets the panel act without the host signing again (a long support conversation fits in it).
PASS_MAX_AGE = 2 * 60 * 60
PASS_SALT = "deskloop.widget.pass"  # noqa: S105 (a signing namespace, not a secret)
PASS_HEADER = "X-Deskloop-Widget"  # noqa: S105 (a header name)
CANONICAL_PREFIX = "deskloop-widget-v1"
# In this order, one "key=value" line each after the prefix; absent optional ones are empty values.
SIGNED_FIELDS = ("workspace", "user_id", "email", "name", "organization_id", "plan", "mrr", "timestamp")
FIELD_MAX = 254


class Unauthenticated(DomainError):
    http_status = 401
    code = "unauthenticated"


@dataclass(frozen=True)
class HostIdentity:
    """What the host application vouched for, after its signature was checked."""

    user_id: str
    email: str
    name: str = ""
    organization_id: str = ""
    plan: str = ""
    mrr: Decimal | None = None


def canonical_identity(*, workspace_slug: str, claims: dict[str, str]) -> str:
    """The exact text that is signed. Values never hold a line break (``verify_identity`` refuses them), so the
    lines cannot be shifted into one another."""
    values = {**{name: str(claims.get(name, "") or "") for name in SIGNED_FIELDS}, "workspace": workspace_slug}
    return "\n".join([CANONICAL_PREFIX, *(f"{name}={values[name]}" for name in SIGNED_FIELDS)])


def sign_identity(*, secret: str, workspace_slug: str, claims: dict[str, str]) -> str:
    """The signature a host application computes (used by the demo host page and the tests)."""
    text = canonical_identity(workspace_slug=workspace_slug, claims=claims)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _clean_claims(raw: dict[str, object]) -> dict[str, str]:
    claims: dict[str, str] = {}
    for name in (*SIGNED_FIELDS, "signature"):
        value = raw.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str | int):
            raise ValidationFailed(_("The identity field “%(field)s” must be text.") % {"field": name}, field=name)
        text = str(value)
        if len(text) > FIELD_MAX or "\n" in text or "\r" in text:
            raise ValidationFailed(_("The identity field “%(field)s” is not valid.") % {"field": name}, field=name)
        claims[name] = text.strip()
    return claims


def verify_identity(
    *, workspace_slug: str, secret: str, raw: dict[str, object], now: float | None = None
) -> HostIdentity:
    """The host's statement about its user, or a refusal: unsigned or wrongly signed (another workspace's secret,
    a changed field), missing id or email, or a timestamp more than ``MAX_SKEW`` away from now."""
    claims = _clean_claims(raw)
    if not secret:
        raise PermissionDenied(_("This workspace does not accept identified visitors in its widget."))
    if not claims["user_id"] or not claims["email"]:
        raise ValidationFailed(_("An identity needs a user id and an email."), field="email")
    expected = sign_identity(secret=secret, workspace_slug=workspace_slug, claims=claims)
    # Compared in constant time: an attacker must not learn how many leading characters of a guess were right.
    if not hmac.compare_digest(expected.encode(), claims["signature"].lower().encode()):
        raise Unauthenticated(_("The identity signature is not valid."))
    try:
        stamp = int(claims["timestamp"])
    except ValueError:
        raise ValidationFailed(_("The identity timestamp must be whole seconds."), field="timestamp") from None
    if abs((time.time() if now is None else now) - stamp) > MAX_SKEW:
        raise Unauthenticated(_("The identity signature has expired. Reload the page to sign again."))
    mrr: Decimal | None = None
    if claims["mrr"]:
        try:
            mrr = Decimal(claims["mrr"])
        except InvalidOperation:
            raise ValidationFailed(_("MRR must be a number."), field="mrr") from None
    return HostIdentity(
        user_id=claims["user_id"],
        email=claims["email"],
        name=claims["name"],
        organization_id=claims["organization_id"],
        plan=claims["plan"],
        mrr=mrr,
    )


@dataclass(frozen=True)
class WidgetPass:
    """The panel's credential: which workspace, which request session, and (once identified) which contact."""

    workspace_id: int
    session_key: str
    locale: str
    visitor: str
    contact_id: int | None = None

    def dumps(self) -> str:
        return signing.dumps(
            {"w": self.workspace_id, "s": self.session_key, "l": self.locale, "v": self.visitor, "c": self.contact_id},
            salt=PASS_SALT,
        )


def new_visitor_id() -> str:
    return secrets.token_urlsafe(18)


def load_pass(value: str, *, workspace_id: int) -> WidgetPass:
    """The pass the panel sent, or ``Unauthenticated`` (missing, forged, expired, or another workspace's)."""
    try:
        data = signing.loads(value, salt=PASS_SALT, max_age=PASS_MAX_AGE)
    except signing.BadSignature:
        raise Unauthenticated(_("The help panel has expired. Close it and open it again.")) from None
    if not isinstance(data, dict) or data.get("w") != workspace_id:
        raise Unauthenticated(_("The help panel has expired. Close it and open it again."))
    contact = data.get("c")
    return WidgetPass(
        workspace_id=workspace_id,
        session_key=str(data.get("s", "")),
        locale=str(data.get("l", "en")),
        visitor=str(data.get("v", "")),
        contact_id=int(contact) if isinstance(contact, int) else None,
    )
