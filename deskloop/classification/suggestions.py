"""Classifying text with the workspace's model, suggesting for new tickets, and what agents do with a suggestion.

The model in use is the workspace's newest ``Classifier``; its parameters are read once per process and kept by
its id (``current_model``), so a request pays one small query to learn the newest id, then only the sentence model.
A new ticket is classified in a background task (an outbox consumer on ``ticket.created`` queues it): its vector is
stored (training reuses it) and a ``TicketSuggestion`` records what the model would set. Accepting goes through
the tickets' one write path (``update_ticket``); changing the area or the type by hand is judged from
``ticket.updated``: the suggested value chosen is an acceptance, another one a correction (and a label for the next
training, like any other).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent
from deskloop.classification import learning
from deskloop.classification.models import Classifier, SuggestionOutcome, TicketSuggestion
from deskloop.classification.training import newest_classifier, retrain_is_due, schedule_training
from deskloop.classification.vectors import store_vectors
from deskloop.core.errors import Conflict, ValidationFailed
from deskloop.core.models import OutboxEvent
from deskloop.knowledge import embedding
from deskloop.tickets.models import ProductArea, RequestType, Ticket
from deskloop.tickets.services.tickets import TicketChanges, update_ticket

NO_MODEL = gettext_noop(
    "This workspace has no trained classifier yet: label some tickets with a product area or request type and run "
    "train_classifier."
)
EMPTY_TEXT = gettext_noop("Give the text to classify.")
NOTHING_TO_ACCEPT = gettext_noop("This suggestion was already decided.")
DECIDERS_ONLY = gettext_noop("Only agents who may change tickets can accept or dismiss a suggestion.")
TEXT_MAX_CHARS = 10_000
# Models kept in memory per process: one per active workspace, a few megabytes each.
CACHED_MODELS = 16

_cache: OrderedDict[int, learning.Model] = OrderedDict()
_cache_lock = threading.Lock()


def _model_of(classifier_id: int) -> learning.Model:
    with _cache_lock:
        model = _cache.get(classifier_id)
        if model is not None:
            _cache.move_to_end(classifier_id)
            return model
    parameters = Classifier.objects.filter(pk=classifier_id).values_list("parameters", flat=True).get()
    model = learning.Model.from_bytes(bytes(parameters))
    with _cache_lock:
        _cache[classifier_id] = model
        while len(_cache) > CACHED_MODELS:
            _cache.popitem(last=False)
    return model


def current_model(workspace_id: int) -> tuple[Classifier, learning.Model] | None:
    classifier = newest_classifier(workspace_id)
    if classifier is None:
        return None
    return classifier, _model_of(classifier.pk)


@dataclass(frozen=True)
class AreaGuess:
    area: ProductArea
    confidence: float


@dataclass(frozen=True)
class TypeGuess:
    value: str
    confidence: float


@dataclass(frozen=True)
class Classification:
    """What the model says; a guess is None where it abstains (or has no head for it)."""

    product_area: AreaGuess | None
    request_type: TypeGuess | None


def _classify(workspace_id: int, model: learning.Model, vector: embedding.Vector, text: str) -> Classification:
    area = kind = None
    head = model.heads.get("product_area")
    if head is not None:
        guess = head.predict(vector, text)
        if guess.label is not None:
            found = ProductArea.objects.filter(workspace_id=workspace_id, pk=int(guess.label)).first()
            # An area deleted since training is no answer.
            area = AreaGuess(found, guess.confidence) if found is not None else None
    head = model.heads.get("request_type")
    if head is not None:
        guess = head.predict(vector, text)
        if guess.label in RequestType.values:
            kind = TypeGuess(guess.label, guess.confidence)
    return Classification(area, kind)


def classify_text(*, workspace_id: int, text: str) -> Classification:
    """Classify free text (``POST /api/v1/classify``); ``Conflict`` when the workspace has no model yet."""
    text = text.strip()[:TEXT_MAX_CHARS]
    if not text:
        raise ValidationFailed(_(EMPTY_TEXT), field="text")
    found = current_model(workspace_id)
    if found is None:
        raise Conflict(_(NO_MODEL), code="no_classifier")
    vector = embedding.encode([text])[0]
    return _classify(workspace_id, found[1], vector, text)


def classify_ticket(*, ticket_id: int) -> TicketSuggestion | None:
    """The background task's work for a new ticket: store its vector and its suggestion, once (safe to run twice).
    Nothing for a workspace without a model: its tickets are embedded when a first training needs them."""
    ticket = Ticket.objects.filter(pk=ticket_id, is_spam=False).only("pk", "workspace_id", "subject").first()
    if ticket is None:
        return None
    existing = TicketSuggestion.objects.filter(ticket=ticket).first()
    if existing is not None:
        return existing
    found = current_model(ticket.workspace_id)
    if found is None:
        return None
    classifier, model = found
    stored = store_vectors([ticket])[ticket.pk]
    guess = _classify(ticket.workspace_id, model, embedding.from_bytes(bytes(stored.vector)), stored.text)
    # Read again: an agent may have set the area or type while the model ran; only what is still empty is suggested.
    current = Ticket.objects.filter(pk=ticket.pk).values("product_area_id", "request_type").get()
    area = guess.product_area if current["product_area_id"] is None else None
    kind = guess.request_type if not current["request_type"] else None
    suggestion, _created = TicketSuggestion.objects.get_or_create(
        ticket=ticket,
        defaults={
            "workspace_id": ticket.workspace_id,
            "classifier": classifier,
            "product_area": area.area if area else None,
            "area_confidence": area.confidence if area else None,
            "request_type": kind.value if kind else "",
            "type_confidence": kind.confidence if kind else None,
            "created_at": timezone.now(),
        },
    )
    return suggestion


def _decide(suggestion: TicketSuggestion, outcome: str, agent: Agent | None) -> None:
    TicketSuggestion.objects.filter(pk=suggestion.pk, outcome=SuggestionOutcome.PENDING).update(
        outcome=outcome, decided_at=timezone.now(), decided_by=agent
    )


def accept_suggestion(*, suggestion: TicketSuggestion, agent: Agent) -> Ticket:
    """Set the ticket's product area and request type to the suggested ones (those it suggested)."""
    require_role(agent, Capability.WRITE, DECIDERS_ONLY)
    if suggestion.outcome != SuggestionOutcome.PENDING or suggestion.is_empty:
        raise Conflict(_(NOTHING_TO_ACCEPT), code="already_decided")
    changes = TicketChanges()
    if suggestion.product_area_id is not None:
        changes.product_area = suggestion.product_area
    if suggestion.request_type:
        changes.request_type = suggestion.request_type
    with transaction.atomic():
        # Decided first: the ``ticket.updated`` this change publishes must not read as a correction.
        _decide(suggestion, SuggestionOutcome.ACCEPTED, agent)
        return update_ticket(ticket=suggestion.ticket, changes=changes, agent=agent)


