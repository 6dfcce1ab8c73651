"""Mailboxes, every email that arrived (kept raw), IMAP checkpoints, and every email that left."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned


class UnknownSenderRule(models.TextChoices):
    """What happens when someone not on a ticket replies to it (e.g. a colleague of the requester)."""

    NEW_TICKET = "new_ticket", _("Open a new ticket")
    ADD_AS_CC = "add_as_cc", _("Add them to the ticket as CC")


class Mailbox(WorkspaceOwned):
    """A support address (support@, billing@). New tickets from it go to its team and product area; replies go out
    from it. It may be connected by IMAP, by an MTA delivering over SMTP/LMTP, by an HTTP post of raw mail, and by
    one-off archive imports; all of them feed the same ingest pipeline."""

    address = models.EmailField(_("address"))
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    default_team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    default_product_area = models.ForeignKey(
        "tickets.ProductArea", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    unknown_sender_rule = models.CharField(
        max_length=20, choices=UnknownSenderRule.choices, default=UnknownSenderRule.NEW_TICKET
    )
    # Optional: same subject from the same sender within this many days threads into their open ticket (0 = off).
    subject_threading_days = models.PositiveIntegerField(default=0)
    # The authserv-id (RFC 8601) of the mail server that receives for this mailbox and writes Authentication-Results:
    # only its verdicts are believed (anyone can write that header into a mail). "" believes none. A DMARC pass from
    # it lets mail from an agent's address count as the agent's (sender_trust).
    trusted_authserv_id = models.CharField(max_length=253, blank=True)
    # Send with a tagged envelope sender (bounce_address, "support+dlb.<id>.<signature>@..."), so bounces prove which
    # email they are about. Off only for a mail server that does not deliver plus-addresses to the mailbox.
    tag_bounce_address = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    # IMAP connection (optional).
    imap_host = models.CharField(max_length=253, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(
        max_length=10, choices=[("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", _("None"))], default="ssl"
    )
    imap_username = models.CharField(max_length=254, blank=True)
    # A password or an OAuth2 access token (XOAUTH2), depending on imap_auth.
    imap_secret = models.CharField(max_length=4000, blank=True)
    imap_auth = models.CharField(
        max_length=10, choices=[("password", _("Password")), ("xoauth2", "OAuth2")], default="password"
    )
    imap_folder = models.CharField(max_length=200, default="INBOX")
    # What the last IMAP fetch found, for the mailboxes page: a wrong password or a dead server must not go unseen
    # while mail piles up on the server. Written by imap.fetch (record_imap_check), never by the settings form.
    imap_checked_at = models.DateTimeField(null=True, blank=True)
    imap_error = models.TextField(blank=True)
    imap_failing_since = models.DateTimeField(null=True, blank=True)

    # The HTTP endpoint's per-mailbox secret, stored hashed (SHA-256); the clear value is shown once.
    inbound_secret_hash = models.CharField(max_length=64, blank=True)
    # Bigger mail is refused ("too_large") but its raw bytes are kept; the HTTP endpoint answers 413.
    max_message_bytes = models.PositiveBigIntegerField(_("largest accepted message (bytes)"), default=40 * 1024 * 1024)
    # Whether the X-Spam-* / X-Rspamd-* verdict headers on this mailbox's mail were written by our own mail server's
    # filter (SpamAssassin, rspamd). Off by default: anyone can write those headers into a message they send.
    trust_spam_headers = models.BooleanField(_("trust the mail server's spam verdict headers"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "address"], name="mailbox_unique_address")]

    def __str__(self) -> str:
        return self.address


class InboundState(models.TextChoices):
    RECEIVED = "received", _("Received")  # stored raw, not processed yet
    PROCESSED = "processed", _("Processed")  # became a ticket or a message on one
    REFUSED = "refused", _("Refused")  # on purpose, with a reason (bounce, auto-reply, loop, blocked, too large)
    QUARANTINED = "quarantined", _("Quarantined")  # could not be processed; admins see the error and may retry


class InboundEmail(WorkspaceOwned):
    """One email as it arrived, whatever became of it. The raw bytes are kept content-addressed, so nothing a
    customer sent is ever lost, and a quarantined message can be processed again after a fix."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="inbound")
    raw = models.ForeignKey("tickets.Blob", on_delete=models.PROTECT, related_name="+")
    raw_sha256 = models.CharField(max_length=64)
    # The Message-ID header without angle brackets (a synthetic one when the mail had none).
    header_message_id = models.CharField(max_length=998, blank=True)
    received_via = models.CharField(max_length=10)  # imap, smtp, http, import
    state = models.CharField(max_length=12, choices=InboundState.choices, default=InboundState.RECEIVED)
    refusal_reason = models.CharField(max_length=40, blank=True)
    detail = models.TextField(blank=True)
    subject = models.CharField(max_length=500, blank=True)
    sender = models.CharField(max_length=320, blank=True)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.ForeignKey("tickets.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # What processing did: "new_ticket", "follow_up" (a reply to a closed ticket), "threaded" (a message on an
    # existing ticket) or "" (refused, quarantined, not processed yet). Import summaries and the quarantine read it.
    outcome = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The admin who overruled a refusal with "Deliver it anyway", and when (the refusal it overruled is in detail).
    delivered_anyway_by = models.ForeignKey(
        "accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    delivered_anyway_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Dedupe: the same bytes with the same Message-ID arrive once per mailbox, however often they are fetched.
            models.UniqueConstraint(fields=["mailbox", "header_message_id", "raw_sha256"], name="inbound_email_once"),
        ]
        indexes = [
            models.Index(fields=["workspace", "state", "received_at"], name="inbound_by_state"),
            models.Index(fields=["header_message_id"], name="inbound_by_message_id"),
        ]


class SenderAllowance(WorkspaceOwned):
    """An address ("ana@customer.example") or a domain ("customer.example", its subdomains too) whose mail is never
    refused as list/bulk mail: customers who write through a CRM or a transactional service that adds list
    headers. Matched against the From address."""

    pattern = models.CharField(_("address or domain"), max_length=254)
    created_by = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "pattern"], name="sender_allowance_once")]

    def __str__(self) -> str:
        return self.pattern


