"""Training a workspace's classifier from its own labelled tickets, and deciding when to train again.

The labels are what agents set (or an import brought): a ticket's product area and its request type. An agent's
correction of a suggestion is such a label, so the next training learns from it without any extra bookkeeping.
``train_workspace`` embeds the labelled tickets that have no vector yet (timed apart: that is the sentence model's
cost, paid once per ticket), trains both heads on the stored vectors and stores a new ``Classifier``.

Retraining (``retrain_due``, a periodic job, and after a label change, ``schedule_retrain_if_due``): when
``RETRAIN_AFTER_LABELS`` tickets were labelled or relabelled since the newest model, or it is older than
``RETRAIN_AFTER`` and anything changed.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from deskloop.accounts.models import Workspace
from deskloop.classification import learning
from deskloop.classification.models import Classifier, SuggestionOutcome, TicketSuggestion, TicketVector
from deskloop.classification.vectors import embed_missing
from deskloop.knowledge import embedding
from deskloop.tickets.models import Ticket

RETRAIN_AFTER_LABELS = 50
RETRAIN_AFTER = dt.timedelta(days=7)
# The most recent labelled tickets a model learns from: what a workspace sells changes, and the lexical half's
# training matrix grows with every ticket (20,000 x 4,096 float32 is 330 MB).
MAX_TRAINING_TICKETS = 20_000
# Training may use both cores of a small server: it runs in a background worker, not beside web requests.
TRAINING_THREADS = 2


@dataclass
class TrainingResult:
    classifier: Classifier | None
    labelled_tickets: int
    embedded: int
    embedding_seconds: float
    training_seconds: float
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)


def labelled_tickets(workspace_id: int) -> list[Ticket]:
    rows = (
        Ticket.objects.filter(workspace_id=workspace_id, is_spam=False)
        .filter(Q(product_area__isnull=False) | ~Q(request_type=""))
        .only("pk", "workspace_id", "subject", "product_area_id", "request_type")
        .order_by("-created_at", "-pk")
    )
    return list(rows[:MAX_TRAINING_TICKETS])


def train_workspace(*, workspace: Workspace) -> TrainingResult:
    """Train and store a new model for ``workspace`` (none is stored when no label set has enough to learn from)."""
    tickets = labelled_tickets(workspace.pk)
    started = time.perf_counter()
    embedded = embed_missing(tickets)
    embedding_seconds = time.perf_counter() - started
    stored = {
        row.ticket_id: row
        for row in TicketVector.objects.filter(ticket__in=tickets, version=embedding.EMBEDDING_VERSION).only(
            "ticket_id", "vector", "text"
        )
    }
    tickets = [t for t in tickets if t.pk in stored]
    started = time.perf_counter()
    model = learning.Model()
    result = TrainingResult(None, len(tickets), embedded, round(embedding_seconds, 2), 0.0)
    with threadpool_limits(limits=TRAINING_THREADS, user_api="blas"):
        for name, label_of in (
            ("product_area", lambda t: str(t.product_area_id) if t.product_area_id else ""),
            ("request_type", lambda t: t.request_type),
        ):
            chosen = [t for t in tickets if label_of(t)]
            vectors = np.stack([embedding.from_bytes(bytes(stored[t.pk].vector)) for t in chosen]) if chosen else None
            trained = (
                learning.train_head(
                    vectors, [stored[t.pk].text for t in chosen], [label_of(t) for t in chosen], clock=time.perf_counter
                )
                if vectors is not None
                else None
            )
            if trained is not None:
                model.heads[name], report = trained
                result.heads[name] = report.as_dict()
    result.training_seconds = round(time.perf_counter() - started, 2)
    if not model.heads:
        return result
    result.classifier = Classifier.objects.create(
        workspace=workspace,
        created_at=timezone.now(),
        embedding_version=embedding.EMBEDDING_VERSION,
        parameters=model.to_bytes(),
        labelled_tickets=len(tickets),
        report={
            "heads": result.heads,
            "embedded": embedded,
            "embedding_seconds": result.embedding_seconds,
            "training_seconds": result.training_seconds,
        },
    )
    return result


def newest_classifier(workspace_id: int) -> Classifier | None:
    return (
        Classifier.objects.filter(workspace_id=workspace_id, embedding_version=embedding.EMBEDDING_VERSION)
        .defer("parameters")
        .order_by("-created_at", "-pk")
        .first()
    )


def new_labels_since(workspace_id: int, since: dt.datetime) -> int:
    """Tickets labelled since ``since``: new labelled tickets and decided suggestions (accepted or corrected)."""
    created = (
        Ticket.objects.filter(workspace_id=workspace_id, created_at__gt=since)
        .filter(Q(product_area__isnull=False) | ~Q(request_type=""))
        .count()
    )
    decided = TicketSuggestion.objects.filter(
        workspace_id=workspace_id,
        decided_at__gt=since,
        outcome__in=(SuggestionOutcome.ACCEPTED, SuggestionOutcome.CORRECTED),
    ).count()
    return created + decided


def retrain_is_due(workspace_id: int, *, now: dt.datetime | None = None) -> bool:
    newest = newest_classifier(workspace_id)
    if newest is None:
        return len(labelled_tickets_ids(workspace_id)) >= learning.MIN_LABELLED
    fresh = new_labels_since(workspace_id, newest.created_at)
    age = (now or timezone.now()) - newest.created_at
    return fresh >= RETRAIN_AFTER_LABELS or (age >= RETRAIN_AFTER and fresh > 0)


def labelled_tickets_ids(workspace_id: int) -> list[int]:
    return list(
        Ticket.objects.filter(workspace_id=workspace_id, is_spam=False)
        .filter(Q(product_area__isnull=False) | ~Q(request_type=""))
        .values_list("pk", flat=True)[: learning.MIN_LABELLED]
    )


def schedule_training(workspace_id: int) -> None:
    from deskloop.classification.tasks import train_classifier

    transaction.on_commit(lambda: train_classifier.enqueue(workspace_id))


def retrain_due() -> int:
    """The periodic job: queue a training for every workspace whose model is due; how many were queued."""
    queued = 0
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        if retrain_is_due(workspace_id):
            schedule_training(workspace_id)
            queued += 1
    return queued


def train_if_due(*, workspace_id: int) -> Classifier | None:
    """The background task's work: train unless another run already caught up (the task may be queued twice)."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None or not retrain_is_due(workspace_id):
        return None
    return train_workspace(workspace=workspace).classifier
