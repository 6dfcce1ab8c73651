"""The product manager's pages, read as an agent through HTTP: areas with owners and counts, and one area's ideas
ranked by value with their evidence, the month's top problems, NPS/CSAT and the open tasks, cut by a segment."""

from __future__ import annotations

import datetime as dt
import html as html_module
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from deskloop.accounts.models import Agent
from deskloop.conftest import Cast, signed_in_client
from deskloop.customers import services as customer_services
from deskloop.customers.models import Contact, Organization, Segment
from deskloop.ideas.models import Idea, IdeaVote, Importance, ProductTask, VoteSource
from deskloop.ideas.services.values import refresh_workspace_values
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.revenue.models import ChurnReason, ChurnRecord, Deal, DealStatus
from deskloop.surveys.models import Survey, SurveyKind, SurveyResponse
from deskloop.tickets.models import ProductArea, RequestType, Ticket
from deskloop.tickets.services.configuration_groups import create_product_area
from deskloop.tickets.services.tickets import NewTicket, open_ticket


def _customer(cast: Cast, name: str, mrr: int, industry: str = "") -> Contact:
    slug = name.lower().replace(" ", "-")
    organization = customer_services.create_organization(
        workspace=cast.workspace, name=name, domains=[f"{slug}.example"], plan="Pro", mrr=mrr
    )
    Organization.objects.filter(pk=organization.pk).update(industry=industry)
    return customer_services.find_or_create_contact(workspace=cast.workspace, email=f"buyer@{slug}.example")


def _problem(cast: Cast, requester: Contact, area: ProductArea, request_type: str) -> Ticket:
    return open_ticket(
        workspace=cast.workspace,
        ticket=NewTicket(
            requester=requester,
            subject="It breaks",
            body_text="It breaks when I export.",
            channel="email",
            product_area=area,
            request_type=request_type,
        ),
    )[0]


