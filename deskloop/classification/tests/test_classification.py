"""Auto-classification from the user's side: tickets imported with labels (real Banking77 queries), trained with
``train_classifier``, asked over ``POST /api/v1/classify``, and a new ticket's suggestion accepted, corrected or
dismissed on the ticket page. The real sentence model runs (no mocks); each test trains on a few dozen queries."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from deskloop.classification.models import Classifier, SuggestionOutcome, TicketSuggestion, TicketVector
from deskloop.conftest import Cast, api_client, api_send, problem_body, signed_in_client
from deskloop.tickets.models import ProductArea, Ticket
from deskloop.tickets.services.tickets import NewTicket, open_ticket

BANKING77 = Path(__file__).resolve().parents[3] / "testdata" / "text" / "intents-banking77" / "train.csv"
# Four intents customers word differently enough; each maps to a product area and a request type.
INTENTS = {
    "card_arrival": ("Cards/Delivery", "question"),
    "exchange_rate": ("Payments/Exchange rates", "question"),
    "lost_or_stolen_card": ("Cards/Lost and stolen", "problem"),
    "declined_transfer": ("Payments/Transfers", "problem"),
}
PER_INTENT = 24
HELD_OUT = 4


def _queries() -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = {name: [] for name in INTENTS}
    with BANKING77.open(newline="") as handle:
        for row in csv.DictReader(handle):
            texts = by_intent.get(row["category"])
            if texts is not None and len(texts) < PER_INTENT + HELD_OUT:
                texts.append(row["text"])
    return by_intent


def _import_labelled(cast: Cast, tmp_path: Path) -> dict[str, list[str]]:
    """Imports PER_INTENT queries per intent as labelled tickets; returns the queries held back."""
    queries = _queries()
    path = tmp_path / "tickets.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "subject", "requester_email", "product_area", "request_type"])
        for intent, texts in queries.items():
            area, kind = INTENTS[intent]
            for n, text in enumerate(texts[:PER_INTENT]):
                writer.writerow([f"{intent}-{n}", text, f"customer{n}@example.com", area, kind])
    call_command("import_tickets", str(path), "--workspace", cast.workspace.slug, stdout=StringIO(), verbosity=0)
    return {intent: texts[PER_INTENT:] for intent, texts in queries.items()}


def _train(cast: Cast) -> str:
    out = StringIO()
    call_command("train_classifier", "--workspace", cast.workspace.slug, stdout=out)
    return out.getvalue()


def _classify(cast: Cast, text: str) -> Any:
    return api_send(api_client(cast.agent), "post", "/api/v1/classify", {"text": text})


def test_imported_labels_train_a_model_that_classifies_unseen_queries(acme: Cast, tmp_path: Path) -> None:
    held_out = _import_labelled(acme, tmp_path)
    assert Ticket.objects.filter(workspace=acme.workspace, request_type="problem").count() == 2 * PER_INTENT

    output = _train(acme)

    labelled = 4 * PER_INTENT
    assert f"acme: {labelled} labelled tickets; embedded {labelled} in" in output
    assert f"  product_area: {labelled} tickets, 4 classes, {4 * round(PER_INTENT * 0.2)} held out;" in output
    assert f"  request_type: {labelled} tickets, 2 classes," in output
    assert TicketVector.objects.filter(workspace=acme.workspace).count() == labelled
    right = 0
    for intent, texts in held_out.items():
        for text in texts:
            response = _classify(acme, text)
            assert response.status_code == 200, response.content
            body = json.loads(response.content)
            area = body["product_area"]
            right += area is not None and area["path"] == INTENTS[intent][0].replace("/", " > ")
    # 16 unseen queries of four intents, learned from 24 each: at most two may be missed or abstained on.
    assert right >= 14


def test_a_query_about_something_else_gets_no_area(acme: Cast, tmp_path: Path) -> None:
    _import_labelled(acme, tmp_path)
    _train(acme)

    response = _classify(acme, "what is the weather going to be like in paris tomorrow")

    assert response.status_code == 200
    assert json.loads(response.content)["product_area"] is None


def test_classify_without_a_model_is_a_conflict(acme: Cast) -> None:
    response = _classify(acme, "My card has not arrived yet")

    assert response.status_code == 409
    assert problem_body(response)["code"] == "no_classifier"


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {}, {"text": "x" * 10_001}])
def test_classify_refuses_empty_or_huge_text(acme: Cast, body: dict[str, Any]) -> None:
    response = api_send(api_client(acme.agent), "post", "/api/v1/classify", body)

    assert response.status_code == 422
    assert problem_body(response)["status"] == 422


def test_training_with_too_few_labels_says_so_and_stores_nothing(acme: Cast) -> None:
    with pytest.raises(CommandError, match="Too few labelled tickets"):
        _train(acme)

    assert not Classifier.objects.filter(workspace=acme.workspace).exists()


Capture = Any


def _new_ticket(cast: Cast, subject: str, capture: Capture) -> Ticket:
    """Opened as a channel opens it; the outbox's consumers (the classification task among them) run after commit."""
    with capture(execute=True):
        return open_ticket(workspace=cast.workspace, ticket=NewTicket(requester=cast.customer, subject=subject))[0]


