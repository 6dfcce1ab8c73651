"""NPS and CSAT with their margins, exact on fixed data, and cut by product area, plan, segment, agent and team."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from deskloop.conftest import Cast
from deskloop.customers import services as customer_services
from deskloop.customers.models import Organization, Segment
from deskloop.surveys.models import Survey, SurveyKind, SurveyResponse
from deskloop.surveys.stats import Estimate, csat, csat_by, csat_of, nps, nps_by, nps_of
from deskloop.tickets.models import ProductArea
from deskloop.tickets.services.configuration_groups import create_product_area


def _rounded(estimate: Estimate) -> tuple[float | None, int, float | None]:
    value = None if estimate.value is None else round(estimate.value, 2)
    margin = None if estimate.margin_95 is None else round(estimate.margin_95, 2)
    return value, estimate.n, margin


def test_nps_is_promoters_minus_detractors_with_the_margin_of_the_scores_variance() -> None:
    # 50 promoters, 30 passives, 20 detractors: mean 0.3, variance 0.7 - 0.09 = 0.61,
    # margin 1.96 x sqrt(0.61 / 100) x 100 = 15.308...
    assert _rounded(nps(50, 30, 20)) == (30.0, 100, 15.31)
    # 3 promoters, 1 passive, 6 detractors: mean -0.3, variance 0.9 - 0.09 = 0.81, margin 1.96 x 0.9 / sqrt(10) x 100.
    assert _rounded(nps(3, 1, 6)) == (-30.0, 10, 55.78)
    assert nps(4, 0, 0) == Estimate(value=100.0, n=4, margin_95=0.0)
    assert nps(0, 0, 0) == Estimate(value=None, n=0, margin_95=None)


def test_csat_is_the_share_of_good_answers_with_a_proportions_margin() -> None:
    # p = 0.8 of 100: margin 1.96 x sqrt(0.16 / 100) x 100 = 7.84.
    assert _rounded(csat(80, 100)) == (80.0, 100, 7.84)
    # p = 0.5 of 4: margin 1.96 x 0.25 x 100 = 49.
    assert _rounded(csat(2, 4)) == (50.0, 4, 49.0)
    assert csat(0, 0) == Estimate(value=None, n=0, margin_95=None)


@pytest.fixture
def answers(acme: Cast) -> dict[str, object]:
    """Two areas; Globex (Pro, MRR 990) and Initech (Basic, MRR 50); NPS and CSAT answers spread over them."""
    billing = create_product_area(actor=acme.admin, name="Billing")
    invoices = create_product_area(actor=acme.admin, name="Invoices", parent=billing)
    reports = create_product_area(actor=acme.admin, name="Reports")
    initech = customer_services.create_organization(
        workspace=acme.workspace, name="Initech", domains=["initech.example"], plan="Basic", mrr=50
    )
    nps_survey = Survey.objects.create(workspace=acme.workspace, kind=SurveyKind.NPS, name="NPS", question="?")
    csat_survey = Survey.objects.create(workspace=acme.workspace, kind=SurveyKind.CSAT, name="CSAT", question="?")
    day = timezone.now() - dt.timedelta(days=10)

    def answer(
        survey: Survey, score: int, organization: Organization, area: object, *, agent: object = None, old: bool = False
    ) -> None:
        SurveyResponse.objects.create(
            workspace=acme.workspace,
            survey=survey,
            kind=survey.kind,
            score=score,
            satisfied=(score >= 4) if survey.kind == SurveyKind.CSAT else None,
            organization=organization,
            product_area=area,
            agent=agent,
            team=acme.support if agent is not None else None,
            channel="email",
            created_at=day - dt.timedelta(days=100) if old else day,
        )

    # Invoices (Globex): 10, 9, 8, 3 -> 2 promoters, 1 passive, 1 detractor. Reports (Initech): 0, 6 -> 2 detractors.
    for score in (10, 9, 8, 3):
        answer(nps_survey, score, acme.organization, invoices)
    for score in (0, 6):
        answer(nps_survey, score, initech, reports)
    # Outside the window: counts only when no window is asked for.
    answer(nps_survey, 10, initech, None, old=True)
    # CSAT: Maria 5, 4, 2 (Globex); nobody's 1 (Initech).
    for score in (5, 4, 2):
        answer(csat_survey, score, acme.organization, invoices, agent=acme.agent)
    answer(csat_survey, 1, initech, reports)
    return {"billing": billing, "invoices": invoices, "reports": reports, "since": day - dt.timedelta(days=1)}


def test_nps_by_product_area_and_plan_count_only_the_window(acme: Cast, answers: dict[str, object]) -> None:
    since = answers["since"]
    assert isinstance(since, dt.datetime)
    by_area = nps_by(acme.workspace.pk, group="product_area", since=since)
    # Invoices: (2 - 1) / 4 = 25, variance 3/4 - 1/16 = 11/16, margin 1.96 x sqrt(11/64) x 100 = 81.26.
    # Reports: two detractors = -100, variance 0.
    assert [(row.label, _rounded(row.estimate)) for row in by_area] == [
        ("Billing > Invoices", (25.0, 4, 81.26)),
        ("Reports", (-100.0, 2, 0.0)),
    ]
    by_plan = nps_by(acme.workspace.pk, group="plan")
    # Without a window the old promoter counts: Basic has 10, 0, 6 -> (1 - 2) / 3.
    assert [(row.key, row.label, _rounded(row.estimate)[:2]) for row in by_plan] == [
        ("Pro", "Pro", (25.0, 4)),
        ("Basic", "Basic", (-33.33, 3)),
    ]
    # Overall: 2 promoters, 1 passive, 3 detractors: -1/6, variance 5/6 - 1/36 = 29/36, margin 1.96 x sqrt(29/216).
    assert _rounded(nps_of(acme.workspace.pk, since=since)) == (-16.67, 6, 71.82)


def test_a_segment_narrows_the_answers_and_groups_by_segment(acme: Cast, answers: dict[str, object]) -> None:
    big = Segment.objects.create(workspace=acme.workspace, name="MRR > 100", mrr_above=100)
    Segment.objects.create(workspace=acme.workspace, name="Basic plan", plan="basic")
    only_big = nps_by(acme.workspace.pk, group="product_area", segment=big)
    assert [(row.label, row.estimate.n) for row in only_big] == [("Billing > Invoices", 4)]
    by_segment = nps_by(acme.workspace.pk, group="segment")
    assert [(row.label, _rounded(row.estimate)[:2]) for row in by_segment] == [
        ("Basic plan", (-33.33, 3)),
        ("MRR > 100", (25.0, 4)),
    ]


def test_csat_by_agent_team_and_area(acme: Cast, answers: dict[str, object]) -> None:
    by_agent = csat_by(acme.workspace.pk, group="agent")
    # Maria: 2 good of 3 = 66.67, margin 1.96 x sqrt(2/9 / 3) x 100 = 53.34.
    assert [(row.label, _rounded(row.estimate)) for row in by_agent] == [
        ("Maria Agent", (66.67, 3, 53.34)),
        ("No agent", (0.0, 1, 0.0)),
    ]
    by_team = csat_by(acme.workspace.pk, group="team")
    assert [(row.label, row.estimate.n) for row in by_team] == [("Support", 3), ("No team", 1)]
    reports = answers["reports"]
    assert isinstance(reports, ProductArea)
    assert _rounded(csat_of(acme.workspace.pk))[:2] == (50.0, 4)
    assert _rounded(csat_of(acme.workspace.pk, product_area_ids=[reports.pk]))[:2] == (0.0, 1)
