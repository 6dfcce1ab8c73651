"""The knowledge base: categories, articles with one version per language, their revisions and readers' votes;
and the self-service funnel (request sessions) that measures how many requests the articles saved."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import NamedInLanguages, WorkspaceOwned

# The languages articles are written in to start with; a workspace may leave any of them empty.
ARTICLE_LOCALES = ("en", "es", "ru")


class ArticleLocale(models.TextChoices):
    EN = "en", _("English")
    ES = "es", _("Spanish")
    RU = "ru", _("Russian")


class ArticleState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ArticleVisibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    # Shown to agents only (the article finder, the agents' knowledge base); never in the help center or widget.
    INTERNAL = "internal", _("Internal")


class HelpCenter(WorkspaceOwned):
    """A workspace's self-service settings: where its help center answers and how the saving is measured."""

    # A host name of its own ("help.example.com"); empty means only /help/<workspace-slug>/.
    host_name = models.CharField(_("host name"), max_length=253, blank=True, default="")
    # Share of request sessions that see no suggestions, so the saving can be compared against them.
    holdout_percent = models.PositiveSmallIntegerField(_("holdout, percent of sessions"), default=10)
    # Signs the in-app widget's identified users (HMAC-SHA256); shown once to admins, rotated by a service.
    widget_secret = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="help_center_one_per_workspace"),
            models.UniqueConstraint(
                fields=["host_name"], condition=~Q(host_name=""), name="help_center_unique_host_name"
            ),
            models.CheckConstraint(condition=Q(holdout_percent__lte=50), name="help_center_holdout_at_most_half"),
        ]


