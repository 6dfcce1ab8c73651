"""The one write path of deals (the deal form, the API, the CSV import and the demo all come here).

A deal that becomes lost for a reason marked "missing functionality", in one of the workspace's target industries,
is a product problem: it opens a task for the product area's owner (once per deal) and counts as a critical vote of
the prospect on the idea it needed. A won deal makes the organization a customer, and a churned one won back.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent, Workspace
from deskloop.core import outbox
from deskloop.core.errors import Conflict, NotFound, ValidationFailed
from deskloop.customers.models import LifecycleStage, Organization
from deskloop.customers.services import set_lifecycle_stage
from deskloop.ideas.models import Idea, Importance, ProductTask, VoteSource
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.revenue.models import Deal, DealStatus, LostReason
from deskloop.revenue.services.churn import mark_won_back
from deskloop.revenue.services.common import external_id_of, money, same_workspace
from deskloop.revenue.services.setup import is_target_industry
from deskloop.tickets.models import ProductArea

DEAL_WRITERS_ONLY = gettext_noop("Your role cannot record deals.")
DEAL_LOST = "deal.lost"
TASK_SOURCE = "deal"
NAME_MAX = 200
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class DealValues:
    """Everything a deal says; ``record_deal`` and ``update_deal`` write them all at once."""

    organization: Organization
    name: str
    amount: Decimal | int | str = 0
    currency: str = "USD"
    stage: str = ""
    status: str = DealStatus.OPEN
    lost_reason: LostReason | None = None
    competitor: str = ""
    # Blank: the organization's industry.
    industry: str = ""
    product_area: ProductArea | None = None
    idea: Idea | None = None
    owner: Agent | None = None
    # Blank on a won or lost deal: today.
    closed_on: dt.date | None = None
    external_id: str | None = None


def record_deal(*, workspace: Workspace, values: DealValues, actor: Agent | None) -> Deal:
    """A new deal. ``actor`` None: a trusted caller (the import command, the demo)."""
    _check_actor(actor, workspace.pk)
    return _save(Deal(workspace=workspace), values, new=True)


def update_deal(*, deal: Deal, values: DealValues, actor: Agent | None) -> Deal:
    _check_actor(actor, deal.workspace_id)
    if deal.pk is None or not Deal.objects.filter(pk=deal.pk, workspace_id=deal.workspace_id).exists():
        raise NotFound(_("No such deal in this workspace."))
    return _save(deal, values, new=False)


def check_deal_values(*, workspace_id: int, values: DealValues) -> None:
    """Raise what ``record_deal`` would refuse in ``values``, writing nothing (an import's preview)."""
    _fill(Deal(workspace_id=workspace_id), values)


def _check_actor(actor: Agent | None, workspace_id: int) -> None:
    if actor is None:
        return
    require_role(actor, Capability.WRITE, DEAL_WRITERS_ONLY)
    if actor.workspace_id != workspace_id:
        raise NotFound(_("No such deal in this workspace."))


def _save(deal: Deal, values: DealValues, *, new: bool) -> Deal:
    _fill(deal, values)
    try:
        with transaction.atomic():
            # The stored row, locked: of two saves that both make the deal lost, only the first sees it become lost
            # (one deal.lost, one task).
            previous: dict[str, object] | None = None
            if not new:
                previous = dict(
                    Deal.objects.select_for_update()
                    .filter(pk=deal.pk)
                    .values("status", "lost_reason_id", "industry", "idea_id")
                    .get()
                )
            deal.save()
            became_lost = deal.status == DealStatus.LOST and (previous is None or previous["status"] != DealStatus.LOST)
            if deal.status == DealStatus.LOST and (became_lost or _evidence_changed(deal, previous)):
                task = _act_on_lost_deal(deal)
                if became_lost:
                    _publish_lost(deal, task)
            if deal.status == DealStatus.WON and (previous is None or previous["status"] != DealStatus.WON):
                # A won deal makes the prospect a customer; an organization that had churned is won back.
                set_lifecycle_stage(organization=deal.organization, lifecycle_stage=LifecycleStage.CUSTOMER)
                mark_won_back(organization=deal.organization, on=deal.closed_on or timezone.localdate())
    except IntegrityError as exc:
        raise Conflict(
            _("Another deal has the external id “%(id)s”.") % {"id": deal.external_id},
            code="duplicate_external_id",
            field="external_id",
        ) from exc
    return deal


def _fill(deal: Deal, values: DealValues) -> None:
    same_workspace(
        deal.workspace_id,
        organization=values.organization,
        lost_reason=values.lost_reason,
        product_area=values.product_area,
        idea=values.idea,
        owner=values.owner,
    )
    name = " ".join(values.name.split())
    if not name:
        raise ValidationFailed(_("A deal needs a name."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(_("A deal's name is at most %(max)d characters.") % {"max": NAME_MAX}, field="name")
    currency = values.currency.strip().upper() or "USD"
    if not _CURRENCY.match(currency):
        raise ValidationFailed(_("A currency is a three-letter code such as USD or EUR."), field="currency")
    if values.status not in DealStatus.values:
        raise ValidationFailed(_("A deal is open, won or lost."), field="status")
    if values.lost_reason is not None and values.status != DealStatus.LOST:
        raise ValidationFailed(_("Only a lost deal has a lost reason."), field="lost_reason")
    deal.organization = values.organization
    deal.name = name
    deal.amount = money(values.amount, field="amount")
    deal.currency = currency
    deal.stage = " ".join(values.stage.split())[:100]
    deal.status = values.status
    deal.lost_reason = values.lost_reason
    deal.competitor = " ".join(values.competitor.split())[:200]
    deal.industry = " ".join((values.industry or values.organization.industry).split())[:100]
    deal.product_area = values.product_area or (values.idea.product_area if values.idea is not None else None)
    deal.idea = values.idea
    deal.owner = values.owner
    closed = values.status != DealStatus.OPEN
    deal.closed_on = values.closed_on or (timezone.localdate() if closed else None)
    deal.external_id = external_id_of(values.external_id)
    deal.updated_at = timezone.now()


def _evidence_changed(deal: Deal, previous: dict[str, object] | None) -> bool:
    if previous is None:
        return True
    return (previous["lost_reason_id"], previous["industry"], previous["idea_id"]) != (
        deal.lost_reason_id,
        deal.industry,
        deal.idea_id,
    )


def is_product_loss(deal: Deal) -> bool:
    """Lost because the product lacks something, in an industry the company sells into on purpose."""
    return (
        deal.status == DealStatus.LOST
        and deal.lost_reason is not None
        and deal.lost_reason.missing_functionality
        and is_target_industry(deal.workspace_id, deal.industry)
    )


def _act_on_lost_deal(deal: Deal) -> ProductTask | None:
    """The product manager's task (one per deal) and the prospect's critical vote on the idea. Safe to repeat."""
    if not is_product_loss(deal):
        return None
    area = deal.product_area
    task, created = ProductTask.objects.get_or_create(
        workspace_id=deal.workspace_id,
        source_kind=TASK_SOURCE,
        source_id=deal.pk,
        defaults={
            "title": _("Lost deal for missing functionality: %(deal)s (%(organization)s)")
            % {"deal": deal.name, "organization": deal.organization.name},
            "body": _task_body(deal),
            "product_area": area,
            "idea": deal.idea,
            "assignee": area.owner if area is not None else None,
        },
    )
    if not created and task.idea_id is None and deal.idea_id is not None:
        task.idea = deal.idea
        task.save(update_fields=["idea"])
    if deal.idea is not None:
        cast_vote(
            idea=deal.idea,
            voter=Voter(organization=deal.organization),
            source=VoteSource.DEAL,
            importance=Importance.CRITICAL,
        )
    return task


def _task_body(deal: Deal) -> str:
    lines = [
        _("Organization: %(name)s") % {"name": deal.organization.name},
        _("Amount: %(amount)s %(currency)s") % {"amount": deal.amount, "currency": deal.currency},
        _("Industry: %(industry)s") % {"industry": deal.industry},
    ]
    if deal.competitor:
        lines.append(_("Went to: %(competitor)s") % {"competitor": deal.competitor})
    if deal.idea is not None:
        lines.append(_("Idea it needed: %(title)s") % {"title": deal.idea.title})
    return "\n".join(lines)


def _publish_lost(deal: Deal, task: ProductTask | None) -> None:
    reason = deal.lost_reason
    outbox.publish(
        workspace_id=deal.workspace_id,
        name=DEAL_LOST,
        payload={
            "id": deal.pk,
            "external_id": deal.external_id,
            "name": deal.name,
            "organization_id": deal.organization_id,
            "amount": str(deal.amount),
            "currency": deal.currency,
            "lost_reason": reason.name if reason is not None else None,
            "missing_functionality": bool(reason and reason.missing_functionality),
            "competitor": deal.competitor,
            "industry": deal.industry,
            "product_area_id": deal.product_area_id,
            "idea_id": deal.idea_id,
            "closed_on": deal.closed_on.isoformat() if deal.closed_on else None,
            "product_task_id": task.pk if task is not None else None,
        },
    )
