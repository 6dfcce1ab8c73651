"""Workspaces (tenants), the people who sign in, their role in a workspace, teams and API tokens."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import NamedInLanguages, WorkspaceOwned


class Workspace(models.Model):
    """One customer-support organization using Deskloop; every domain row belongs to exactly one."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    # Shown in email subjects as "[ACME #1234]" so replies thread even without headers.
    ticket_prefix = models.CharField(_("ticket prefix"), max_length=20, default="DESK")
    # Incremented with an UPDATE ... SET n = n + 1 so two writers never get the same ticket number.
    last_ticket_number = models.PositiveBigIntegerField(default=0)
    default_language = models.CharField(max_length=10, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")
    # SSRF guard: outbound webhooks to private/loopback addresses only when an admin opts in.
    allow_private_webhook_targets = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Installation(models.Model):
    """The one row that stands for this Deskloop installation. Opening a workspace locks it first, so the check
    "no workspace exists yet" (the first-run sign-up) and the creation it allows happen one caller at a time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="installation_is_one_row")]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Their role is per workspace (``Agent``); language and time zone are theirs."""

    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.name or self.email


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    AGENT = "agent", _("Agent")
    LIGHT_AGENT = "light_agent", _("Light agent")
    VIEWER = "viewer", _("Viewer")


ALL_ROLES = frozenset(Role.values)
ADMIN_ROLES = frozenset({Role.OWNER.value, Role.ADMIN.value})
# Who may change tickets and send public replies.
WRITER_ROLES = frozenset({Role.OWNER.value, Role.ADMIN.value, Role.AGENT.value})
# Who may add internal notes (light agents collaborate without talking to customers).
NOTE_ROLES = WRITER_ROLES | {Role.LIGHT_AGENT.value}


class Agent(WorkspaceOwned):
    """A user's membership of a workspace, with a role. Tickets are assigned to agents."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agents")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    # The inbox view the inbox root opens for this agent ("" = the product's default); one of the views the tickets
    # app registers in ``accounts.preferences``.
    start_view = models.CharField(_("start view"), max_length=20, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="agent_unique_user_per_workspace")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.name or self.user.email

    @property
    def can_write(self) -> bool:
        return self.role in WRITER_ROLES

    @property
    def can_add_notes(self) -> bool:
        return self.role in NOTE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


class Team(WorkspaceOwned, NamedInLanguages):
    name = models.CharField(_("name"), max_length=100)
    members = models.ManyToManyField(Agent, related_name="teams", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "workspace", name="team_unique_name_per_workspace"),
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(WorkspaceOwned):
    """An emailed invitation to join a workspace with a role. The token is stored hashed."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class ApiToken(WorkspaceOwned):
    """A per-agent API token. Only a SHA-256 of the secret is kept; the secret is shown once."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the token, shown in the UI so agents can tell tokens apart.
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
