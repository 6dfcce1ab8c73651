"""Tickets, their messages, the statuses they move through, and the history of every change."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import NamedInLanguages, WorkspaceOwned


class StatusCategory(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# Categories in which a ticket still needs work from the team.
ACTIVE_CATEGORIES = frozenset({StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.ON_HOLD})
DONE_CATEGORIES = frozenset({StatusCategory.SOLVED, StatusCategory.CLOSED})


class Status(WorkspaceOwned, NamedInLanguages):
    """A workspace-defined status ("Waiting on vendor") mapped to one of the fixed categories reports use."""

    name = models.CharField(_("name"), max_length=60)
    category = models.CharField(_("category"), max_length=20, choices=StatusCategory.choices)
    position = models.PositiveIntegerField(default=0)
    # The status a ticket gets when it enters this category without one being chosen.
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(Lower("name"), "workspace", name="status_unique_name_per_workspace")]

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class RequestType(models.TextChoices):
    """What the customer wants: the product team reads feature requests and bugs apart from questions."""

    QUESTION = "question", _("Question")
    PROBLEM = "problem", _("Problem")
    BUG = "bug", _("Bug")
    FEATURE_REQUEST = "feature_request", _("Feature request")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEB = "web", _("Web")
    WIDGET = "widget", _("Widget")
    API = "api", _("API")
    PHONE = "phone", _("Phone")
    IMPORT = "import", _("Import")
    # Opened by an agent for a conversation that came some other way (in person, chat elsewhere, a letter).
    OTHER = "other", _("Other")


class ProductArea(WorkspaceOwned, NamedInLanguages):
    """A functional block of the workspace's product ("Billing > Invoices"); evidence is grouped by it."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    # "Billing > Invoices", kept in step by the service that renames or moves an area.
    path = models.CharField(max_length=500, editable=False, default="")
    # The product manager who answers for the area: lost-deal tasks and the area's page go to them.
    owner = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_product_areas"
    )

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["workspace", "path"], name="product_area_unique_path")]

    def __str__(self) -> str:
        return self.path or self.name

    def localized_path(self, language: str | None = None) -> str:
        """The path with this area's own name in ``language`` (its parents' part as stored: reading each parent's
        translations would cost a query per area in every list)."""
        parents, _sep, _leaf = (self.path or self.name).rpartition(" > ")
        leaf = self.localized_name(language)
        return f"{parents} > {leaf}" if parents else leaf


class Tag(WorkspaceOwned):
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), "workspace", name="tag_unique_name_per_workspace")]

    def __str__(self) -> str:
        return self.name


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Single choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")


class CustomField(WorkspaceOwned, NamedInLanguages):
    """A workspace-defined ticket field; values live in ``Ticket.custom_fields`` keyed by ``key``."""

    key = models.SlugField(max_length=60)
    NAME_ATTRIBUTE = "label"

    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=20, choices=CustomFieldType.choices)
    choices = models.JSONField(default=list, blank=True)
    required_on_solve = models.BooleanField(_("required to solve"), default=False)
    # Asked in the customer portal's and the widget's request form; the others are for agents only.
    visible_to_customers = models.BooleanField(_("visible to customers"), default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="custom_field_unique_key")]

    def __str__(self) -> str:
        return self.label


