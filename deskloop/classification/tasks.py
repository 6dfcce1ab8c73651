from __future__ import annotations

from django_tasks import task

from deskloop.classification.suggestions import classify_ticket
from deskloop.classification.training import train_if_due


@task()
def classify_new_ticket(ticket_id: int) -> None:
    """Store a new ticket's vector and suggestion (idempotent: a second run finds the suggestion)."""
    classify_ticket(ticket_id=ticket_id)


@task()
def train_classifier(workspace_id: int) -> None:
    """Retrain the workspace's model if it is still due (a second queued run finds it trained)."""
    train_if_due(workspace_id=workspace_id)
