"""A new workspace: the defaults it starts with (statuses for each category), and opening one with its owner."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.models import Agent, Role, User, Workspace
from deskloop.accounts.queries import signup_open
from deskloop.accounts.services import add_agent, clean_language, create_workspace, lock_workspace_creation
from deskloop.core.errors import PermissionDenied, ValidationFailed
from deskloop.tickets.models import Status, StatusCategory

WORKSPACE_NAME_TAKEN = gettext_noop("A workspace named “%(name)s” exists already.")
OWNER_EMAIL_INVALID = gettext_noop("Enter a valid email address for the owner.")
OWNER_EXISTS = gettext_noop("An account with this email exists already; sign in with it instead.")
PASSWORD_REQUIRED = gettext_noop("Choose a password for the owner.")
SIGNUP_CLOSED = gettext_noop("This installation has a workspace already; ask its admin for an invitation.")

# Names are stored in the workspace's data (admins rename them); gettext_noop marks them for catalogues.
DEFAULT_STATUSES = [
    (gettext_noop("New"), StatusCategory.NEW),
    (gettext_noop("Open"), StatusCategory.OPEN),
    (gettext_noop("Pending"), StatusCategory.PENDING),
    (gettext_noop("On hold"), StatusCategory.ON_HOLD),
    (gettext_noop("Solved"), StatusCategory.SOLVED),
    (gettext_noop("Closed"), StatusCategory.CLOSED),
]


def install_workspace_defaults(*, workspace: Workspace) -> None:
    """Idempotent: creates the default statuses that are missing."""
    existing = set(Status.objects.filter(workspace=workspace).values_list("category", flat=True))
    Status.objects.bulk_create(
        [
            Status(workspace=workspace, name=name, category=category, position=position, is_default=True)
            for position, (name, category) in enumerate(DEFAULT_STATUSES)
            if category not in existing
        ]
    )


def open_workspace(
    *,
    name: str,
    owner_email: str,
    owner_name: str,
    password: str | None,
    language: str = "en",
    signing_up: bool = False,
) -> Agent:
    """Create a workspace with its defaults and its owner; returns the owner. ``password``: the new owner's (None
    only when the address already has an account, which then becomes the owner with its own password).
    ``signing_up``: the sign-up page's call (anyone's), refused unless ``signup_open()`` and for an address that
    has an account (the page must not let anyone take one over)."""
    name = (name or "").strip()
    email = (owner_email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(_(OWNER_EMAIL_INVALID), field="owner_email") from None
    language = clean_language(language)
    user = User.objects.filter(email=email).first()
    if user is not None and signing_up:
        raise ValidationFailed(_(OWNER_EXISTS), field="owner_email")
    if user is None:
        if not password:
            raise ValidationFailed(_(PASSWORD_REQUIRED), field="password")
        try:
            validate_password(password, User(email=email, name=owner_name))
        except ValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from None
    with transaction.atomic():
        # Two sign-ups on an empty installation must not both see "no workspace yet": the second waits here until
        # the first has committed its workspace, then reads it and is refused.
        lock_workspace_creation()
        if signing_up and not signup_open():
            raise PermissionDenied(_(SIGNUP_CLOSED))
        if name and Workspace.objects.filter(name__iexact=name).exists():
            raise ValidationFailed(_(WORKSPACE_NAME_TAKEN) % {"name": name}, field="name")
        workspace = create_workspace(name=name)
        workspace.default_language = language
        workspace.save(update_fields=["default_language"])
        install_workspace_defaults(workspace=workspace)
        return add_agent(
            workspace=workspace,
            email=email,
            name=(owner_name or "").strip(),
            role=Role.OWNER,
            password=password if user is None else None,
            language=language,
        )