class Ticket(WorkspaceOwned):
    number = models.PositiveBigIntegerField(_("number"))
    subject = models.CharField(_("subject"), max_length=500)
    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="tickets")
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    requester = models.ForeignKey("customers.Contact", on_delete=models.PROTECT, related_name="tickets")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    assignee = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_tickets"
    )
    team = models.ForeignKey("accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    tags: models.ManyToManyField[Tag, TicketTag] = models.ManyToManyField(
        Tag, related_name="tickets", blank=True, through="TicketTag"
    )
    product_area = models.ForeignKey(
        ProductArea, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    # Blank until an agent (or an accepted suggestion) sets it.
    request_type = models.CharField(_("request type"), max_length=20, choices=RequestType.choices, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    followers = models.ManyToManyField("accounts.Agent", related_name="followed_tickets", blank=True)
    # Contacts copied on the conversation (email CC); they receive public replies.
    cc_contacts = models.ManyToManyField("customers.Contact", related_name="cc_tickets", blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_message_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    # Business minutes to the first agent reply and to the (latest) solve, in the ticket's SLA calendar (else the
    # workspace's default calendar, else around the clock); null until known. Written by service_levels, so
    # reports take medians over a stored column instead of walking calendars for a million tickets.
    first_response_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    # The earliest deadline among the ticket's running SLA targets; null when none runs or all are paused. The
    # inbox counts down to it and sorts by it; service_levels keeps it current.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # SLA clocks are waiting while the ticket is pending or on hold: the inbox says "paused" instead of a time.
    sla_paused = models.BooleanField(default=False)
    # Times a solved or closed ticket was opened again (the reopen rate of the agent performance report).
    reopen_count = models.PositiveIntegerField(default=0)

    message_count = models.PositiveIntegerField(default=0)
    # Optimistic concurrency: bumped on every change; the API's ETag. A stale If-Match gets 412.
    version = models.PositiveIntegerField(default=1)
    # Set on the ticket that was merged away; it then shows a pointer to the survivor.
    merged_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    is_spam = models.BooleanField(default=False)
    # Soft delete: restorable for DESKLOOP_TRASH_DAYS, then purged by a periodic command.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The id in the helpdesk a ticket was imported from; makes imports idempotent.
    external_id = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="ticket_unique_number_per_workspace"),
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=Q(external_id__isnull=False),
                name="ticket_unique_external_id_per_workspace",
            ),
        ]
        indexes = [
            # The inbox: newest activity first inside a workspace, optionally by status or assignee.
            models.Index(fields=["workspace", "updated_at", "id"], name="ticket_ws_updated"),
            models.Index(fields=["workspace", "status", "updated_at", "id"], name="ticket_ws_status_updated"),
            models.Index(fields=["workspace", "assignee", "updated_at", "id"], name="ticket_ws_assignee_updated"),
            models.Index(fields=["workspace", "team", "updated_at", "id"], name="ticket_ws_team_updated"),
            models.Index(fields=["workspace", "created_at", "id"], name="ticket_ws_created"),
            models.Index(fields=["requester", "created_at"], name="ticket_requester_created"),
            models.Index(fields=["organization", "created_at"], name="ticket_org_created"),
            # The live view counts beside the inbox: one index-only pass over these four narrow columns instead of
            # reading every ticket row. No INCLUDE (id): it stops btree deduplication and the planner then counts
            # with a sequential scan (figures: BENCHMARKS.md, "Design history").
            models.Index(
                fields=["workspace", "status", "assignee", "team"],
                condition=Q(deleted_at__isnull=True, merged_into__isnull=True, is_spam=False),
                name="ticket_live_counts",
            ),
            # Trash and spam are small; without these their counts (on every inbox page) scan the whole table.
            models.Index(
                fields=["workspace", "updated_at", "id"], condition=Q(deleted_at__isnull=False), name="ticket_trash"
            ),
            models.Index(
                fields=["workspace", "updated_at", "id"],
                condition=Q(is_spam=True, deleted_at__isnull=True),
                name="ticket_spam",
            ),
            # The reports: the live tickets created in a range, with what every report groups, filters and ranks
            # by, so PostgreSQL answers them from the index alone (SQLite ignores INCLUDE and keeps the range
            # scan). The id too: the reports that join messages or survey answers to the range's tickets read it.
            # Figures: BENCHMARKS.md, "Reports at scale".
            models.Index(
                fields=["workspace", "created_at"],
                include=[
                    "id",
                    "status",
                    "channel",
                    "assignee",
                    "team",
                    "product_area",
                    "organization",
                    "priority",
                    "request_type",
                    "first_response_at",
                    "solved_at",
                    "first_response_business_minutes",
                    "resolution_business_minutes",
                    "reopen_count",
                ],
                condition=Q(deleted_at__isnull=True, is_spam=False, merged_into__isnull=True),
                name="ticket_report_range",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


class TicketTag(WorkspaceOwned):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "tag"], name="ticket_tag_unique")]
        indexes = [models.Index(fields=["tag", "ticket"], name="ticket_tag_by_tag")]


class MessageKind(models.TextChoices):
    REPLY = "reply", _("Reply")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System")


class HtmlFallback(models.TextChoices):
    """Why a message's HTML was not kept (core.html_budget): its readable text is shown instead."""

    TOO_LARGE = "too_large", _("The formatted version was too large to show safely.")
    TOO_DEEP = "too_deep", _("The formatted version was nested too deeply to show safely.")


class Message(WorkspaceOwned):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=MessageKind.choices, default=MessageKind.REPLY)
    author_agent = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    body_text = models.TextField(blank=True)
    # Always produced by deskloop.core.html.sanitize_html; never raw outside HTML.
    body_html = models.TextField(blank=True)
    # Set when the HTML sent was over the cost budget and body_html holds its text instead; the agent sees why.
    html_fallback_reason = models.CharField(max_length=16, choices=HtmlFallback.choices, blank=True, default="")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    # Channel metadata: email headers (Message-ID, In-Reply-To, References), delivery state, etc.
    channel_meta = models.JSONField(default=dict, blank=True)
    email_message_id = models.CharField(max_length=998, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="message_ticket_created"),
            # Agent performance counts each agent's public replies on a range's tickets: on PostgreSQL an index-only
            # scan of this partial index instead of reading every message of the workspace (BENCHMARKS.md,
            # "Reports at scale").
            models.Index(
                fields=["ticket"],
                include=["author_agent"],
                condition=Q(kind=MessageKind.REPLY, author_agent__isnull=False),
                name="message_agent_replies",
            ),
        ]

    @property
    def is_from_customer(self) -> bool:
        return self.author_contact_id is not None and self.kind == MessageKind.REPLY