def test_a_new_ticket_gets_a_suggestion_the_agent_accepts(
    acme: Cast, tmp_path: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    _import_labelled(acme, tmp_path)
    _train(acme)

    ticket = _new_ticket(
        acme, "I lost my card on the train yesterday, please block it", django_capture_on_commit_callbacks
    )

    suggestion = TicketSuggestion.objects.get(ticket=ticket)
    area = ProductArea.objects.get(workspace=acme.workspace, path="Cards > Lost and stolen")
    assert (suggestion.product_area_id, suggestion.request_type) == (area.pk, "problem")
    client = signed_in_client(acme.agent)
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Product area: Cards &gt; Lost and stolen, " in html
    assert "Request type: Problem, " in html

    response = client.post(f"/tickets/{ticket.number}/suggestion/accept/")

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.product_area_id, ticket.request_type) == (area.pk, "problem")
    suggestion.refresh_from_db()
    assert (suggestion.outcome, suggestion.decided_by_id) == (SuggestionOutcome.ACCEPTED, acme.agent.pk)
    assert "data-classification-suggestion" not in client.get(f"/tickets/{ticket.number}/").content.decode()


def test_choosing_another_area_is_a_correction_the_next_training_learns(
    acme: Cast, tmp_path: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    _import_labelled(acme, tmp_path)
    _train(acme)
    ticket = _new_ticket(
        acme, "I lost my card on the train yesterday, please block it", django_capture_on_commit_callbacks
    )
    other = ProductArea.objects.get(workspace=acme.workspace, path="Cards > Delivery")

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in_client(acme.agent).post(
            f"/tickets/{ticket.number}/properties/",
            {"expected_version": ticket.version, "product_area": other.pk, "request_type": "bug"},
        )

    assert response.status_code in (200, 302)
    ticket.refresh_from_db()
    assert (ticket.product_area_id, ticket.request_type) == (other.pk, "bug")
    assert TicketSuggestion.objects.get(ticket=ticket).outcome == SuggestionOutcome.CORRECTED
    output = _train(acme)
    assert f"acme: {4 * PER_INTENT + 1} labelled tickets; embedded 0 in" in output


def test_dismissing_hides_the_suggestion(
    acme: Cast, tmp_path: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    _import_labelled(acme, tmp_path)
    _train(acme)
    ticket = _new_ticket(acme, "when will my new card arrive", django_capture_on_commit_callbacks)
    client = signed_in_client(acme.agent)

    assert client.post(f"/tickets/{ticket.number}/suggestion/dismiss/").status_code == 302

    assert TicketSuggestion.objects.get(ticket=ticket).outcome == SuggestionOutcome.IGNORED
    ticket.refresh_from_db()
    assert (ticket.product_area_id, ticket.request_type) == (None, "")
    assert "data-classification-suggestion" not in client.get(f"/tickets/{ticket.number}/").content.decode()
    # Decided once: accepting afterwards is refused and changes nothing.
    client.post(f"/tickets/{ticket.number}/suggestion/accept/")
    ticket.refresh_from_db()
    assert ticket.product_area_id is None


def test_suggestions_of_another_workspace_or_for_a_viewer_are_refused(
    acme: Cast, umbrella: Cast, tmp_path: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    _import_labelled(acme, tmp_path)
    _train(acme)
    ticket = _new_ticket(acme, "when will my new card arrive", django_capture_on_commit_callbacks)

    assert signed_in_client(umbrella.agent).post(f"/tickets/{ticket.number}/suggestion/accept/").status_code == 404
    assert signed_in_client(acme.viewer).post(f"/tickets/{ticket.number}/suggestion/accept/").status_code == 403

    assert TicketSuggestion.objects.get(ticket=ticket).outcome == SuggestionOutcome.PENDING
    ticket.refresh_from_db()
    assert ticket.product_area_id is None


def test_without_a_model_new_tickets_are_not_embedded(acme: Cast, django_capture_on_commit_callbacks: Capture) -> None:
    _new_ticket(acme, "when will my new card arrive", django_capture_on_commit_callbacks)

    assert not TicketVector.objects.exists()
    assert not TicketSuggestion.objects.exists()


def test_the_scheduler_trains_a_workspace_once_it_has_labels_and_not_again_until_more_come(
    acme: Cast, tmp_path: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    _import_labelled(acme, tmp_path)

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_periodic", "--once", stdout=out)

    assert "retrain_classifiers: 1" in out.getvalue().splitlines()
    assert Classifier.objects.filter(workspace=acme.workspace).count() == 1
    again = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_periodic", "--once", stdout=again)
    assert "retrain_classifiers: 0" in again.getvalue().splitlines()
    assert Classifier.objects.filter(workspace=acme.workspace).count() == 1
