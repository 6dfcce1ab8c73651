"""Writes for workspaces, agents, teams, invitations, API tokens and an agent's own profile."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import logging
import re
import secrets
import zoneinfo
from collections.abc import Callable, Sequence

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import ADMINS_ONLY, Capability, require_admin, require_role
from deskloop.accounts.models import (
    ADMIN_ROLES,
    ALL_ROLES,
    Agent,
    ApiToken,
    Installation,
    Invitation,
    Role,
    Team,
    User,
    Workspace,
)
from deskloop.accounts.preferences import start_view_choices
from deskloop.core.emails import send_templated_email
from deskloop.core.errors import NotFound, PermissionDenied, ValidationFailed
from deskloop.core.plain_sql import JoinedRows

logger = logging.getLogger(__name__)

API_TOKEN_PREFIX = "dl_"  # noqa: S105 (a prefix, not a secret)
INVITATION_DAYS = 7
NAME_MAX = 200
TEAM_NAME_MAX = 100
TOKEN_NAME_MAX = 100
# Letters, digits and dashes: it sits inside "[PREFIX #1234]" in email subjects, which threading parses back.
TICKET_PREFIX_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")

OWNERS_ONLY_PRIVATE_TARGETS = gettext_noop("Only an owner can let webhooks reach private network addresses.")
ROLES_ADMINS_ONLY = gettext_noop("Only admins can change roles.")
UNKNOWN_ROLE = gettext_noop("Unknown role “%(role)s”.")
UNKNOWN_START_VIEW = gettext_noop("Choose one of the listed views.")
LAST_OWNER = gettext_noop("A workspace needs at least one owner.")
OWNER_ROLE_NEEDS_OWNER = gettext_noop("Only an owner can make someone an owner.")
OWNER_CHANGED_BY_OWNER = gettext_noop("Only an owner can change another owner's role.")
AGENT_NOT_FOUND = gettext_noop("Agent not found.")
CANNOT_DEACTIVATE_SELF = gettext_noop("You cannot deactivate yourself.")
OWNER_DEACTIVATED_BY_OWNER = gettext_noop("Only an owner can deactivate an owner.")
LAST_OWNER_DEACTIVATED = gettext_noop("The last owner cannot be deactivated.")

NAME_REQUIRED = gettext_noop("Enter your name.")
NAME_TOO_LONG = gettext_noop("A name can be at most %(max)d characters.")
UNKNOWN_LANGUAGE = gettext_noop("Choose one of the offered languages.")
UNKNOWN_TIME_ZONE = gettext_noop("“%(tz)s” is not a known time zone. Use a name like Europe/Madrid.")
WRONG_CURRENT_PASSWORD = gettext_noop("Your current password is not correct.")

WORKSPACE_NAME_REQUIRED = gettext_noop("A workspace needs a name.")
BAD_TICKET_PREFIX = gettext_noop(
    "The ticket prefix must be 1 to 20 letters, digits or dashes, starting with a letter or digit."
)

TEAM_NAME_REQUIRED = gettext_noop("A team needs a name.")
TEAM_NAME_TOO_LONG = gettext_noop("A team name can be at most %(max)d characters.")
TEAM_NAME_TAKEN = gettext_noop("A team with this name already exists.")
TEAM_MEMBERS_FOREIGN = gettext_noop("Team members must be agents of this workspace.")
TEAM_NOT_FOUND = gettext_noop("Team not found.")

INVITES_ADMINS_ONLY = gettext_noop("Only admins can invite agents.")
INVITE_ROLE_REFUSED = gettext_noop("You cannot invite with this role.")
INVALID_EMAIL = gettext_noop("“%(email)s” is not a valid email address.")
ALREADY_AN_AGENT = gettext_noop("This person is already an agent here.")
DEACTIVATED_AGENT = gettext_noop("This person was deactivated. Reactivate them on the Agents page instead.")
ALREADY_INVITED = gettext_noop("This address already has a pending invitation. Resend it instead.")
INVITATION_NOT_FOUND = gettext_noop("Invitation not found.")
INVITATION_NOT_PENDING = gettext_noop("Only a pending invitation can be resent or revoked.")
INVITATION_UNKNOWN = gettext_noop("This invitation link is not valid. Check that you copied the whole link.")
INVITATION_EXPIRED = gettext_noop("This invitation has expired. Ask an admin to send you a new one.")
INVITATION_REVOKED = gettext_noop("This invitation was withdrawn. Ask an admin if you still need access.")
INVITATION_USED = gettext_noop("This invitation has already been used. Sign in with your email and password.")
INVITATION_NEEDS_SIGN_IN = gettext_noop("You already have a Deskloop account. Sign in to accept the invitation.")
INVITATION_OTHER_PERSON = gettext_noop(
    "This invitation was sent to %(email)s. Sign out and open the link again, or sign in as that person."
)

TOKEN_NAME_REQUIRED = gettext_noop("Give the token a name so you can recognise it later.")
TOKEN_NAME_TOO_LONG = gettext_noop("A token name can be at most %(max)d characters.")
TOKEN_NOT_FOUND = gettext_noop("Token not found.")
TOKEN_AGENT_INACTIVE = gettext_noop("A deactivated agent cannot have API tokens.")


def hash_secret(secret: str) -> str:
    # Tokens are 32 random bytes, so a fast hash is enough (no dictionary to attack, unlike passwords).
    return hashlib.sha256(secret.encode()).hexdigest()


# ---- workspaces -------------------------------------------------------------------------------------------------
def lock_workspace_creation() -> None:
    """Inside the caller's transaction: wait until no other transaction is opening a workspace, and keep the others
    waiting until this one ends. The row is written if missing (a fresh database, or one a test flushed)."""
    Installation.objects.bulk_create([Installation(id=1)], ignore_conflicts=True)
    Installation.objects.select_for_update().get(id=1)


def create_workspace(*, name: str, slug: str = "", ticket_prefix: str = "") -> Workspace:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_(WORKSPACE_NAME_REQUIRED), field="name")
    slug = slugify(slug or name)[:60]
    if not slug:
        raise ValidationFailed(_("A workspace needs a slug of letters and digits."), field="slug")
    if Workspace.objects.filter(slug=slug).exists():
        raise ValidationFailed(_("The slug “%(slug)s” is taken.") % {"slug": slug}, field="slug")
    prefix = (ticket_prefix or slug.split("-")[0]).upper()[:20]
    return Workspace.objects.create(name=name, slug=slug, ticket_prefix=prefix)


@functools.cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def clean_time_zone(name: str, *, field: str = "time_zone") -> str:
    """An IANA time zone name known to zoneinfo ("Europe/Madrid"), or a ValidationFailed."""
    cleaned = (name or "").strip()
    if cleaned not in _known_time_zones():
        raise ValidationFailed(_(UNKNOWN_TIME_ZONE) % {"tz": cleaned}, field=field)
    return cleaned


def clean_language(code: str, *, field: str = "language") -> str:
    if code not in {language for language, _name in settings.LANGUAGES}:
        raise ValidationFailed(_(UNKNOWN_LANGUAGE), field=field)
    return code


def clean_ticket_prefix(prefix: str) -> str:
    cleaned = (prefix or "").strip().upper()
    if not TICKET_PREFIX_PATTERN.match(cleaned):
        raise ValidationFailed(_(BAD_TICKET_PREFIX), field="ticket_prefix")
    return cleaned


def update_workspace(
    *, actor: Agent, name: str, ticket_prefix: str, default_language: str, time_zone: str
) -> Workspace:
    """Rename the workspace and set what new mail and new people start with. Admins and owners only."""
    require_admin(actor)
    cleaned_name = " ".join((name or "").split())
    if not cleaned_name:
        raise ValidationFailed(_(WORKSPACE_NAME_REQUIRED), field="name")
    if len(cleaned_name) > NAME_MAX:
        raise ValidationFailed(_(NAME_TOO_LONG) % {"max": NAME_MAX}, field="name")
    workspace = actor.workspace
    workspace.name = cleaned_name
    workspace.ticket_prefix = clean_ticket_prefix(ticket_prefix)
    workspace.default_language = clean_language(default_language, field="default_language")
    workspace.time_zone = clean_time_zone(time_zone)
    workspace.save(update_fields=["name", "ticket_prefix", "default_language", "time_zone"])
    return workspace


def set_private_webhook_targets(*, actor: Agent, allowed: bool) -> Workspace:
    """The SSRF override for outbound webhooks. Owner only on the workspace page: it opens the network."""
    require_role(actor, Capability.OWN, OWNERS_ONLY_PRIVATE_TARGETS)
    workspace = actor.workspace
    workspace.allow_private_webhook_targets = allowed
    workspace.save(update_fields=["allow_private_webhook_targets"])
    return workspace


# ---- an agent's own profile --------------------------------------------------------------------------------------
def update_profile(*, user: User, name: str, language: str, time_zone: str) -> User:
    """The signed-in person's name, UI language and time zone (the middleware applies both on the next request)."""
    cleaned_name = " ".join((name or "").split())
    if not cleaned_name:
        raise ValidationFailed(_(NAME_REQUIRED), field="name")
    if len(cleaned_name) > NAME_MAX:
        raise ValidationFailed(_(NAME_TOO_LONG) % {"max": NAME_MAX}, field="name")
    user.name = cleaned_name
    user.language = clean_language(language)
    user.time_zone = clean_time_zone(time_zone)
    user.save(update_fields=["name", "language", "time_zone"])
    return user


