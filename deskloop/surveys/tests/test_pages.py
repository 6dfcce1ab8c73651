"""Agents' survey pages: results with NPS/CSAT, n and margin; the responses list cut by product area (with its
sub-areas), segment, score, agent and dates; a comment turned into a vote; surveys set up by admins only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from deskloop.conftest import Cast, signed_in_client
from deskloop.customers import services as customer_services
from deskloop.customers.models import Segment
from deskloop.ideas.models import Idea, IdeaVote
from deskloop.surveys.models import ResponseChannel, Survey, SurveyKind, SurveyResponse
from deskloop.surveys.services.responses import record_response
from deskloop.surveys.services.surveys import SurveySettings, save_survey
from deskloop.tickets.models import ProductArea
from deskloop.tickets.services.configuration_groups import create_product_area
from deskloop.tickets.services.tickets import TicketChanges, update_ticket


@pytest.fixture
def answered(acme: Cast) -> dict[str, object]:
    """Carmen (Globex, MRR 990) answered NPS 3 about Billing > Invoices; Pat (Initech, MRR 50) answered 10 about
    Reports; Carmen's ticket got CSAT 1 of 5 (unhappy) with Maria assigned."""
    billing = create_product_area(actor=acme.admin, name="Billing")
    invoices = create_product_area(actor=acme.admin, name="Invoices", parent=billing)
    reports = create_product_area(actor=acme.admin, name="Reports")
    update_ticket(
        ticket=acme.ticket, changes=TicketChanges(product_area=invoices, assignee=acme.agent), agent=acme.admin
    )
    customer_services.create_organization(
        workspace=acme.workspace, name="Initech", domains=["initech.example"], plan="Basic", mrr=50
    )
    pat = customer_services.find_or_create_contact(workspace=acme.workspace, email="pat@initech.example", name="Pat")
    nps = save_survey(agent=acme.admin, settings=SurveySettings(kind=SurveyKind.NPS, name="NPS", question="?"))
    csat = save_survey(
        agent=acme.admin,
        settings=SurveySettings(kind=SurveyKind.CSAT, name="CSAT", question="?", csat_scale="1_5"),
    )
    carmen_nps = record_response(
        survey=nps, contact=acme.customer, score=3, comment="Invoices are always late", channel=ResponseChannel.WIDGET
    )
    pat_nps = record_response(survey=nps, contact=pat, score=10, channel=ResponseChannel.API)
    SurveyResponse.objects.filter(pk=pat_nps.pk).update(product_area=reports)
    record_response(survey=csat, contact=acme.customer, score=1, channel=ResponseChannel.API, ticket=acme.ticket)
    return {"billing": billing, "invoices": invoices, "reports": reports, "carmen_nps": carmen_nps}


def _scores(html: str) -> list[str]:
    return re.findall(
        r'<a href="/surveys/responses/\d+/">[^<]+</a></td>\s*<td>([^<]+)</td>\s*<td class="num">(\d+)', html
    )


def test_responses_list_cuts_by_area_with_sub_areas_segment_and_score(acme: Cast, answered: dict[str, object]) -> None:
    client = signed_in_client(acme.viewer)
    billing = answered["billing"]
    assert isinstance(billing, ProductArea)
    everything = client.get("/surveys/responses/")
    assert everything.status_code == 200
    assert _scores(everything.content.decode()) == [("CSAT", "1"), ("NPS", "10"), ("NPS", "3")]
    # "Billing" includes "Billing > Invoices".
    by_area = client.get("/surveys/responses/", {"product_area": billing.pk}).content.decode()
    assert _scores(by_area) == [("CSAT", "1"), ("NPS", "3")]
    big = Segment.objects.create(workspace=acme.workspace, name="MRR > 100", mrr_above=100)
    by_segment = client.get("/surveys/responses/", {"segment": big.pk, "kind": "nps"}).content.decode()
    assert _scores(by_segment) == [("NPS", "3")]
    promoters = client.get("/surveys/responses/", {"score_min": 9}).content.decode()
    assert _scores(promoters) == [("NPS", "10")]
    assert client.get("/surveys/responses/", {"score_min": "lots"}).status_code == 400
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert _scores(client.get("/surveys/responses/", {"since": tomorrow}).content.decode()) == []


def test_results_show_nps_and_csat_with_n_and_margin(acme: Cast, answered: dict[str, object]) -> None:
    client = signed_in_client(acme.agent)
    page = client.get("/surveys/").content.decode()
    # NPS: one promoter, one detractor of two = 0, variance 1, margin 1.96 x sqrt(1/2) x 100 = 138.6.
    assert re.search(r'id="nps-overall"><strong data-value>0\.0</strong> <span class="muted">± 138\.6 · n = 2', page)
    # CSAT: 0 of 1 satisfied.
    assert re.search(r'id="csat-overall"><strong data-value>0\.0</strong> <span class="muted">± 0\.0 · n = 1', page)
    by_plan = client.get("/surveys/", {"group": "plan"}).content.decode()
    assert '<td>Basic</td><td class="num">100.0</td>' in by_plan
    assert '<td>Pro</td><td class="num">-100.0</td>' in by_plan
    by_agent = client.get("/surveys/", {"group": "agent", "kind": "csat"}).content.decode()
    assert '<td>Maria Agent</td><td class="num">0.0</td>' in by_agent


def test_an_agent_turns_a_comment_into_a_vote(acme: Cast, answered: dict[str, object]) -> None:
    idea = Idea.objects.create(workspace=acme.workspace, title="Invoices on time")
    response = answered["carmen_nps"]
    assert isinstance(response, SurveyResponse)
    page = signed_in_client(acme.agent).get(f"/surveys/responses/{response.pk}/").content.decode()
    assert "Invoices are always late" in page
    refused = signed_in_client(acme.viewer).post(f"/surveys/responses/{response.pk}/vote/", {"idea": idea.pk})
    assert refused.status_code == 403
    done = signed_in_client(acme.agent).post(
        f"/surveys/responses/{response.pk}/vote/", {"idea": idea.pk, "importance": 2}
    )
    assert done.status_code == 302
    vote = IdeaVote.objects.get(idea=idea)
    assert (vote.contact, vote.source, vote.importance, vote.cast_by) == (acme.customer, "survey", 2, acme.agent)
    response.refresh_from_db()
    assert response.idea_vote == vote
    shown = signed_in_client(acme.agent).get(f"/surveys/responses/{response.pk}/").content.decode()
    assert "Counted as a vote for “Invoices on time”." in shown


def test_admins_set_up_surveys_and_nobody_else(acme: Cast) -> None:
    form = {
        "kind": "micro",
        "name": "Exports",
        "question": "Do you use exports?",
        "question_es": "¿Usa exportaciones?",
        "is_active": "on",
        "csat_scale": "good_bad",
        "answer_type": "yes_no",
        "min_days_between": 30,
    }
    assert signed_in_client(acme.agent).post("/surveys/settings/new/", form).status_code == 403
    assert signed_in_client(acme.admin).post("/surveys/settings/new/", form).status_code == 302
    survey = Survey.objects.get()
    assert (survey.kind, survey.answer_type, survey.min_days_between) == ("micro", "yes_no", 30)
    assert survey.localized_question("es") == "¿Usa exportaciones?"
    bad = signed_in_client(acme.admin).post(f"/surveys/settings/{survey.pk}/", {**form, "name": ""})
    assert bad.status_code == 400
    assert Survey.objects.get().name == "Exports"