def dismiss_suggestion(*, suggestion: TicketSuggestion, agent: Agent) -> None:
    require_role(agent, Capability.WRITE, DECIDERS_ONLY)
    if suggestion.outcome != SuggestionOutcome.PENDING:
        raise Conflict(_(NOTHING_TO_ACCEPT), code="already_decided")
    _decide(suggestion, SuggestionOutcome.IGNORED, agent)


def judge_change(*, ticket_id: int, changed: dict[str, object]) -> None:
    """An agent set the area or the type by hand (``changed``: the fields set, with their new values): choosing what
    was suggested for it is an acceptance, anything else a correction. A field it did not touch is not judged."""
    suggestion = TicketSuggestion.objects.filter(ticket_id=ticket_id, outcome=SuggestionOutcome.PENDING).first()
    if suggestion is None or suggestion.is_empty:
        return
    suggested: dict[str, object] = {}
    if suggestion.product_area_id is not None:
        suggested["product_area"] = suggestion.product_area_id
    if suggestion.request_type:
        suggested["request_type"] = suggestion.request_type
    judged = set(suggested) & set(changed)
    if not judged:
        return
    agreed = all(suggested[name] == changed[name] for name in judged)
    _decide(suggestion, SuggestionOutcome.ACCEPTED if agreed else SuggestionOutcome.CORRECTED, None)


def consume_outbox_event(event: OutboxEvent) -> None:
    """``ticket.created``: classify it in the background; ``ticket.updated`` with a new area or type: judge the
    suggestion, and queue a training when enough labels changed."""
    payload = event.payload
    if event.name == "ticket.created":
        from deskloop.classification.tasks import classify_new_ticket

        ticket_id = int(payload["id"])
        if newest_classifier(event.workspace_id) is not None:
            transaction.on_commit(lambda: classify_new_ticket.enqueue(ticket_id))
    elif event.name == "ticket.updated" and {"product_area", "request_type"} & set(payload.get("changes", [])):
        values = {"product_area": payload.get("product_area_id"), "request_type": payload.get("request_type") or ""}
        judge_change(ticket_id=int(payload["id"]), changed={k: v for k, v in values.items() if k in payload["changes"]})
        # Only a workspace that already uses a model: the first one is trained on purpose (the command, or the
        # periodic job), not by the tenth ticket someone happens to label.
        if newest_classifier(event.workspace_id) is not None and retrain_is_due(event.workspace_id):
            schedule_training(event.workspace_id)