class Blob(models.Model):
    """Content-addressed bytes: one file on storage per distinct SHA-256, shared by every attachment of it."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    @property
    def storage_name(self) -> str:
        return f"blobs/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"


class Attachment(WorkspaceOwned):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    # Inline images referenced from the HTML body as cid:...
    content_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    FIELD_CHANGED = "field_changed", _("Changed")
    MESSAGE_ADDED = "message_added", _("Message added")
    NOTE_ADDED = "note_added", _("Note added")
    TAG_ADDED = "tag_added", _("Tag added")
    TAG_REMOVED = "tag_removed", _("Tag removed")
    FOLLOWER_ADDED = "follower_added", _("Follower added")
    FOLLOWER_REMOVED = "follower_removed", _("Follower removed")
    MERGED = "merged", _("Merged")
    MERGED_INTO = "merged_into", _("Merged into another ticket")
    SPAM = "spam", _("Marked as spam")
    DELETED = "deleted", _("Deleted")
    RESTORED = "restored", _("Restored")
    MACRO_APPLIED = "macro_applied", _("Macro applied")
    # Written by service_levels' sweep; new_value: {"metric", "due_at", "policy"}.
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    # An automation rule ran on the ticket (applied, skipped, loop cut or failed): new_value says which and why.
    AUTOMATION = "automation", _("Automation ran")


class TicketEvent(WorkspaceOwned):
    """Who changed what from what to what, when: the ticket's timeline and the audit trail."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    actor_agent = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # "custom_fields.<key>" for a custom field: 14 + a key of up to 60 characters.
    field = models.CharField(max_length=100, blank=True)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    # How the change arrived: web, api, email, import, macro, automation.
    via = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="ticket_event_timeline")]


class SavedView(WorkspaceOwned):
    """A named inbox filter. ``owner`` null means shared with the whole workspace."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    filters = models.JSONField(default=dict)
    sort = models.CharField(max_length=30, default="-updated_at")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name"]


class Macro(WorkspaceOwned):
    """A canned reply with placeholders ({{ requester.name }}) that may also set status, tags, assignee."""

    name = models.CharField(_("name"), max_length=100)
    body = models.TextField(_("reply text"), blank=True)
    # {"status": <id>, "add_tags": [...], "remove_tags": [...], "assignee": <agent id> | "me", "priority": ...}
    actions = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]


class TicketPresence(WorkspaceOwned):
    """Which agent is looking at or replying to a ticket right now (collision notice). Rows expire by age."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, related_name="+")
    is_replying = models.BooleanField(default=False)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "agent"], name="ticket_presence_unique")]


class Notification(WorkspaceOwned):
    """Something an agent should see: a mention in a note, an assignment."""

    class Kind(models.TextChoices):
        MENTION = "mention", _("Mention")
        ASSIGNMENT = "assignment", _("Assignment")
        AUTOMATION = "automation", _("Automation")

    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, related_name="+")
    # What happened, as the words' parameters ({"number": 42, "author": "Maria"}): the sentence is made when the
    # notification is read, in the reader's language of that moment (issue #9). ``text`` is the same sentence in
    # the site language, kept for rows whose parameters could not be recovered and for reading the table by hand.
    params = models.JSONField(default=dict, blank=True)
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # The outbox event this notification answers: a consumer may run twice, the agent is told once.
    event_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["agent", "read_at"], name="notification_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "agent"],
                condition=models.Q(event_id__isnull=False),
                name="notification_once_per_event",
            )
        ]

    @property
    def message(self) -> str:
        """The sentence in the active language (the reader's, set by the locale middleware)."""
        params = self.params or {}
        if self.kind == self.Kind.ASSIGNMENT and "number" in params:
            return gettext("#%(number)s was assigned to you") % {"number": params["number"]}
        if self.kind == self.Kind.MENTION and {"number", "author"} <= params.keys():
            return gettext("%(author)s mentioned you on #%(number)s") % {
                "author": params["author"],
                "number": params["number"],
            }
        if self.kind == self.Kind.AUTOMATION and {"number", "rule"} <= params.keys():
            return gettext("Automation “%(rule)s” asks you to look at #%(number)s") % {
                "rule": params["rule"],
                "number": params["number"],
            }
        return self.text


class TicketSearchDocument(WorkspaceOwned):
    """The text a ticket is found by: subject, requester names/emails and the conversation, flattened.

    Written only by deskloop.tickets.search (``index_ticket``). The full-text index lives beside it and is
    created by the ``search`` migration, per database: on SQLite an external-content FTS5 table kept in step
    by triggers on this table; on PostgreSQL a generated ``tsvector`` column with a GIN index. Because this is
    an ordinary model with a cascading foreign key, purging a ticket removes its document (and, through the
    triggers, its FTS5 entries). If a later migration alters this model on SQLite, Django rebuilds the table
    and drops the triggers: recreate them in that migration.
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="+")
    subject = models.TextField(blank=True)
    # Requester name, email addresses (also split at "@" and "."), organization name.
    people = models.TextField(blank=True)
    # Public replies and internal notes in order (agents search notes too), truncated; see search.py.
    body = models.TextField(blank=True)
    # The other forms of the subject's and conversation's words (tickets/stemming.py), distinct, space-separated:
    # what "factura" finds "facturas" by. Indexed beside the exact words, matched only by bare single words.
    stems = models.TextField(blank=True, default="")
    indexed_at = models.DateTimeField(default=timezone.now)