class KnowledgeCategory(WorkspaceOwned, NamedInLanguages):
    """A category of the help center; a category with a parent is a section of it."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(max_length=140, allow_unicode=True)
    description = models.CharField(_("description"), max_length=500, blank=True, default="")
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="sections")
    position = models.PositiveIntegerField(default=0)
    # Per-language descriptions beside the default one, like ``name_translations``.
    description_translations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="knowledge_category_unique_slug")]

    def __str__(self) -> str:
        return self.name


class Article(WorkspaceOwned):
    """One article, whatever its languages: what it is about and who may read it. Its text lives in one
    ``ArticleTranslation`` per language."""

    category = models.ForeignKey(
        KnowledgeCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="articles"
    )
    # The id the article has in the system it came from (``import_articles``, the API): a re-import updates it.
    external_id = models.CharField(_("external id"), max_length=200, blank=True, default="")
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=ArticleVisibility.choices, default=ArticleVisibility.PUBLIC
    )
    product_area = models.ForeignKey(
        "tickets.ProductArea", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tags = models.ManyToManyField("tickets.Tag", blank=True, related_name="+")
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # When someone last confirmed the article is still right; the stale list is ordered by it.
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    last_reviewed_by = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=~Q(external_id=""), name="article_unique_external_id"
            )
        ]
        indexes = [models.Index(fields=["workspace", "last_reviewed_at"], name="article_review_age")]

    def __str__(self) -> str:
        return self.external_id or f"article {self.pk}"


class ArticleTranslation(WorkspaceOwned):
    """An article in one language: its title, its sanitized body, and whether readers see it yet."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(_("language"), max_length=10, choices=ArticleLocale.choices)
    title = models.CharField(_("title"), max_length=255)
    # The readable part of the URL, from the title; the article id before it keeps URLs unique.
    slug = models.SlugField(max_length=120, allow_unicode=True)
    # Sanitized (core.html) before it is stored; ``body_text`` is its plain text for search and suggestions.
    body_html = models.TextField(blank=True, default="")
    body_text = models.TextField(blank=True, default="")
    state = models.CharField(_("state"), max_length=10, choices=ArticleState.choices, default=ArticleState.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # float32 vector of title and body, written by a background task; empty until then (lexical ranking only).
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    # The model version the embedding was made with; a new model re-embeds what does not match.
    embedding_version = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["article_id", "locale"]
        constraints = [models.UniqueConstraint(fields=["article", "locale"], name="article_translation_one_per_locale")]
        indexes = [models.Index(fields=["workspace", "locale", "state"], name="article_translation_readable")]

    def __str__(self) -> str:
        return self.title


class ArticleRevision(WorkspaceOwned):
    """The title and body of a translation as one save left them; the history shows diffs between them and
    restoring one saves it again as a new revision."""

    translation = models.ForeignKey(ArticleTranslation, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=255)
    body_html = models.TextField(blank=True, default="")
    author = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # "import", "api", "restored from 3", ...: why this revision exists, shown in the history.
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["translation_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["translation", "number"], name="article_revision_unique_number")]


class ArticleFeedback(WorkspaceOwned):
    """A reader's "was this helpful?" on one translation, with an optional comment."""

    translation = models.ForeignKey(ArticleTranslation, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True, default="")
    request_session = models.ForeignKey(
        "knowledge.RequestSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "created_at"], name="article_feedback_recent")]


class RequestChannel(models.TextChoices):
    HELP_CENTER = "help_center", _("Help center")
    PORTAL = "portal", _("Customer portal")
    WIDGET = "widget", _("In-app widget")


class RequestOutcome(models.TextChoices):
    # Still going, or not yet judged by the deflection sweep.
    OPEN = "open", _("In progress")
    # The customer said "this solved my problem".
    SOLVED_BY_ARTICLE = "solved_by_article", _("Solved by an article")
    # Suggestions were shown and the customer went away without writing.
    LEFT_AFTER_SUGGESTION = "left_after_suggestion", _("Left after a suggestion")
    SUBMITTED = "submitted", _("Submitted anyway")
    # Left without writing and neither the contact nor the visitor's address wrote within the window.
    VERIFIED_DEFLECTION = "verified_deflection", _("Verified deflection")
    # Left (or said "solved") but the same customer opened a ticket within the window: not a deflection, counted
    # with "submitted" in the report; ``ticket`` points at the ticket they wrote (the deflection sweep sets both).
    RETURNED = "returned", _("Wrote within the window")
    # Went idle before anything was shown (nothing typed, nothing searched): neither arm saw a suggestion, so the
    # report leaves these out of both arms instead of calling them deflections.
    LEFT_BEFORE_SUGGESTION = "left_before_suggestion", _("Left before any suggestion")


class RequestSession(WorkspaceOwned):
    """One customer's attempt to get help in the portal, the widget or the help center: what they searched, which
    suggestions they saw, and how it ended. A stable hash of the visitor puts a share of sessions in the holdout,
    which sees no suggestions, so the deflection rate can be compared against it."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(max_length=20, choices=RequestChannel.choices)
    locale = models.CharField(max_length=10, default="en")
    contact = models.ForeignKey("customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # SHA-256 of an anonymous visitor's id (a cookie value) or confirmed email: never the value in clear.
    visitor_hash = models.CharField(max_length=64, blank=True, default="")
    # Lower-cased email when the visitor typed one, so the sweep can find a later ticket from that address.
    email = models.EmailField(blank=True, default="")
    in_holdout = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    last_event_at = models.DateTimeField(default=timezone.now)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    outcome = models.CharField(max_length=30, choices=RequestOutcome.choices, default=RequestOutcome.OPEN)
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "started_at"], name="request_session_recent"),
            models.Index(fields=["outcome", "last_event_at"], name="request_session_to_judge"),
            models.Index(fields=["ticket"], name="request_session_ticket"),
            # The deflection sweep asks whether the same anonymous visitor wrote later from another session.
            models.Index(
                fields=["workspace", "visitor_hash"],
                condition=Q(ticket__isnull=False),
                name="request_session_visitor_ticket",
            ),
        ]


class RequestEventKind(models.TextChoices):
    SEARCHED = "searched", _("Searched")
    SUGGESTIONS_SHOWN = "suggestions_shown", _("Suggestions shown")
    ARTICLE_OPENED = "article_opened", _("Article opened")
    SOLVED = "solved", _("This solved my problem")
    SUBMITTED = "submitted", _("Submitted anyway")


class RequestEvent(WorkspaceOwned):
    """One step of a request session, in order."""

    session = models.ForeignKey(RequestSession, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=RequestEventKind.choices)
    # What the customer had typed (bounded), for "top searches with no answer".
    query = models.CharField(max_length=300, blank=True, default="")
    article = models.ForeignKey(Article, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The article ids shown, best first; [] when the ranker abstained (or the session is in the holdout).
    suggested_article_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session_id", "id"]
        indexes = [models.Index(fields=["workspace", "kind", "created_at"], name="request_event_kind_recent")]


class ArticleImage(WorkspaceOwned):
    """An image uploaded into an article's text. The bytes are a tickets ``Blob`` (content-addressed, stored once);
    the article says who may load it: agents always, everyone else only while a published translation of a public
    article shows it."""

    # The URL's id: not guessable, unlike the primary key, because public pages link to it.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="images")
    blob = models.ForeignKey("tickets.Blob", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
