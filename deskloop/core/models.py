"""Abstract bases shared by every domain model."""

from __future__ import annotations

from django.db import models


class WorkspaceOwned(models.Model):
    """A row that belongs to exactly one workspace (tenant). Every query is scoped by this column."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class OutboxEvent(models.Model):
    """A domain event (``ticket.created``) written in the same transaction as the change it describes.

    Consumers (outbound webhooks, emails, in-app notifications) are fed from this table after commit, so an event is
    never announced for a change that rolled back, and never lost when a worker dies mid-delivery.
    """

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["dispatched_at", "id"], name="outbox_undispatched")]


class IdempotencyRecord(models.Model):
    """The first response to an API create sent with an ``Idempotency-Key``, replayed on a retry.

    The unique (token, key) constraint is the lock: of two concurrent requests with one key, one inserts the
    row and runs; the other sees the row. ``status_code`` is null while the first is still running.
    """

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey("accounts.ApiToken", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and canonical JSON body: the same key with another body is refused.
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="idempotency_unique_key_per_token")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]


class ApiRateCounter(models.Model):
    """A token's request count in its current one-minute window: one row per token, bumped by one statement.

    ``core.plain_sql.count_api_request`` inserts the row or, in the same statement, adds one to it (starting again
    at 1 when a new window has begun) and returns the count; see docs/architecture.md, "REST API".
    """

    # ApiCaller.rate_key: the token's id and random prefix.
    rate_key = models.CharField(max_length=64, primary_key=True)
    # Minutes since the epoch (time // 60) of the window being counted.
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField()


class PublicRateCounter(models.Model):
    """Requests to one public endpoint kind (help-center search, suggestions, the request form, sign-in links) from
    one client address, or to one workspace from anyone, in the current one-minute window.

    Bumped like ``ApiRateCounter`` (``core.plain_sql.count_in_window``); see ``core.public_limits``.
    """

    # "<bucket>:<ip|ws>:<hash>"; the client address only as a hash.
    key = models.CharField(max_length=100, primary_key=True)
    # Minutes since the epoch of the window being counted.
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField()


class SignInCounter(models.Model):
    """Sign-in attempts of one key (an account, a client address, or both) in the current window.

    Bumped like ``ApiRateCounter`` (``core.plain_sql.count_in_window``); see ``accounts.signin_throttle``.
    """

    # "<kind>:<hash>": the hash of an email, a client address, or both; never the address in clear.
    key = models.CharField(max_length=80, primary_key=True)
    # time // DESKLOOP_LOGIN_WINDOW_SECONDS of the window being counted.
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField()


class NamedInLanguages(models.Model):
    """Workspace vocabulary an admin names (statuses, teams, product areas, custom field labels, saved views) with
    a name per language beside the default one. ``name_translations`` maps a language code ("es", "ru", "en") to
    that language's name; a language without one reads the default name. The one implementation of per-language
    names: every vocabulary model inherits it, every place that shows one calls ``localized_name``."""

    # The attribute holding the default name ("label" for custom fields).
    NAME_ATTRIBUTE = "name"

    name_translations = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    @property
    def default_name(self) -> str:
        return str(getattr(self, self.NAME_ATTRIBUTE))

    def localized_name(self, language: str | None = None) -> str:
        """The name in ``language`` (the active language when None), else the default name."""
        from django.utils.translation import get_language

        code = (language or get_language() or "").split("-")[0].lower()
        translations = self.name_translations if isinstance(self.name_translations, dict) else {}
        return str(translations.get(code) or self.default_name)

    @property
    def names(self) -> dict[str, str]:
        """Every language's name, the default name under "default" (what the API shows)."""
        translations = self.name_translations if isinstance(self.name_translations, dict) else {}
        return {"default": self.default_name, **{code: str(name) for code, name in sorted(translations.items())}}
