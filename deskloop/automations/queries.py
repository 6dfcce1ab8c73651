"""Reads for automation rules: the admin's list, one rule, its run log, and the dry run ("would match 37 tickets")."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.automations import rules
from deskloop.automations.models import AutomationRule, AutomationRun, RuleKind
from deskloop.automations.services import AUTOMATIONS_ADMINS_ONLY, RuleDraft, clean_draft
from deskloop.tickets.models import DONE_CATEGORIES, Ticket
from deskloop.tickets.queries import live_tickets

PREVIEW_LIMIT = 20


def rules_for_agent(agent: Agent) -> QuerySet[AutomationRule]:
    require_admin(agent, AUTOMATIONS_ADMINS_ONLY)
    return AutomationRule.objects.filter(workspace_id=agent.workspace_id).select_related("created_by__user")


def get_rule_for_agent(agent: Agent, rule_id: int) -> AutomationRule:
    rule = rules_for_agent(agent).filter(pk=rule_id).first()
    if rule is None:
        raise Http404("No such automation rule")
    return rule


def runs_of_rule(rule: AutomationRule) -> QuerySet[AutomationRun]:
    return AutomationRun.objects.filter(rule=rule).select_related("ticket")


@dataclass(frozen=True)
class Preview:
    count: int
    tickets: list[Ticket]


def preview(rule: AutomationRule) -> Preview:
    """The tickets the rule would act on now, written nothing: for an event rule, the open tickets its conditions
    match (those an event on them would run it for); for a time rule, those the next scheduler round would pick.
    ``rule`` may be unsaved (the form's dry run)."""
    if rule.kind == RuleKind.TIME:
        tickets = due_tickets(rule)
    else:
        tickets = live_tickets(rule.workspace_id).filter(
            rules.conditions_q(rule.conditions, rule.match, rule.workspace_id)
        )
        tickets = tickets.exclude(status__category__in=DONE_CATEGORIES)
    first = list(tickets.select_related("status").order_by("-updated_at", "-id")[:PREVIEW_LIMIT])
    count = len(first) if len(first) < PREVIEW_LIMIT else tickets.count()
    return Preview(count=count, tickets=first)


def preview_draft(agent: Agent, draft: RuleDraft) -> Preview:
    """The dry run of a rule as entered in the builder, before it is saved (conditions checked as on save)."""
    require_admin(agent, AUTOMATIONS_ADMINS_ONLY)
    clean = clean_draft(agent.workspace_id, draft, for_preview=True)
    unsaved = AutomationRule(
        workspace_id=agent.workspace_id,
        kind=clean.kind,
        time_condition=clean.time_condition,
        match=clean.match,
        conditions=clean.conditions,
    )
    return preview(unsaved)


def value_names(workspace_id: int) -> list[str]:
    """What the builder's value inputs suggest: the workspace's statuses, teams, agents, product areas and webhook
    endpoints by name, and the fixed values (priorities, channels, categories ...)."""
    from deskloop.accounts.models import Team
    from deskloop.customers.models import LifecycleStage
    from deskloop.tickets.models import Channel, Priority, ProductArea, RequestType, Status, StatusCategory
    from deskloop.webhooks.models import Endpoint

    names: list[str] = []
    names += Status.objects.filter(workspace_id=workspace_id).values_list("name", flat=True)
    names += Team.objects.filter(workspace_id=workspace_id).values_list("name", flat=True)
    names += [
        agent.name for agent in Agent.objects.filter(workspace_id=workspace_id, is_active=True).select_related("user")
    ]
    names += ProductArea.objects.filter(workspace_id=workspace_id).values_list("path", flat=True)
    names += Endpoint.objects.filter(workspace_id=workspace_id, is_active=True).values_list("url", flat=True)
    for choices in (Priority, Channel, StatusCategory, RequestType, LifecycleStage):
        names += choices.values
    return sorted(set(names), key=str.lower)


def due_tickets(rule: AutomationRule) -> QuerySet[Ticket]:
    """The live tickets a time rule applies to now and has not run on in their current window. Set-based, one query;
    the window is the value of the timestamp the hours count from, so a ticket that is pending again later, after
    an update, is a new window. ``rule`` may be unsaved (then no run exists yet)."""
    tickets = (
        live_tickets(rule.workspace_id)
        .filter(rules.time_condition_q(rule.time_condition))
        .filter(rules.conditions_q(rule.conditions, rule.match, rule.workspace_id))
    )
    if rule.pk is None:
        return tickets
    column = rule.time_condition["hours_since"]
    already = AutomationRun.objects.filter(rule_id=rule.pk, ticket_id=OuterRef("pk"), window_at=OuterRef(column))
    return tickets.exclude(Exists(already))