def set_start_view(*, agent: Agent, view: str) -> Agent:
    """The inbox view the agent's inbox opens with ("" for the default)."""
    if view and view not in dict(start_view_choices(agent)):
        raise ValidationFailed(_(UNKNOWN_START_VIEW), field="start_view")
    if agent.start_view != view:
        agent.start_view = view
        agent.save(update_fields=["start_view"])
    return agent


def change_password(*, user: User, current_password: str, new_password: str) -> User:
    """Precondition: the caller keeps the session valid afterwards (``update_session_auth_hash``)."""
    if not user.check_password(current_password or ""):
        raise ValidationFailed(_(WRONG_CURRENT_PASSWORD), field="current_password")
    return set_new_password(user=user, new_password=new_password)


def set_new_password(*, user: User, new_password: str) -> User:
    """The one way a password is set once the caller has proved the right to (the current password, a reset
    link): validated, stored, and the user's API tokens revoked with the old password."""
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field="new_password") from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoke_api_tokens_of(user)
    return user


def revoke_api_tokens_of(user: User) -> int:
    """Revoke every API token of the user's agents, in all workspaces; returns how many were active.

    A changed password ends the user's other sessions, and whoever changes it (after a leak, a departure) means
    the same for the tokens made under the old one: a token is a password that does not expire. Every path that
    sets a new password (change, reset) calls this."""
    return ApiToken.objects.filter(agent__user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


# ---- agents ------------------------------------------------------------------------------------------------------
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
        raise ValidationFailed(_(UNKNOWN_ROLE) % {"role": role}, field="role")
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


def _active_owner_ids(workspace_id: int) -> list[int]:
    # Locked so two owners demoting each other at once cannot both see "there is another owner".
    # Always taken before the changed agent's own row, in id order, so concurrent changes cannot deadlock.
    return list(
        Agent.objects.select_for_update()
        .filter(workspace_id=workspace_id, role=Role.OWNER, is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )


def set_agent_role(*, actor: Agent, agent: Agent, role: str) -> Agent:
    """Change a member's role. Owners are changed only by owners, and the last active owner stays an owner."""
    require_admin(actor, ROLES_ADMINS_ONLY)
    if agent.workspace_id != actor.workspace_id:
        raise NotFound(_(AGENT_NOT_FOUND))
    if role not in ALL_ROLES:
        raise ValidationFailed(_(UNKNOWN_ROLE) % {"role": role}, field="role")
    if role == Role.OWNER:
        require_role(actor, Capability.OWN, OWNER_ROLE_NEEDS_OWNER)
    if agent.role == Role.OWNER and role != Role.OWNER:
        require_role(actor, Capability.OWN, OWNER_CHANGED_BY_OWNER)
    with transaction.atomic():
        owner_ids = _active_owner_ids(agent.workspace_id)
        locked = Agent.objects.select_for_update().get(pk=agent.pk)
        if locked.role == Role.OWNER and role != Role.OWNER and owner_ids == [locked.pk]:
            raise ValidationFailed(_(LAST_OWNER), field="role")
        locked.role = role
        locked.save(update_fields=["role"])
    agent.role = role
    return agent


def set_agent_active(*, actor: Agent, agent: Agent, active: bool) -> Agent:
    """Deactivate (they can no longer sign in to this workspace or use their API tokens) or reactivate a member.

    Their tickets stay assigned to them and their history keeps their name; nothing is deleted.
    """
    require_admin(actor)
    if agent.workspace_id != actor.workspace_id:
        raise NotFound(_(AGENT_NOT_FOUND))
    if not active and agent.pk == actor.pk:
        raise ValidationFailed(_(CANNOT_DEACTIVATE_SELF), field="is_active")
    if agent.role == Role.OWNER:
        require_role(actor, Capability.OWN, OWNER_DEACTIVATED_BY_OWNER)
    with transaction.atomic():
        owner_ids = _active_owner_ids(agent.workspace_id)
        locked = Agent.objects.select_for_update().get(pk=agent.pk)
        if locked.is_active == active:
            return locked
        if not active and locked.role == Role.OWNER and owner_ids == [locked.pk]:
            raise ValidationFailed(_(LAST_OWNER_DEACTIVATED), field="is_active")
        locked.is_active = active
        locked.save(update_fields=["is_active"])
    agent.is_active = active
    return agent


# ---- teams -------------------------------------------------------------------------------------------------------
def _clean_team_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValidationFailed(_(TEAM_NAME_REQUIRED), field="name")
    if len(cleaned) > TEAM_NAME_MAX:
        raise ValidationFailed(_(TEAM_NAME_TOO_LONG) % {"max": TEAM_NAME_MAX}, field="name")
    return cleaned


def _check_members(workspace_id: int, members: Sequence[Agent]) -> None:
    if any(member.workspace_id != workspace_id for member in members):
        raise ValidationFailed(_(TEAM_MEMBERS_FOREIGN), field="members")


def create_team(
    *, workspace: Workspace, name: str, members: Sequence[Agent] | None = None, actor: Agent | None = None
) -> Team:
    """A new team. ``actor`` is the admin doing it from the UI; setup code and commands pass none."""
    if actor is not None:
        require_admin(actor)
        if actor.workspace_id != workspace.pk:
            raise PermissionDenied(_(ADMINS_ONLY))
    cleaned = _clean_team_name(name)
    _check_members(workspace.pk, members or [])
    try:
        with transaction.atomic():
            if Team.objects.filter(workspace=workspace, name__iexact=cleaned).exists():
                raise ValidationFailed(_(TEAM_NAME_TAKEN), field="name")
            team = Team.objects.create(workspace=workspace, name=cleaned)
            if members:
                team.members.add(*members)
    except IntegrityError as exc:  # a concurrent create won the unique (workspace, lower(name)) constraint
        raise ValidationFailed(_(TEAM_NAME_TAKEN), field="name") from exc
    return team


def rename_team(*, actor: Agent, team: Team, name: str) -> Team:
    require_admin(actor)
    if team.workspace_id != actor.workspace_id:
        raise NotFound(_(TEAM_NOT_FOUND))
    cleaned = _clean_team_name(name)
    try:
        with transaction.atomic():
            if Team.objects.filter(workspace_id=team.workspace_id, name__iexact=cleaned).exclude(pk=team.pk).exists():
                raise ValidationFailed(_(TEAM_NAME_TAKEN), field="name")
            team.name = cleaned
            team.save(update_fields=["name"])
    except IntegrityError as exc:
        raise ValidationFailed(_(TEAM_NAME_TAKEN), field="name") from exc
    return team


def set_team_members(*, actor: Agent, team: Team, members: Sequence[Agent]) -> Team:
    """Replace the team's members with ``members`` (agents of the same workspace)."""
    require_admin(actor)
    if team.workspace_id != actor.workspace_id:
        raise NotFound(_(TEAM_NOT_FOUND))
    _check_members(team.workspace_id, members)
    with transaction.atomic():
        team.members.set(members)
    return team


# ---- invitations -------------------------------------------------------------------------------------------------
class InvitationState(enum.StrEnum):
    PENDING = "pending"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ACCEPTED = "accepted"


def invitation_state(invitation: Invitation, now: dt.datetime | None = None) -> InvitationState:
    if invitation.accepted_at is not None:
        return InvitationState.ACCEPTED
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    if invitation.expires_at <= (now or timezone.now()):
        return InvitationState.EXPIRED
    return InvitationState.PENDING


_STATE_MESSAGES = {
    InvitationState.EXPIRED: ("invitation_expired", INVITATION_EXPIRED),
    InvitationState.REVOKED: ("invitation_revoked", INVITATION_REVOKED),
    InvitationState.ACCEPTED: ("invitation_used", INVITATION_USED),
}


def invitation_refusal(state: InvitationState) -> str:
    """Why an invitation in this state cannot be accepted, for the person holding the link."""
    return _(_STATE_MESSAGES[state][1]) if state in _STATE_MESSAGES else ""


def accept_url(secret: str) -> str:
    """The absolute link in the email. SITE_URL, not the request's host: a forged Host header must not
    turn the link into one that sends the secret to someone else's server."""
    return settings.SITE_URL.rstrip("/") + reverse("accounts:accept_invitation", kwargs={"token": secret})


def send_invitation_email(*, invitation_id: int, secret: str) -> None:
    """Email the invitation link. The secret is passed in because only its hash is stored."""
    invitation = Invitation.objects.select_related("workspace", "invited_by__user").filter(pk=invitation_id).first()
    if invitation is None or invitation_state(invitation) != InvitationState.PENDING:
        return
    workspace = invitation.workspace
    send_templated_email(
        template_base="accounts/emails/invitation",
        context={
            "workspace_name": workspace.name,
            "inviter_name": invitation.invited_by.name if invitation.invited_by else "",
            # The lazy label, so it is translated in the email's language rather than the inviter's.
            "role": Role(invitation.role).label,
            "accept_url": accept_url(secret),
            "expires_at": invitation.expires_at,
            "time_zone": workspace.time_zone or "UTC",
        },
        to=[invitation.email],
        language=workspace.default_language or settings.LANGUAGE_CODE,
        time_zone=workspace.time_zone or "UTC",
        reply_to=[invitation.invited_by.user.email] if invitation.invited_by else [],
    )


def _send_after_commit(invitation: Invitation, secret: str) -> None:
    # After commit, so no mail goes out for an invitation that rolled back; outside the transaction, so a slow
    # mail server never holds locks. A failed send is logged and the admin can resend from the list.
    def send() -> None:
        send_invitation_email(invitation_id=invitation.pk, secret=secret)

    transaction.on_commit(send, robust=True)


def _new_invitation_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def invite_agent(*, actor: Agent, email: str, role: str = Role.AGENT) -> tuple[Invitation, str]:
    """Create an invitation and email its link; returns it and the secret token (stored only hashed)."""
    require_admin(actor, INVITES_ADMINS_ONLY)
    if role not in ALL_ROLES or (role == Role.OWNER and actor.role != Role.OWNER):
        raise ValidationFailed(_(INVITE_ROLE_REFUSED), field="role")
    address = (email or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ValidationFailed(_(INVALID_EMAIL) % {"email": email}, field="email") from exc
    existing = Agent.objects.filter(workspace_id=actor.workspace_id, user__email=address).first()
    if existing is not None:
        raise ValidationFailed(_(ALREADY_AN_AGENT if existing.is_active else DEACTIVATED_AGENT), field="email")
    now = timezone.now()
    with transaction.atomic():
        # The workspace row serializes invitations, so two admins inviting the same address at once make one.
        Workspace.objects.select_for_update().filter(pk=actor.workspace_id).first()
        pending = Invitation.objects.filter(
            workspace_id=actor.workspace_id,
            email=address,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
        if pending.exists():
            raise ValidationFailed(_(ALREADY_INVITED), field="email")
        secret, token_hash = _new_invitation_secret()
        invitation = Invitation.objects.create(
            workspace_id=actor.workspace_id,
            email=address,
            role=role,
            token_hash=token_hash,
            invited_by=actor,
            expires_at=now + dt.timedelta(days=INVITATION_DAYS),
        )
        _send_after_commit(invitation, secret)
    return invitation, secret


def _pending_for_admin(actor: Agent, invitation: Invitation) -> Invitation:
    require_admin(actor, INVITES_ADMINS_ONLY)
    if invitation.workspace_id != actor.workspace_id:
        raise NotFound(_(INVITATION_NOT_FOUND))
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at is not None or locked.revoked_at is not None:
        raise ValidationFailed(_(INVITATION_NOT_PENDING), code="invitation_not_pending")
    return locked


def resend_invitation(*, actor: Agent, invitation: Invitation) -> tuple[Invitation, str]:
    """Email a fresh link valid for another INVITATION_DAYS. The old link stops working: its secret was
    never stored, so the only way to send a link again is to make a new one. Expired invitations may be resent."""
    with transaction.atomic():
        locked = _pending_for_admin(actor, invitation)
        secret, token_hash = _new_invitation_secret()
        locked.token_hash = token_hash
        locked.expires_at = timezone.now() + dt.timedelta(days=INVITATION_DAYS)
        locked.save(update_fields=["token_hash", "expires_at"])
        _send_after_commit(locked, secret)
    return locked, secret


def revoke_invitation(*, actor: Agent, invitation: Invitation) -> Invitation:
    with transaction.atomic():
        locked = _pending_for_admin(actor, invitation)
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    return locked


def find_invitation(secret: str) -> Invitation | None:
    """The invitation a link's secret belongs to, whatever its state (the accept page explains each state)."""
    if not secret:
        return None
    return Invitation.objects.select_related("workspace").filter(token_hash=hash_secret(secret)).first()


def _usable_invitation(secret: str) -> Invitation:
    """Lock and return the pending invitation for ``secret``, or say clearly why it cannot be used."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("workspace")
        .filter(token_hash=hash_secret(secret))
        .first()
        if secret
        else None
    )
    if invitation is None:
        raise ValidationFailed(_(INVITATION_UNKNOWN), code="invitation_unknown")
    state = invitation_state(invitation)
    if state != InvitationState.PENDING:
        code, message = _STATE_MESSAGES[state]
        raise ValidationFailed(_(message), code=code)
    return invitation


def _join(invitation: Invitation, user: User) -> Agent:
    agent, created = Agent.objects.get_or_create(
        workspace=invitation.workspace, user=user, defaults={"role": invitation.role}
    )
    if not created:
        agent.role = invitation.role
        agent.is_active = True
        agent.save(update_fields=["role", "is_active"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return agent


def accept_invitation(*, secret: str, name: str, password: str) -> Agent:
    """A new person accepts: they get a user with this name and password and join the workspace.

    Someone who already has a user signs in first and uses ``accept_invitation_as`` (the link alone must not
    attach an existing account to a workspace without its password).
    """
    with transaction.atomic():
        invitation = _usable_invitation(secret)
        if User.objects.filter(email=invitation.email).exists():
            raise ValidationFailed(_(INVITATION_NEEDS_SIGN_IN), code="sign_in_required")
        cleaned_name = " ".join((name or "").split())
        if not cleaned_name:
            raise ValidationFailed(_(NAME_REQUIRED), field="name")
        if len(cleaned_name) > NAME_MAX:
            raise ValidationFailed(_(NAME_TOO_LONG) % {"max": NAME_MAX}, field="name")
        candidate = User(email=invitation.email, name=cleaned_name)
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from exc
        workspace = invitation.workspace
        user = User.objects.create_user(
            invitation.email,
            password,
            name=cleaned_name,
            language=workspace.default_language or settings.LANGUAGE_CODE,
            time_zone=workspace.time_zone or "UTC",
        )
        return _join(invitation, user)


def accept_invitation_as(*, secret: str, user: User) -> Agent:
    """A signed-in person accepts an invitation sent to their own address."""
    with transaction.atomic():
        invitation = _usable_invitation(secret)
        if user.email.lower() != invitation.email.lower():
            raise PermissionDenied(
                _(INVITATION_OTHER_PERSON) % {"email": invitation.email}, code="invitation_other_person"
            )
        return _join(invitation, user)


# ---- API tokens --------------------------------------------------------------------------------------------------
def create_api_token(*, agent: Agent, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is shown to the agent once and never stored."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValidationFailed(_(TOKEN_NAME_REQUIRED), field="name")
    if len(cleaned) > TOKEN_NAME_MAX:
        raise ValidationFailed(_(TOKEN_NAME_TOO_LONG) % {"max": TOKEN_NAME_MAX}, field="name")
    if not agent.is_active:
        raise PermissionDenied(_(TOKEN_AGENT_INACTIVE))
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        workspace_id=agent.workspace_id,
        agent=agent,
        name=cleaned,
        prefix=secret[:10],
        token_hash=hash_secret(secret),
    )
    return token, secret


def revoke_api_token(*, actor: Agent, token: ApiToken) -> ApiToken:
    """An agent revokes their own tokens; admins revoke anyone's in their workspace. Others get "not found"."""
    if token.workspace_id != actor.workspace_id or (token.agent_id != actor.pk and actor.role not in ADMIN_ROLES):
        raise NotFound(_(TOKEN_NOT_FOUND))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def _api_token_tail(quote: Callable[[str], str]) -> str:
    def table(model: type[models.Model]) -> str:
        return quote(model._meta.db_table)

    pk = quote("id")
    return (
        f"FROM {table(ApiToken)} t INNER JOIN {table(Agent)} a ON a.{pk} = t.{quote('agent_id')} "
        f"INNER JOIN {table(User)} u ON u.{pk} = a.{quote('user_id')} "
        f"INNER JOIN {table(Workspace)} w ON w.{pk} = t.{quote('workspace_id')} "
        f"WHERE t.{quote('token_hash')} = %s AND t.{quote('revoked_at')} IS NULL "
        f"AND a.{quote('is_active')} = %s AND u.{quote('is_active')} = %s"
    )


# The token by its hash (unique index) with its agent, the agent's user and the workspace: what every API call
# needs, by one statement built once per process (the ORM spent longer compiling this join than it took to run).
_API_TOKENS = JoinedRows([(ApiToken, "t"), (Agent, "a"), (User, "u"), (Workspace, "w")], _api_token_tail)


def authenticate_api_token(secret: str) -> ApiToken | None:
    """The active token for this secret, with its agent and workspace; records when it was last used."""
    if not secret or not secret.startswith(API_TOKEN_PREFIX):
        return None
    rows = _API_TOKENS.fetch([hash_secret(secret), True, True])
    if not rows:
        return None
    token: ApiToken
    token, agent, user, workspace = rows[0]
    agent.user = user
    token.workspace = workspace
    if agent.workspace_id == workspace.pk:  # always: a token belongs to its agent's workspace
        agent.workspace = workspace
    token.agent = agent
    now = timezone.now()
    # Writing on every call would make each API read a write; a minute's precision is what the UI shows.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
