from __future__ import annotations

from deskloop.classification.models import Classifier, TicketSuggestion
from deskloop.demo.classification import LEFT_TO_SUGGEST, request_type_of
from deskloop.demo.seed import seed_demo
from deskloop.tickets.models import Ticket


def test_the_demo_has_request_types_a_trained_model_and_suggestions_on_its_newest_tickets(db: None) -> None:
    workspace = seed_demo(tickets=60).workspace

    tickets = Ticket.objects.filter(workspace=workspace)
    assert set(tickets.exclude(request_type="").values_list("request_type", flat=True)) == {
        "question",
        "problem",
        "bug",
        "feature_request",
    }
    left = tickets.filter(request_type="", product_area=None)
    assert 0 < left.count() <= LEFT_TO_SUGGEST
    assert Classifier.objects.filter(workspace=workspace).count() == 1
    suggested = TicketSuggestion.objects.filter(workspace=workspace)
    assert sorted(suggested.values_list("ticket_id", flat=True)) == sorted(left.values_list("pk", flat=True))


def test_request_types_of_demo_subjects() -> None:
    assert request_type_of("Feature request: recurring tasks") == "feature_request"
    assert request_type_of("iPhone app crashes right after opening") == "bug"
    assert request_type_of("How is the price calculated if we upgrade mid-month?") == "question"
    assert request_type_of("We were charged twice this month") == "problem"
