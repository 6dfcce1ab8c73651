"""The one write path of churn records (the churn form, the API, the CSV import, the demo).

Recording churn moves the organization to the churned stage and publishes ``churn.recorded``. When the organization
is a customer again (an agent sets its stage back, or a deal with it is won) its open churn records are won back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
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
from deskloop.core.models import OutboxEvent
from deskloop.customers.models import LifecycleStage, Organization
from deskloop.customers.services import LIFECYCLE_CHANGED, set_lifecycle_stage
from deskloop.ideas.models import Idea
from deskloop.revenue.models import ChurnReason, ChurnRecord
from deskloop.revenue.services.common import external_id_of, money, same_workspace
from deskloop.tickets.models import ProductArea

CHURN_WRITERS_ONLY = gettext_noop("Your role cannot record churn.")
CHURN_RECORDED = "churn.recorded"
NOTES_MAX = 10_000


@dataclass(frozen=True)
class ChurnValues:
    organization: Organization
    churned_on: dt.date
    reason: str
    mrr_lost: Decimal | int | str = 0
    product_area: ProductArea | None = None
    idea: Idea | None = None
    notes: str = ""
    won_back_on: dt.date | None = None
    external_id: str | None = None


def record_churn(*, workspace: Workspace, values: ChurnValues, actor: Agent | None) -> ChurnRecord:
    """A new churn record; the organization becomes churned unless the record says it is already won back.
    ``actor`` None: a trusted caller (the import command, the demo)."""
    _check_actor(actor, workspace.pk)
    record = ChurnRecord(workspace=workspace)
    _fill(record, values)
    with _unique_external_id(record):
        record.save()
        if record.won_back_on is None:
            set_lifecycle_stage(organization=record.organization, lifecycle_stage=LifecycleStage.CHURNED)
        outbox.publish(workspace_id=record.workspace_id, name=CHURN_RECORDED, payload=_payload(record))
    return record


def update_churn(*, record: ChurnRecord, values: ChurnValues, actor: Agent | None) -> ChurnRecord:
    _check_actor(actor, record.workspace_id)
    _fill(record, values)
    with _unique_external_id(record):
        record.save()
    return record


def mark_won_back(*, organization: Organization, on: dt.date) -> int:
    """The organization is a customer again: its open churn records are won back ``on`` that day."""
    return ChurnRecord.objects.filter(
        workspace_id=organization.workspace_id, organization=organization, won_back_on__isnull=True, churned_on__lte=on
    ).update(won_back_on=on)


def won_back_on_lifecycle_change(event: OutboxEvent) -> None:
    """Outbox consumer: an agent set a churned organization's stage back to customer."""
    if event.name != LIFECYCLE_CHANGED or event.payload.get("stage") != LifecycleStage.CUSTOMER:
        return
    organization = Organization.objects.filter(
        workspace_id=event.workspace_id, pk=event.payload.get("organization_id")
    ).first()
    if organization is not None:
        mark_won_back(organization=organization, on=timezone.localdate(event.created_at))


def _check_actor(actor: Agent | None, workspace_id: int) -> None:
    if actor is None:
        return
    require_role(actor, Capability.WRITE, CHURN_WRITERS_ONLY)
    if actor.workspace_id != workspace_id:
        raise NotFound(_("No such churn record in this workspace."))


def _fill(record: ChurnRecord, values: ChurnValues) -> None:
    same_workspace(
        record.workspace_id, organization=values.organization, product_area=values.product_area, idea=values.idea
    )
    if values.reason not in ChurnReason.values:
        raise ValidationFailed(_("Unknown churn reason."), field="reason")
    if values.churned_on > timezone.localdate():
        raise ValidationFailed(_("The churn date is in the future."), field="churned_on")
    if values.won_back_on is not None and values.won_back_on < values.churned_on:
        raise ValidationFailed(_("An organization is won back after it churned."), field="won_back_on")
    if len(values.notes) > NOTES_MAX:
        raise ValidationFailed(_("Notes are at most %(max)d characters.") % {"max": NOTES_MAX}, field="notes")
    record.organization = values.organization
    record.churned_on = values.churned_on
    record.reason = values.reason
    record.mrr_lost = money(values.mrr_lost, field="mrr_lost")
    record.product_area = values.product_area or (values.idea.product_area if values.idea is not None else None)
    record.idea = values.idea
    record.notes = values.notes.strip()
    record.won_back_on = values.won_back_on
    record.external_id = external_id_of(values.external_id)


@contextmanager
def _unique_external_id(record: ChurnRecord) -> Iterator[None]:
    """One transaction around the write; a clash on the external id becomes a Conflict on that field."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise Conflict(
            _("Another churn record has the external id “%(id)s”.") % {"id": record.external_id},
            code="duplicate_external_id",
            field="external_id",
        ) from exc


def _payload(record: ChurnRecord) -> dict[str, object]:
    return {
        "id": record.pk,
        "external_id": record.external_id,
        "organization_id": record.organization_id,
        "churned_on": record.churned_on.isoformat(),
        "mrr_lost": str(record.mrr_lost),
        "reason": record.reason,
        "product_area_id": record.product_area_id,
        "idea_id": record.idea_id,
    }