@pytest.fixture
def billing(acme: Cast) -> dict[str, object]:
    billing = create_product_area(actor=acme.admin, name="Billing")
    invoices = create_product_area(actor=acme.admin, name="Invoices", parent=billing)
    ProductArea.objects.filter(pk=billing.pk).update(owner=acme.agent)
    field = _customer(acme, "Field Co", 400, industry="Field service")
    retail = _customer(acme, "Shop Co", 30, industry="Retail")
    export = Idea.objects.create(workspace=acme.workspace, title="Export invoices", product_area=invoices)
    dunning = Idea.objects.create(workspace=acme.workspace, title="Smarter dunning", product_area=billing)
    Idea.objects.create(workspace=acme.workspace, title="Dark mode")  # no area: never on Billing's page
    cast_vote(idea=export, voter=Voter(contact=field), source=VoteSource.PORTAL, importance=Importance.CRITICAL)
    cast_vote(idea=dunning, voter=Voter(contact=retail), source=VoteSource.PORTAL)
    cast_vote(idea=dunning, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    # One of Smarter dunning's votes is 45 days old: 1 vote in the last 30 days, 1 in the 30 before.
    IdeaVote.objects.filter(idea=dunning, contact=retail).update(created_at=timezone.now() - dt.timedelta(days=45))
    refresh_workspace_values(acme.workspace.pk)  # the sweep that ages "votes of the last 30 days"
    Deal.objects.create(
        workspace=acme.workspace,
        organization=field.organization,
        name="Field Co expansion",
        amount=Decimal("12000"),
        status=DealStatus.LOST,
        idea=export,
    )
    ChurnRecord.objects.create(
        workspace=acme.workspace,
        organization=retail.organization,
        churned_on=timezone.localdate(),
        mrr_lost=Decimal("30"),
        reason=ChurnReason.MISSING_CAPABILITIES,
        idea=dunning,
    )
    for _n in range(3):
        _problem(acme, field, invoices, RequestType.BUG)
    _problem(acme, retail, billing, RequestType.PROBLEM)
    _problem(acme, retail, billing, RequestType.QUESTION)
    nps = Survey.objects.create(workspace=acme.workspace, kind=SurveyKind.NPS, name="NPS", question="Recommend us?")
    for contact, score in ((field, 10), (retail, 3), (acme.customer, 9)):
        SurveyResponse.objects.create(
            workspace=acme.workspace,
            survey=nps,
            kind=SurveyKind.NPS,
            contact=contact,
            organization=contact.organization,
            product_area=invoices,
            score=score,
            channel="email",
        )
    task = ProductTask.objects.create(
        workspace=acme.workspace, title="Lost Field Co: export", product_area=billing, assignee=acme.agent, idea=export
    )
    return {"billing": billing, "invoices": invoices, "export": export, "dunning": dunning, "task": task}


def _rows(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [
        html_module.unescape(" ".join(re.sub(r"<[^>]+>", " ", row).split())) for row in re.split(r"<tr[^>]*>", body)[2:]
    ]


def test_overview_lists_areas_with_owner_and_counts(acme: Cast, billing: dict[str, object]) -> None:
    response = signed_in_client(acme.viewer).get("/insights/")

    assert response.status_code == 200
    rows = _rows(response.content.decode(), "product-areas")
    # Billing: its own open idea, the votes of the last 30 days on its ideas, its tickets, its task.
    assert rows[0] == "Billing Maria Agent 1 1 2 1"
    assert rows[1] == "Billing > Invoices — 1 1 3 0"


def test_area_page_ranks_ideas_with_their_evidence_problems_scores_and_tasks(
    acme: Cast, billing: dict[str, object]
) -> None:
    area = billing["billing"]
    response = signed_in_client(acme.agent).get(f"/insights/areas/{area.pk}/")  # type: ignore[attr-defined]

    html = response.content.decode()
    assert response.status_code == 200
    ideas = _rows(html, "ranked-ideas")
    # Export (in the child area): 400 x 3, its lost deal. Dunning: Globex 990 + Shop 30, one vote now and one
    # 45 days ago (the trend: 1 against 1), Shop's churn.
    assert ideas == [
        "Export invoices Under review 1,200 1 1 400.00 1 (+1) 0 1 (12,000) 0 0",
        "Smarter dunning Under review 1,020 2 2 1,020.00 1 (0) 0 0 1 (MRR 30) 0",
    ]
    assert _rows(html, "top-problems") == ["Billing > Invoices Bug 3", "Billing Problem 1"]
    assert "Lost Field Co: export" in html
    # NPS of the area's answers: 2 promoters, 1 detractor of 3 = 33.
    scores = html_module.unescape(" ".join(re.sub(r"<[^>]+>", " ", html.split('id="survey-scores"')[1]).split()))
    assert "NPS · By product area Product area NPS Margin of error Answers Billing > Invoices 33 ± " in scores


def test_a_segment_cuts_every_section(acme: Cast, billing: dict[str, object]) -> None:
    field = Segment.objects.create(workspace=acme.workspace, name="Field service", industry="field service")
    area = billing["billing"]

    response = signed_in_client(acme.agent).get(f"/insights/areas/{area.pk}/?segment={field.pk}")  # type: ignore[attr-defined]

    html = response.content.decode()
    assert [row.split(" Under review")[0] for row in _rows(html, "ranked-ideas")] == ["Export invoices"]
    assert _rows(html, "top-problems") == ["Billing > Invoices Bug 3"]
    overview = signed_in_client(acme.agent).get(f"/insights/?segment={field.pk}").content.decode()
    assert _rows(overview, "product-areas")[0] == "Billing Maria Agent 1 0 0 1"


def test_another_workspaces_segment_or_area_is_not_found(
    acme: Cast, umbrella: Cast, billing: dict[str, object]
) -> None:
    theirs = Segment.objects.create(workspace=umbrella.workspace, name="Theirs")
    their_area = create_product_area(actor=umbrella.admin, name="Theirs")
    client = signed_in_client(acme.agent)

    assert client.get(f"/insights/?segment={theirs.pk}").status_code == 404
    assert client.get(f"/insights/areas/{their_area.pk}/").status_code == 404
    assert client.get("/insights/?segment=abc").status_code == 422


def test_marking_a_task_done_takes_it_off_the_page(acme: Cast, billing: dict[str, object]) -> None:
    task = billing["task"]
    area = billing["billing"]

    refused = signed_in_client(acme.viewer).post(f"/insights/tasks/{task.pk}/done/")  # type: ignore[attr-defined]
    assert refused.status_code == 403
    response = signed_in_client(acme.agent).post(f"/insights/tasks/{task.pk}/done/", {"back": "area"})  # type: ignore[attr-defined]

    assert response.status_code == 302
    assert response["Location"] == f"/insights/areas/{area.pk}/"  # type: ignore[attr-defined]
    task.refresh_from_db()  # type: ignore[attr-defined]
    assert task.done_at is not None  # type: ignore[attr-defined]
    assert "Lost Field Co: export" not in signed_in_client(acme.agent).get("/insights/").content.decode()


def test_the_demo_has_owners_segments_and_a_pm_page_with_content(db: None) -> None:
    from deskloop.demo.seed import seed_demo

    report = seed_demo(tickets=40)
    workspace = report.workspace
    amir = Agent.objects.get(workspace=workspace, user__email="amir@acme.example")
    account = ProductArea.objects.get(workspace=workspace, path="Account")
    segments = list(Segment.objects.filter(workspace=workspace).order_by("name").values_list("name", flat=True))
    field = Segment.objects.get(workspace=workspace, industry="Field service")

    assert account.owner == amir
    assert segments == ["Industry = field service", "MRR > 100 and customer for at least 6 months"]
    assert Organization.objects.filter(workspace=workspace, industry="Field service").exists()
    page = signed_in_client(amir).get(f"/insights/?segment={field.pk}")
    assert page.status_code == 200
    assert "Amir Haddad" in page.content.decode()
