"""Survey responses over the API: the customer's own app records an answer (once per gap), lists cut by product
area and segment, the webhook event, another workspace's responses are 404."""

from __future__ import annotations

import json

from deskloop.conftest import Cast, api_client, api_send, problem_body
from deskloop.core.models import OutboxEvent
from deskloop.customers.models import Segment
from deskloop.surveys.models import SurveyKind, SurveyResponse
from deskloop.surveys.services.surveys import SurveySettings, save_survey
from deskloop.tickets.services.configuration_groups import create_product_area
from deskloop.tickets.services.tickets import TicketChanges, update_ticket


def test_an_app_records_an_answer_once_per_gap_and_lists_it(acme: Cast, umbrella: Cast) -> None:
    nps = save_survey(agent=acme.admin, settings=SurveySettings(kind=SurveyKind.NPS, name="NPS", question="?"))
    client = api_client(acme.agent)
    created = api_send(
        client,
        "post",
        "/api/v1/survey-responses",
        {"survey_id": nps.pk, "email": "new.person@initech.example", "score": 6, "comment": "Slow exports"},
    )
    assert created.status_code == 201, created.content
    body = json.loads(created.content)
    assert (body["kind"], body["score"], body["channel"], body["comment"]) == ("nps", 6, "api", "Slow exports")
    assert body["contact"]["email"] == "new.person@initech.example"
    # A detractor: the follow-up ticket exists and the webhook event carries the answer.
    assert body["follow_up_ticket_number"] is not None
    event = OutboxEvent.objects.get(name="survey.response_created")
    assert (event.payload["id"], event.payload["score"], event.payload["kind"]) == (body["id"], 6, "nps")

    again = api_send(
        client,
        "post",
        "/api/v1/survey-responses",
        {"survey_id": nps.pk, "email": "new.person@initech.example", "score": 9},
    )
    assert again.status_code == 409
    assert problem_body(again)["code"] == "not_due"
    out_of_range = api_send(
        client, "post", "/api/v1/survey-responses", {"survey_id": nps.pk, "contact_id": acme.customer.pk, "score": 11}
    )
    assert out_of_range.status_code == 422
    foreign_survey = save_survey(
        agent=umbrella.admin, settings=SurveySettings(kind=SurveyKind.NPS, name="NPS", question="?")
    )
    refused = api_send(
        client,
        "post",
        "/api/v1/survey-responses",
        {"survey_id": foreign_survey.pk, "contact_id": acme.customer.pk, "score": 9},
    )
    assert refused.status_code == 422
    assert SurveyResponse.objects.count() == 1

    listed = json.loads(api_send(client, "get", "/api/v1/survey-responses?kind=nps").content)
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert api_send(client, "get", f"/api/v1/survey-responses/{body['id']}").status_code == 200
    assert api_send(api_client(umbrella.agent), "get", f"/api/v1/survey-responses/{body['id']}").status_code == 404
    viewer = api_send(
        api_client(acme.viewer),
        "post",
        "/api/v1/survey-responses",
        {"survey_id": nps.pk, "contact_id": acme.customer.pk, "score": 9},
    )
    assert viewer.status_code == 403


def test_the_list_cuts_by_product_area_and_segment(acme: Cast) -> None:
    csat = save_survey(agent=acme.admin, settings=SurveySettings(kind=SurveyKind.CSAT, name="CSAT", question="?"))
    billing = create_product_area(actor=acme.admin, name="Billing")
    invoices = create_product_area(actor=acme.admin, name="Invoices", parent=billing)
    update_ticket(ticket=acme.ticket, changes=TicketChanges(product_area=invoices), agent=acme.admin)
    client = api_client(acme.agent)
    created = api_send(
        client,
        "post",
        "/api/v1/survey-responses",
        {"survey_id": csat.pk, "contact_id": acme.customer.pk, "score": 1, "ticket_number": acme.ticket.number},
    )
    assert created.status_code == 201
    assert json.loads(created.content)["satisfied"] is True
    small = Segment.objects.create(workspace=acme.workspace, name="Small", mrr_above=5000)

    def ids(query: str) -> list[int]:
        return [
            item["id"]
            for item in json.loads(api_send(client, "get", f"/api/v1/survey-responses?{query}").content)["items"]
        ]

    assert ids(f"product_area_id={billing.pk}") == [json.loads(created.content)["id"]]
    assert ids(f"segment_id={small.pk}") == []


def test_an_answer_is_delivered_to_webhooks_subscribed_to_survey_response_created(acme: Cast) -> None:
    from deskloop.core.outbox import dispatch
    from deskloop.webhooks.models import Delivery, Endpoint

    Endpoint.objects.create(
        workspace=acme.workspace, url="https://hooks.acme.example/in", secret="s", events=["survey.response_created"]
    )
    nps = save_survey(agent=acme.admin, settings=SurveySettings(kind=SurveyKind.NPS, name="NPS", question="?"))
    created = api_send(
        api_client(acme.agent),
        "post",
        "/api/v1/survey-responses",
        {"survey_id": nps.pk, "contact_id": acme.customer.pk, "score": 10, "comment": "Love it"},
    )
    assert created.status_code == 201
    dispatch(OutboxEvent.objects.get(name="survey.response_created").pk)
    delivery = Delivery.objects.get(event="survey.response_created")
    body = json.loads(delivery.body)
    payload = body.get("data", body)
    assert (payload["score"], payload["comment"], payload["contact_id"]) == (10, "Love it", acme.customer.pk)