class ImapCheckpoint(models.Model):
    """How far a mailbox's IMAP folder has been imported. Written in the same transaction as the message it
    advances past, so a crash can only repeat the last fetch (which dedupe absorbs), never skip one."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="imap_checkpoints")
    folder = models.CharField(max_length=200)
    uidvalidity = models.BigIntegerField()
    last_uid = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "folder"], name="imap_checkpoint_per_folder")]


class OutboundState(models.TextChoices):
    QUEUED = "queued", _("Queued")  # waiting for its (next) attempt; last_error tells whether one failed
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")  # permanently refused, or out of retries
    SKIPPED = "skipped", _("Skipped")  # decided not to send (skip_reason); kept so the decision is visible


class OutboundKind(models.TextChoices):
    REPLY = "reply", _("Agent reply")
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement of a new ticket")
    ASSIGNMENT = "assignment", _("Assignment")
    CUSTOMER_REPLY = "customer_reply", _("Customer reply")
    MENTION = "mention", _("Mention")
    IDEA_SHIPPED = "idea_shipped", _("An idea shipped (to the customers who asked)")
    IDEA_SHIPPED_AGENT = "idea_shipped_agent", _("An idea shipped (to agents)")
    SURVEY_NPS = "survey_nps", _("NPS survey")
    SURVEY_CSAT = "survey_csat", _("CSAT survey after a solved ticket")
    AUTOMATION = "automation", _("Sent by an automation rule")
    WEEKLY_SUMMARY = "weekly_summary", _("Weekly summary of the reports (to managers)")


class OutboundEmail(WorkspaceOwned):
    """An email Deskloop sends: an agent's reply or a notification. Its state is shown on the message.

    Everything needed to send it is rendered when it is queued (headers as plain values, both bodies), so a retry
    sends the same mail and the row is the record of what went out. Header values are sanitized again when the
    MIME message is built (``outbound_mime``)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.ForeignKey("tickets.Message", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=30, choices=OutboundKind.choices)
    # Lists of [display name, address].
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    # The first To address, normalized: what per-recipient rate limits and bounce marking look at.
    recipient = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    reply_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=998)
    body_text = models.TextField(blank=True)
    # Sanitized HTML (deskloop.core.html.sanitize_html).
    body_html = models.TextField(blank=True)
    # RFC 3834 value for automatic mail ("auto-replied", "auto-generated"); "" for a person's reply.
    auto_submitted = models.CharField(max_length=20, blank=True)
    header_message_id = models.CharField(max_length=998, unique=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=OutboundState.choices, default=OutboundState.QUEUED)
    skip_reason = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # When the next attempt is due; while an attempt is in flight, the end of its lease. None once final. A sent
    # email is due again while some of its recipients wait for a retry (``refused_recipients``).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Recipients the mail server refused while it took the email for the others, in envelope order, each
    # {"address", "reply" (the server's last answer), "outcome"}: "retrying" (a 4xx: the same email is sent again
    # to the retrying ones alone), "refused" (a 5xx) or "given_up" (still refused after the last retry). An
    # address leaves the list once the server takes the email for it.
    refused_recipients = models.JSONField(default=list)
    # Retries made for the "retrying" recipients, counted from their first refusal (their own retry schedule).
    recipient_retries = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "recipient", "kind", "created_at"], name="outbound_by_recipient"),
            models.Index(fields=["state", "next_attempt_at"], name="outbound_due"),
        ]


