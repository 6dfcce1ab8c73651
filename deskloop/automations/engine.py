"""Running rules: on outbox events (event rules) and from the scheduler (time rules), each run logged.

Loops. A person's change (or a channel's, or a time rule's run) starts a cycle; the events that rules' actions
publish carry it (``automation_cycle``, and the rules applied so far as ``automation_chain``, added to the outbox
payload by ``outbox.carrying``). Within a cycle a rule acts on a ticket at most once, each rule seeing the changes
of the rules before it, and at most MAX_CHAIN rules act. A rule that matches again later in its cycle and would
change the ticket's fields again (another rule set them back: two rules that would ping-pong forever) is not run
and logged ``loop_cut`` with the chain, as is a rule past MAX_CHAIN; one that matches again with nothing left to
change is simply done.

Event rules run inside the outbox dispatch transaction of the event (exactly once per event: the dispatch marks the
event done in the same transaction), each rule in its own savepoint so one rule's refusal neither stops the others
nor loses the dispatch.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from deskloop.accounts.models import ADMIN_ROLES
from deskloop.automations import queries, rules
from deskloop.automations.actions import apply_actions, via_of, would_change_fields
from deskloop.automations.models import AutomationRule, AutomationRun, RuleKind, RunOutcome, TriggerEvent
from deskloop.core import outbox
from deskloop.core.errors import DomainError
from deskloop.core.models import OutboxEvent
from deskloop.tickets import events as ticket_events
from deskloop.tickets.models import EventKind, Ticket
from deskloop.tickets.queries import live_tickets

# Rules in one chain of cause and effect (a person's change, then rule A's, then rule B's...) before it is cut.
MAX_CHAIN = 5
# Tickets a time rule handles per batch, and batches per scheduler round (the rest wait for the next round).
TIME_BATCH = 200
TIME_BATCHES_PER_ROUND = 10
TIME_EVENT = "time"


def consume_outbox_event(event: OutboxEvent) -> None:
    """Registered with core.outbox in AutomationsConfig.ready()."""
    if event.name not in TriggerEvent.values:
        return
    candidates = [
        rule
        for rule in AutomationRule.objects.filter(
            workspace_id=event.workspace_id, is_active=True, kind=RuleKind.EVENT
        ).select_related("created_by")
        if event.name in (rule.events or [])
    ]
    if not candidates:
        return
    cycle = str(event.payload.get("automation_cycle") or f"e{event.pk}")
    for ticket_id in _tickets_of(event):
        for rule in candidates:
            run_rule(rule=rule, ticket_id=ticket_id, event_name=event.name, cycle=cycle)


def _tickets_of(event: OutboxEvent) -> list[int]:
    """The tickets an event is about: the ticket itself, a message's or a survey answer's ticket, or the
    conversations linked to an idea whose status changed."""
    payload = event.payload
    if event.name in (TriggerEvent.TICKET_CREATED, TriggerEvent.TICKET_UPDATED):
        return [int(payload["id"])]
    if event.name == TriggerEvent.IDEA_STATUS_CHANGED:
        from deskloop.ideas.queries import linked_ticket_ids

        return linked_ticket_ids(workspace_id=event.workspace_id, idea_id=int(payload["id"]))
    ticket_id = payload.get("ticket_id")
    if ticket_id is None and isinstance(payload.get("ticket"), dict):
        ticket_id = payload["ticket"].get("id")
    return [int(ticket_id)] if ticket_id is not None else []


def matches(rule: AutomationRule, ticket_id: int) -> bool:
    selected = live_tickets(rule.workspace_id).filter(pk=ticket_id)
    return selected.filter(rules.conditions_q(rule.conditions, rule.match, rule.workspace_id)).exists()


def _chain_names(rule_ids: Sequence[int]) -> str:
    names = dict(AutomationRule.objects.filter(pk__in=rule_ids).values_list("pk", "name"))
    return " → ".join(f"“{names.get(rule_id, rule_id)}”" for rule_id in rule_ids)


def _cycle_runs(ticket_id: int, cycle: str) -> list[tuple[int, str]]:
    """(rule id, outcome) of the runs on the ticket in this cycle so far, in order."""
    return list(
        AutomationRun.objects.filter(ticket_id=ticket_id, cycle=cycle).order_by("id").values_list("rule_id", "outcome")
    )


def run_rule(
    *,
    rule: AutomationRule,
    ticket_id: int,
    event_name: str,
    cycle: str,
    window_at: dt.datetime | None = None,
) -> AutomationRun | None:
    """Run ``rule`` on the ticket if its conditions match; the run logged, or None when nothing was to be done."""
    if not matches(rule, ticket_id):
        return None
    ticket = Ticket.objects.select_related("status").get(pk=ticket_id)
    earlier = _cycle_runs(ticket_id, cycle)
    chain = [rule_id for rule_id, outcome in earlier if outcome == RunOutcome.APPLIED]
    if any(rule_id == rule.pk for rule_id, _outcome in earlier):
        if (rule.pk, RunOutcome.LOOP_CUT) in earlier or not would_change_fields(rule, ticket):
            return None  # done in this cycle already, or cut already: once is enough
        with override(settings.LANGUAGE_CODE):
            reason = _(
                "Not run again: it already ran in this chain of changes (%(chain)s) and another rule changed the "
                "ticket back; running again would loop."
            ) % {"chain": _chain_names(chain)}
        return _record(rule, ticket, event_name, RunOutcome.LOOP_CUT, reason, window_at, cycle)
    if len(chain) >= MAX_CHAIN:
        with override(settings.LANGUAGE_CODE):
            reason = _("Not run: %(count)d rules already ran one after another (%(chain)s); the chain is cut here.") % {
                "count": len(chain),
                "chain": _chain_names(chain),
            }
        return _record(rule, ticket, event_name, RunOutcome.LOOP_CUT, reason, window_at, cycle)
    actor = rule.created_by
    if not actor.is_active or actor.role not in ADMIN_ROLES:
        with override(settings.LANGUAGE_CODE):
            reason = _("Not run: %(admin)s, who saved this rule, is no longer an active admin.") % {"admin": actor.name}
        return _record(rule, ticket, event_name, RunOutcome.SKIPPED, reason, window_at, cycle)
    carried = {"automation_cycle": cycle, "automation_chain": [*chain, rule.pk]}
    try:
        with transaction.atomic(), outbox.carrying(carried), override(settings.LANGUAGE_CODE):
            steps = apply_actions(rule=rule, ticket=ticket, actor=actor)
    except DomainError as refused:
        return _record(rule, ticket, event_name, RunOutcome.FAILED, refused.message, window_at, cycle)
    return _record(rule, ticket, event_name, RunOutcome.APPLIED, "; ".join(steps), window_at, cycle)


def _record(
    rule: AutomationRule,
    ticket: Ticket,
    event_name: str,
    outcome: str,
    detail: str,
    window_at: dt.datetime | None,
    cycle: str,
) -> AutomationRun:
    """The run in the rule's log and on the ticket's history ("Automation “X”: set priority to urgent")."""
    run = AutomationRun.objects.create(
        workspace_id=rule.workspace_id,
        rule=rule,
        ticket=ticket,
        event=event_name,
        outcome=outcome,
        detail=detail[:1000],
        window_at=window_at,
        cycle=cycle,
    )
    ticket_events.record_event(
        ticket=ticket,
        kind=EventKind.AUTOMATION,
        agent=rule.created_by,
        new={"rule_id": rule.pk, "rule": rule.name, "outcome": outcome, "detail": detail[:1000]},
        via=via_of(rule),
    )
    return run


def run_time_rules() -> int:
    """The periodic job: every active time rule over the tickets whose time has come; how many runs were made."""
    made = 0
    for rule in AutomationRule.objects.filter(is_active=True, kind=RuleKind.TIME).select_related("created_by"):
        made += run_time_rule(rule)
    return made


def run_time_rule(rule: AutomationRule) -> int:
    column = rule.time_condition["hours_since"]
    made = 0
    for _round in range(TIME_BATCHES_PER_ROUND):
        batch = list(queries.due_tickets(rule).order_by("pk").values_list("pk", column)[:TIME_BATCH])
        for ticket_id, window_at in batch:
            try:
                # One transaction per ticket: the run row is the claim (unique per rule, ticket and window), so two
                # schedulers never both act; the one that loses the insert rolls its actions back.
                with transaction.atomic():
                    cycle = f"t{rule.pk}:{uuid.uuid4().hex}"
                    if run_rule(
                        rule=rule, ticket_id=ticket_id, event_name=TIME_EVENT, cycle=cycle, window_at=window_at
                    ):
                        made += 1
            except IntegrityError:
                continue
        if len(batch) < TIME_BATCH:
            break
    return made
