"""The workspace's spam model: the shipped default counts plus what its agents taught it by marking tickets as spam
or not spam (the outbox's ``ticket.spam`` event, consumers.py). The pipeline loads it here and passes it to the
pure ``decide`` (spam.py scores)."""

from __future__ import annotations

import functools
import gzip
import json
import threading
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from deskloop.core.plain_sql import add_to_counters, values
from deskloop.tickets.models import Message, Ticket

from .models import SpamFilterState, SpamLesson, SpamTokenCount
from .spam import Features, SpamModel, TokenCounts, features, read_counts

DEFAULT_MODEL = Path(__file__).resolve().parent / "spam_default_model.json.gz"

# workspace id -> (state version, model): a model is rebuilt only when its workspace learned something since.
# Bounded by the number of workspaces this process delivers mail for; each holds only that workspace's own counts
# beside the shared default.
_models: dict[int, tuple[int, SpamModel]] = {}
_models_lock = threading.Lock()


@functools.cache
def default_counts() -> TokenCounts:
    """The counts trained from the shipped corpus (bench/spam_quality.py --write-model), read once per process."""
    return read_counts(json.loads(gzip.decompress(DEFAULT_MODEL.read_bytes())))


def spam_model(workspace_id: int) -> SpamModel:
    """The workspace's current model: one query for its version (none learned yet: the default alone), one more
    for its counts when they changed since this process last built it."""
    state = values(SpamFilterState, ("version", "spam_messages", "ham_messages"), [("workspace_id", [workspace_id])])
    version, spam_messages, ham_messages = state[0] if state else (0, 0, 0)
    cached = _models.get(workspace_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    if version == 0:
        model = SpamModel(default_counts())
    else:
        rows = values(SpamTokenCount, ("token", "spam", "ham"), [("workspace_id", [workspace_id])])
        learned = TokenCounts(
            counts={str(token): (int(spam), int(ham)) for token, spam, ham in rows},
            spam_messages=int(spam_messages),
            ham_messages=int(ham_messages),
        )
        model = SpamModel(default_counts(), learned)
    with _models_lock:
        _models[workspace_id] = (version, model)
    return model


def learn_from_ticket(*, ticket: Ticket, is_spam: bool) -> bool:
    """Teach the workspace's model that ``ticket`` (its subject, its requester's first message and sender domain)
    is spam or not. A ticket counts once: taught the other way, its counts move from one side to the other; taught
    the same way again (an outbox event run twice), nothing changes. Returns whether anything was learned."""
    with transaction.atomic():
        # The state row serializes the workspace's lessons: two agents' clicks on one ticket cannot both count.
        SpamFilterState.objects.get_or_create(workspace_id=ticket.workspace_id)
        state = SpamFilterState.objects.select_for_update().get(workspace_id=ticket.workspace_id)
        lesson = SpamLesson.objects.filter(ticket_id=ticket.pk).first()
        if lesson is not None and lesson.is_spam == is_spam:
            return False
        taught: Features = lesson.features if lesson is not None else ticket_features(ticket)
        sign = 1 if is_spam else -1
        # New lesson: +1 on its side. Changed mind: +1 on the new side, -1 on the old.
        rows = [
            (ticket.workspace_id, token, *_moved(repeat, is_spam, lesson is not None))
            for token, repeat in taught.items()
        ]
        add_to_counters(SpamTokenCount, keys=("workspace", "token"), counters=("spam", "ham"), rows=rows)
        state.spam_messages += sign if lesson is not None else int(is_spam)
        state.ham_messages += -sign if lesson is not None else int(not is_spam)
        state.version += 1
        state.save(update_fields=["spam_messages", "ham_messages", "version"])
        if lesson is None:
            SpamLesson.objects.create(workspace_id=ticket.workspace_id, ticket=ticket, is_spam=is_spam, features=taught)
        else:
            lesson.is_spam, lesson.learned_at = is_spam, timezone.now()
            lesson.save(update_fields=["is_spam", "learned_at"])
    return True


def _moved(repeat: int, is_spam: bool, relearned: bool) -> tuple[int, int]:
    """(spam, ham) deltas for one token."""
    if is_spam:
        return repeat, -repeat if relearned else 0
    return -repeat if relearned else 0, repeat


def ticket_features(ticket: Ticket) -> Features:
    """What the classifier reads of a ticket, as it read the email that opened it: the subject, the requester's
    first message and the address it came from."""
    first = (
        Message.objects.filter(ticket_id=ticket.pk, author_contact__isnull=False)
        .order_by("created_at", "id")
        .only("body_text", "channel_meta")
        .first()
    )
    sender = ""
    if first is not None and isinstance(first.channel_meta, dict):
        sender = str(first.channel_meta.get("from") or "")
    if not sender:
        sender = ticket.requester.primary_email
    return features(subject=ticket.subject, text=first.body_text if first is not None else "", sender=sender)
