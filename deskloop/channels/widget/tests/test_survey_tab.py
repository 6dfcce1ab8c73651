"""The widget's Survey tab: the identified customer answers NPS in the panel and is not asked again within the gap;
a micro-survey reaches only its segment; an anonymous visitor is asked nothing."""

from __future__ import annotations

from deskloop.conftest import Cast
from deskloop.customers.models import Segment
from deskloop.surveys.models import SurveyKind, SurveyResponse
from deskloop.surveys.services.surveys import SurveySettings, save_survey

from .conftest import ACME_SECRET, Panel, Shelf, signed_claims


def _identified(acme: Cast, email: str = "carmen@globex-acme.example") -> Panel:
    panel = Panel("acme")
    assert panel.identify(signed_claims("acme", ACME_SECRET, user_id="u-1", email=email)).status_code == 200
    return panel


def test_an_identified_customer_answers_nps_in_the_panel_once_per_gap(acme: Cast, shelf: Shelf) -> None:
    nps = save_survey(
        agent=acme.admin,
        settings=SurveySettings(
            kind=SurveyKind.NPS, name="NPS", question="Recommend us?", question_translations={"es": "¿Nos recomienda?"}
        ),
    )
    panel = _identified(acme)
    assert 'id="tab-survey"' in panel.page.content.decode()
    asked = panel.get("survey/").content.decode()
    assert "Recommend us?" in asked
    assert asked.count('type="radio" name="score"') == 11

    answered = panel.post("survey/", {"survey": str(nps.pk), "score": "9", "comment": "Great exports"})
    assert answered.status_code == 200
    assert "Thank you! Your answer helps us do better." in answered.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.contact, response.score, response.channel, response.comment) == (
        acme.customer,
        9,
        "widget",
        "Great exports",
    )
    # Not asked again, and a replayed answer is refused and stores nothing.
    assert "Nothing to answer right now." in panel.get("survey/").content.decode()
    replay = panel.post("survey/", {"survey": str(nps.pk), "score": "0"})
    assert replay.status_code == 409
    assert SurveyResponse.objects.count() == 1


def test_a_micro_survey_reaches_its_segment_only(acme: Cast, shelf: Shelf) -> None:
    pro = Segment.objects.create(workspace=acme.workspace, name="Pro", plan="pro")
    micro = save_survey(
        agent=acme.admin,
        settings=SurveySettings(
            kind=SurveyKind.MICRO, name="Exports", question="Do you export data?", answer_type="yes_no", segment=pro
        ),
    )
    outsider = _identified(acme, email="pat@initech.example")
    assert "Nothing to answer right now." in outsider.get("survey/").content.decode()
    refused = outsider.post("survey/", {"survey": str(micro.pk), "score": "1"})
    assert refused.status_code == 403
    member = _identified(acme)
    asked = member.get("survey/").content.decode()
    assert "Do you export data?" in asked
    assert member.post("survey/", {"survey": str(micro.pk), "score": "1"}).status_code == 200
    assert list(SurveyResponse.objects.values_list("kind", "score")) == [("micro", 1)]


def test_an_anonymous_visitor_is_asked_nothing(acme: Cast, shelf: Shelf) -> None:
    nps = save_survey(agent=acme.admin, settings=SurveySettings(kind=SurveyKind.NPS, name="NPS", question="?"))
    panel = Panel("acme")
    assert "Surveys appear here" in panel.get("survey/").content.decode()
    panel.post("survey/", {"survey": str(nps.pk), "score": "10"})
    assert SurveyResponse.objects.count() == 0
