"""The SLA panel on the ticket page (tickets.page_panels, sidebar): each clock of the ticket, counting down live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.core.when import moment
from deskloop.service_levels.models import SlaMetric, SlaTarget
from deskloop.tickets.models import Ticket
from deskloop.tickets.sla_badge import NO_SLA, SlaBadge, sla_badge, sla_clock


@dataclass(frozen=True)
class ClockLine:
    metric: str
    policy: str
    badge: SlaBadge
    outcome: str  # "" while it runs; "met" / "missed" once stopped
    detail: str


def clock_lines(targets: list[SlaTarget]) -> list[ClockLine]:
    now = timezone.now()
    lines = []
    for target in targets:
        label = str(SlaMetric(target.metric).label)
        policy = target.policy.name if target.policy else ""
        if target.stopped_at is not None:
            outcome = "missed" if target.breached_at else "met"
            text = _("missed") if target.breached_at else _("met")
            lines.append(ClockLine(label, policy, NO_SLA, outcome, f"{text} · {moment(target.stopped_at).text}"))
        else:
            badge = sla_badge(target.due_at, target.paused_at is not None, now)
            lines.append(ClockLine(label, policy, badge, "", moment(target.due_at).exact if target.due_at else ""))
    return lines


def sla_panel(*, ticket: Ticket, agent: Agent) -> Mapping[str, Any] | None:
    targets = list(SlaTarget.objects.filter(ticket=ticket).select_related("policy").order_by("started_at", "id"))
    if not targets:
        return None
    return {"lines": clock_lines(targets), "sla_clock": sla_clock(timezone.now())}
