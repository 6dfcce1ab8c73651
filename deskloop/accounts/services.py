"""Writes for workspaces, agents, teams, invitations and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from deskloop.accounts.models import ADMIN_ROLES, ALL_ROLES, Agent, ApiToken, Invitation, Role, Team, User, Workspace
from deskloop.core.errors import NotFound, PermissionDenied, ValidationFailed

API_TOKEN_PREFIX = "dl_"  # noqa: S105 (a prefix, not a secret)
INVITATION_DAYS = 7


def hash_secret(secret: str) -> str:
    # Tokens are 32 random bytes, so a fast hash is enough (no dictionary to attack, unlike passwords).
    return hashlib.sha256(secret.encode()).hexdigest()


def create_workspace(*, name: str, slug: str = "", ticket_prefix: str = "") -> Workspace:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A workspace needs a name."), field="name")
    slug = slugify(slug or name)[:60]
    if not slug:
        raise ValidationFailed(_("A workspace needs a slug of letters and digits."), field="slug")
    if Workspace.objects.filter(slug=slug).exists():
        raise ValidationFailed(_("The slug “%(slug)s” is taken.") % {"slug": slug}, field="slug")
    prefix = (ticket_prefix or slug.split("-")[0]).upper()[:20]
    return Workspace.objects.create(name=name, slug=slug, ticket_prefix=prefix)


def add_agent(
    *,
    workspace: Workspace,
    email: str,
    name: str = "",
    role: str = Role.AGENT,
    password: str | None = None,
    language: str = "en",
    timezone_name: str = "UTC",
) -> Agent:
    """Add a person to a workspace with a role, creating their user if they have none yet."""
    if role not in ALL_ROLES:
        raise ValidationFailed(_("Unknown role “%(role)s”.") % {"role": role}, field="role")
    address = (email or "").strip().lower()
    with transaction.atomic():
        user = User.objects.filter(email=address).first()
        if user is None:
            user = User.objects.create_user(address, password, name=name, language=language, time_zone=timezone_name)
        agent, created = Agent.objects.get_or_create(workspace=workspace, user=user, defaults={"role": role})
        if not created and agent.role != role:
            agent.role = role
            agent.save(update_fields=["role"])
    return agent


def set_agent_role(*, actor: Agent, agent: Agent, role: str) -> Agent:
    if actor.role not in ADMIN_ROLES:
        raise PermissionDenied(_("Only admins can change roles."))
    if agent.workspace_id != actor.workspace_id:
        raise NotFound(_("Agent not found."))
    if role not in ALL_ROLES:
        raise ValidationFailed(_("Unknown role “%(role)s”.") % {"role": role}, field="role")
    if agent.role == Role.OWNER and role != Role.OWNER:
        owners = Agent.objects.filter(workspace_id=agent.workspace_id, role=Role.OWNER, is_active=True).count()
        if owners <= 1:
            raise ValidationFailed(_("A workspace needs at least one owner."), field="role")
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner can make someone an owner."))
    agent.role = role
    agent.save(update_fields=["role"])
    return agent


def create_team(*, workspace: Workspace, name: str, members: list[Agent] | None = None) -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A team needs a name."), field="name")
    if Team.objects.filter(workspace=workspace, name__iexact=name).exists():
        raise ValidationFailed(_("A team with this name already exists."), field="name")
    team = Team.objects.create(workspace=workspace, name=name)
    if members:
        if any(m.workspace_id != workspace.pk for m in members):
            raise ValidationFailed(_("Team members must be agents of this workspace."), field="members")
        team.members.add(*members)
    return team


def invite_agent(*, actor: Agent, email: str, role: str = Role.AGENT) -> tuple[Invitation, str]:
    """Create an invitation; returns it and the secret token for the emailed link (stored only hashed)."""
    if actor.role not in ADMIN_ROLES:
        raise PermissionDenied(_("Only admins can invite agents."))
    if role not in ALL_ROLES or (role == Role.OWNER and actor.role != Role.OWNER):
        raise ValidationFailed(_("You cannot invite with this role."), field="role")
    address = (email or "").strip().lower()
    if "@" not in address:
        raise ValidationFailed(_("“%(email)s” is not a valid email address.") % {"email": email}, field="email")
    if Agent.objects.filter(workspace_id=actor.workspace_id, user__email=address).exists():
        raise ValidationFailed(_("This person is already an agent here."), field="email")
    secret = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        workspace_id=actor.workspace_id,
        email=address,
        role=role,
        token_hash=hash_secret(secret),
        invited_by=actor,
        expires_at=timezone.now() + dt.timedelta(days=INVITATION_DAYS),
    )
    return invitation, secret


def accept_invitation(*, secret: str, name: str, password: str) -> Agent:
    invitation = Invitation.objects.filter(token_hash=hash_secret(secret)).select_related("workspace").first()
    now = timezone.now()
    if invitation is None or invitation.revoked_at or invitation.accepted_at or invitation.expires_at < now:
        raise ValidationFailed(
            _("This invitation is no longer valid. Ask an admin for a new one."), code="invalid_invitation"
        )
    if not User.objects.filter(email=invitation.email).exists():
        try:
            validate_password(password)
        except ValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from exc
    with transaction.atomic():
        agent = add_agent(
            workspace=invitation.workspace, email=invitation.email, name=name, role=invitation.role, password=password
        )
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
    return agent


def create_api_token(*, agent: Agent, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is shown to the agent once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the token a name so you can recognise it later."), field="name")
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        workspace_id=agent.workspace_id,
        agent=agent,
        name=name[:100],
        prefix=secret[:10],
        token_hash=hash_secret(secret),
    )
    return token, secret


def revoke_api_token(*, actor: Agent, token: ApiToken) -> ApiToken:
    if token.workspace_id != actor.workspace_id or (token.agent_id != actor.pk and actor.role not in ADMIN_ROLES):
        raise NotFound(_("Token not found."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def authenticate_api_token(secret: str) -> ApiToken | None:
    """The active token for this secret, with its agent and workspace; records when it was last used."""
    if not secret or not secret.startswith(API_TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("agent__user", "agent__workspace", "workspace")
        .filter(
            token_hash=hash_secret(secret), revoked_at__isnull=True, agent__is_active=True, agent__user__is_active=True
        )
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Writing on every call would make each API read a write; a minute's precision is what the UI shows.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def login_attempts_key(email: str, ip: str) -> str:
    return "login-fail:" + hash_secret(f"{email.strip().lower()}|{ip}")


def login_is_throttled(*, email: str, ip: str) -> bool:
    return int(cache.get(login_attempts_key(email, ip), 0)) >= settings.DESKLOOP_LOGIN_ATTEMPTS


def record_failed_login(*, email: str, ip: str) -> None:
    key = login_attempts_key(email, ip)
    window = settings.DESKLOOP_LOGIN_WINDOW_SECONDS
    if not cache.add(key, 1, window):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, window)


def clear_failed_logins(*, email: str, ip: str) -> None:
    cache.delete(login_attempts_key(email, ip))
