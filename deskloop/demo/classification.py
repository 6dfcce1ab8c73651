"""The demo workspace's auto-classification: request types on its tickets, a model trained on them, and the newest
few tickets left for the model to suggest (the ticket page shows "Suggested: ..." on them after ``make run``).

The labels are written as if agents had set them when each ticket was handled (a plain update, like the rest of the
seeded history, which is over and has no events to announce)."""

from __future__ import annotations

from deskloop.accounts.models import Workspace
from deskloop.classification import learning
from deskloop.classification.suggestions import classify_ticket
from deskloop.classification.training import labelled_tickets, train_workspace
from deskloop.tickets.models import RequestType, StatusCategory, Ticket

# By conversation subject prefix (deskloop/demo/data/conversations.json): what the customer wanted.
FEATURE_REQUESTS = ("Feature request:", "Can reports be emailed", "Sugerencia:", "Предложение:")
BUGS = (
    "iPhone app crashes",
    "Android: timer stops",
    "Dashboard widgets are blank",
    "Time entries export never finishes",
    "Trello import stops",
    "Salesforce sync is creating",
    "Slack notifications stopped",
    "Webhook signature verification",
    "Time entries from last week",
    "La app de Android no sincroniza",
    "Al exportar a Excel",
    "Экспорт в CSV",
    "Отчёт по времени",
    "Вебхуки приходят",
)
QUESTIONS = (
    "How is the price",
    "¿Podemos pasar",
    "Renewal failed",
    "Delete the personal data",
    "Нужен счёт",
    "Перенести проекты",
    "Exported dates are in US format",
)
# The newest new tickets keep no area and no type: the model's suggestions are what the demo shows on them.
LEFT_TO_SUGGEST = 6


def request_type_of(subject: str) -> str:
    for prefixes, kind in (
        (FEATURE_REQUESTS, RequestType.FEATURE_REQUEST),
        (BUGS, RequestType.BUG),
        (QUESTIONS, RequestType.QUESTION),
    ):
        if subject.startswith(prefixes):
            return str(kind)
    return str(RequestType.PROBLEM)


def seed_classification(*, workspace: Workspace) -> None:
    tickets = Ticket.objects.filter(workspace=workspace)
    for subject in set(tickets.values_list("subject", flat=True)):
        tickets.filter(subject=subject).update(request_type=request_type_of(subject))
    newest = list(tickets.filter(status__category=StatusCategory.NEW).order_by("-created_at", "-pk")[:LEFT_TO_SUGGEST])
    tickets.filter(pk__in=[t.pk for t in newest]).update(product_area=None, request_type="")
    # A tiny demo (the tests' few tickets) has nothing to learn from: no model, and no sentence model loaded.
    if len(labelled_tickets(workspace.pk)) < 2 * learning.MIN_LABELLED:
        return
    train_workspace(workspace=workspace)
    for ticket in newest:
        classify_ticket(ticket_id=ticket.pk)