class EmailTemplate(WorkspaceOwned):
    """A workspace's wording for an automatic email; a missing row means the built-in default (shipped as Django
    templates under templates/email_channel/mail/)."""

    kind = models.CharField(max_length=30, choices=OutboundKind.choices)
    subject = models.CharField(max_length=500)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # Off: this kind of email is not sent at all in the workspace (recorded as skipped).
    is_active = models.BooleanField(default=True)
    # Acknowledgements only: also acknowledge tickets an agent opened on a customer's behalf.
    include_agent_created = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "kind"], name="email_template_per_kind")]


class SpamFilterState(WorkspaceOwned):
    """A workspace's learned spam model, in sum: how many tickets agents taught it as spam and as ham, and a
    version bumped with every lesson, which the pipeline reads with each message to know its cached model is
    current (one small row, not the token counts)."""

    version = models.PositiveIntegerField(default=0)
    spam_messages = models.PositiveIntegerField(default=0)
    ham_messages = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="spam_filter_state_one_per_workspace")]


class SpamTokenCount(WorkspaceOwned):
    """How often a token appeared in the tickets a workspace's agents marked as spam and as not spam; added to the
    shipped default counts (spam.SpamModel)."""

    token = models.CharField(max_length=60)
    # Not Positive...: a lesson moved to the other side is one upsert adding -n, and a CHECK would refuse that
    # proposed row before ON CONFLICT turns it into an update. Counts never go below 0: only what was added moves.
    spam = models.IntegerField(default=0)
    ham = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "token"], name="spam_token_unique")]


class SpamLesson(WorkspaceOwned):
    """What the filter learned from one ticket, kept so that changing one's mind ("not spam" after "spam") moves
    exactly these counts from one side to the other, even if the ticket changed since."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    is_spam = models.BooleanField()
    features = models.JSONField(default=dict)
    learned_at = models.DateTimeField(default=timezone.now)


class IdeaShippedNotice(WorkspaceOwned):
    """One person told that an idea shipped: the unique row is what makes it once per recipient per idea, whatever
    the outbox delivers twice or an idea shipped, reopened and shipped again. Points at the email written (skipped
    ones too: the reason is on the email)."""

    idea = models.ForeignKey("ideas.Idea", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    outbound = models.ForeignKey(OutboundEmail, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["idea", "contact"], condition=Q(contact__isnull=False), name="idea_shipped_once_per_contact"
            ),
            models.UniqueConstraint(
                fields=["idea", "agent"], condition=Q(agent__isnull=False), name="idea_shipped_once_per_agent"
            ),
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(agent__isnull=False), name="idea_shipped_has_a_recipient"
            ),
        ]
