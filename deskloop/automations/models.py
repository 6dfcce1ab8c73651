"""Automation rules and their run log.

A rule is data an admin writes: when it runs (on events, or on a time condition), which tickets it applies to
(conditions, all or any), and what it does (actions). ``conditions``, ``actions`` and ``time_condition`` are
checked by ``automations.rules`` on every save and again on every run (an id may have been deleted meanwhile, or
point into another workspace after a crafted save).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned


class RuleKind(models.TextChoices):
    EVENT = "event", _("When something happens")
    TIME = "time", _("On a schedule (time rule)")


class MatchMode(models.TextChoices):
    ALL = "all", _("All conditions")
    ANY = "any", _("Any condition")


class TriggerEvent(models.TextChoices):
    """The outbox events a rule may react to (their names are the outbox's and the webhooks')."""

    TICKET_CREATED = "ticket.created", _("Ticket created")
    TICKET_UPDATED = "ticket.updated", _("Ticket updated")
    MESSAGE_CREATED = "message.created", _("Message received or added")
    SLA_WARNING = "ticket.sla_warning", _("SLA target about to be breached")
    SLA_BREACHED = "ticket.sla_breached", _("SLA target breached")
    SURVEY_ANSWERED = "survey.response_created", _("Survey answered")
    IDEA_STATUS_CHANGED = "idea.status_changed", _("Idea status changed (e.g. shipped)")


class AutomationRule(WorkspaceOwned):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=RuleKind.choices, default=RuleKind.EVENT)
    # Event rules: the TriggerEvent values they react to.
    events = models.JSONField(default=list, blank=True)
    # Time rules: {"status_category": "pending" | "", "hours_since": "updated_at" | ..., "hours": 120}.
    time_condition = models.JSONField(default=dict, blank=True)
    match = models.CharField(_("match"), max_length=3, choices=MatchMode.choices, default=MatchMode.ALL)
    # [{"field": "subject", "operator": "contains", "value": "outage"}, ...]
    conditions = models.JSONField(default=list, blank=True)
    # [{"type": "set_priority", "value": "urgent"}, ...]
    actions = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(default=0)
    # The admin who last saved the rule: it acts with their rights, and does not run once they are no longer an
    # active admin (a demoted admin's rules must not keep their old power).
    created_by = models.ForeignKey("accounts.Agent", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["workspace", "is_active", "kind"], name="automation_rule_active")]

    def __str__(self) -> str:
        return self.name


class RunOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    SKIPPED = "skipped", _("Skipped")
    LOOP_CUT = "loop_cut", _("Loop cut")
    FAILED = "failed", _("Failed")


class AutomationRun(WorkspaceOwned):
    """One rule run on one ticket: the rule's run log and, for time rules, the claim that makes a ticket get a rule
    once per condition window (``window_at``: the value of the timestamp the hours are counted from)."""

    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="runs")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The outbox event's name, or "time" for a time rule.
    event = models.CharField(max_length=60)
    outcome = models.CharField(max_length=10, choices=RunOutcome.choices)
    detail = models.CharField(max_length=1000, blank=True)
    window_at = models.DateTimeField(null=True, blank=True)
    # The chain of cause and effect the run belongs to: "e<id>" of the outbox event a person's (or a channel's)
    # change published, or "t<id>:<uuid>" for a time rule's run. A rule acts at most once per ticket per cycle.
    cycle = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "ticket", "window_at"],
                condition=Q(window_at__isnull=False),
                name="automation_run_once_per_window",
            )
        ]
        indexes = [
            models.Index(fields=["rule", "created_at", "id"], name="automation_run_log"),
            models.Index(fields=["ticket", "cycle"], name="automation_run_cycle"),
        ]
