"""The revenue pages from an agent's side: record a deal and churn through the forms, lists cut by product area and
segment, the reports' numbers and the lists they link to, the settings screen, and the CSV import's preview and
import (idempotent by external id, per-row errors, organizations created and said so)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.models import Organization
from deskloop.customers.segments import SegmentRules, save_segment
from deskloop.ideas.models import ProductTask
from deskloop.revenue.models import ChurnReason, ChurnRecord, Deal, LostReason
from deskloop.revenue.services.churn import ChurnValues, record_churn
from deskloop.revenue.services.setup import settings_of
from deskloop.revenue.tests.conftest import Pipeline
from deskloop.tickets.models import ProductArea


def test_an_agent_records_a_lost_deal_through_the_form_and_sees_the_task(acme: Cast, pipeline: Pipeline) -> None:
    client = signed_in_client(acme.other_team_agent)
    response = client.post(
        "/revenue/deals/new/",
        {
            "organization": "initech field services",
            "name": "Initech rollout",
            "amount": "12000",
            "currency": "usd",
            "status": "lost",
            "lost_reason": pipeline.missing_functionality.pk,
            "idea": pipeline.idea.pk,
        },
    )
    deal = Deal.objects.get(workspace=acme.workspace)
    assert response.status_code == 302
    assert response["Location"] == f"/revenue/deals/{deal.pk}/"
    assert (deal.currency, deal.amount, deal.product_area) == ("USD", Decimal("12000.00"), pipeline.area)
    page = signed_in_client(pipeline.pm).get(f"/revenue/deals/{deal.pk}/").content.decode()
    assert "Lost deal for missing functionality: Initech rollout (Initech Field Services)" in page
    assert "This task is yours." in page


def test_a_refused_deal_form_keeps_the_input_and_writes_nothing(acme: Cast, pipeline: Pipeline) -> None:
    client = signed_in_client(acme.agent)
    response = client.post(
        "/revenue/deals/new/",
        {"organization": "Nobody Inc", "name": "x", "currency": "USD", "status": "open"},
    )
    assert response.status_code == 422
    assert "No organization with this name." in response.content.decode()
    refused = client.post(
        "/revenue/deals/new/",
        {
            "organization": pipeline.prospect.name,
            "name": "x",
            "currency": "USD",
            "status": "open",
            "lost_reason": pipeline.competitor.pk,
        },
    )
    assert refused.status_code == 422
    assert "Only a lost deal has a lost reason." in refused.content.decode()
    viewer = signed_in_client(acme.viewer).post("/revenue/deals/new/", {"organization": pipeline.prospect.name})
    assert viewer.status_code == 403
    assert Deal.objects.filter(workspace=acme.workspace).count() == 0


def _churn(acme: Cast, name: str, day: dt.date, reason: str, mrr: int, area: ProductArea | None) -> ChurnRecord:
    from deskloop.customers.services import create_organization

    organization = create_organization(workspace=acme.workspace, name=name, mrr=mrr, industry="Retail")
    return record_churn(
        workspace=acme.workspace,
        actor=None,
        values=ChurnValues(organization=organization, churned_on=day, reason=reason, mrr_lost=mrr, product_area=area),
    )


def _names(html: str) -> list[str]:
    return sorted(re.findall(r'href="/revenue/churn/\d+/">([^<]+)</a>', html))


def test_churn_list_and_reports_cut_by_area_and_segment_and_link_to_their_records(
    acme: Cast, pipeline: Pipeline
) -> None:
    child = ProductArea.objects.create(
        workspace=acme.workspace, name="Recurring", path="Scheduling > Recurring", parent=pipeline.area
    )
    _churn(acme, "Alpha", dt.date(2026, 8, 3), ChurnReason.MISSING_CAPABILITIES, 100, child)
    _churn(acme, "Beta", dt.date(2026, 8, 20), ChurnReason.COMPETITOR, 300, pipeline.area)
    gamma = _churn(acme, "Gamma", dt.date(2026, 9, 9), ChurnReason.MISSING_CAPABILITIES, 50, None)
    ChurnRecord.objects.filter(pk=gamma.pk).update(won_back_on=dt.date(2026, 10, 2))
    big = save_segment(agent=acme.agent, rules=SegmentRules(name="Big", mrr_above=Decimal(99)))
    client = signed_in_client(acme.viewer)

    assert _names(client.get("/revenue/churn/").content.decode()) == ["Alpha", "Beta", "Gamma"]
    by_area = client.get(f"/revenue/churn/?product_area={pipeline.area.pk}").content.decode()
    assert _names(by_area) == ["Alpha", "Beta"]
    assert _names(client.get(f"/revenue/churn/?segment={big.pk}").content.decode()) == ["Alpha", "Beta"]

    report = client.get("/revenue/reports/")
    assert report.status_code == 200
    html = report.content.decode()
    august_missing = re.search(
        r'href="(/revenue/churn/\?churned_from=2026-08-01&amp;churned_until=2026-08-31&amp;reason=missing_capabilities)">1<',
        html,
    )
    assert august_missing is not None, html
    linked = client.get(august_missing.group(1).replace("&amp;", "&")).content.decode()
    assert _names(linked) == ["Alpha"]
    assert re.search(r"data-won-back>1<", html)
    assert "MRR lost by product area" in html
    assert "Scheduling &gt; Recurring" in html
    won_back_link = re.search(r'href="([^"]*won_back_from=2026-10-01[^"]*)">1<', html)
    assert won_back_link is not None
    assert _names(client.get(won_back_link.group(1).replace("&amp;", "&")).content.decode()) == ["Gamma"]


def test_another_workspaces_segment_is_not_a_filter(acme: Cast, umbrella: Cast) -> None:
    foreign = save_segment(agent=umbrella.agent, rules=SegmentRules(name="Theirs"))
    response = signed_in_client(acme.agent).get(f"/revenue/churn/?segment={foreign.pk}")
    assert response.status_code == 422


def test_admins_set_target_industries_and_lost_reasons(acme: Cast) -> None:
    client = signed_in_client(acme.admin)
    assert client.get("/settings/revenue/").status_code == 200
    saved = client.post("/settings/revenue/", {"industries": "Field service\n  field   SERVICE \nLogistics"})
    assert saved.status_code == 302
    assert settings_of(acme.workspace.pk).target_industries == ["field service", "logistics"]
    added = client.post("/settings/revenue/lost-reasons/", {"name": "Needs SSO", "missing_functionality": "on"})
    assert added.status_code == 302
    assert LostReason.objects.get(workspace=acme.workspace, name="Needs SSO").missing_functionality is True
    duplicate = client.post("/settings/revenue/lost-reasons/", {"name": "needs sso"})
    assert duplicate.status_code == 409
    agent = signed_in_client(acme.agent).post("/settings/revenue/", {"industries": "Retail"})
    assert agent.status_code == 403
    assert settings_of(acme.workspace.pk).target_industries == ["field service", "logistics"]


DEALS_CSV = """external_id,name,organization,amount,currency,status,lost_reason,industry,product_area,closed_on
d-1,Initech rollout,Initech Field Services,24000,EUR,lost,Missing functionality,Field service,Scheduling,2026-10-02
d-2,Hooli pilot,Hooli,5000,USD,won,,,,2026-09-15
d-3,Broken,Hooli,-1,USD,open,,,,
d-4,Wrong reason,Hooli,10,USD,lost,Aliens,,,
"""


def test_csv_import_previews_then_imports_once_reporting_each_row(acme: Cast, pipeline: Pipeline) -> None:
    client = signed_in_client(acme.agent)
    upload = SimpleUploadedFile("deals.csv", DEALS_CSV.encode(), content_type="text/csv")
    preview = client.post("/revenue/import/", {"step": "preview", "kind": "deals", "file": upload})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "4 rows read; 2 can be imported." in html
    assert "Organization “Hooli” will be created." in html
    assert "An amount must be zero or more." in html
    assert "“Aliens” is not one of the workspace&#x27;s lost reasons." in html
    assert Deal.objects.filter(workspace=acme.workspace).count() == 0
    assert not Organization.objects.filter(workspace=acme.workspace, name="Hooli").exists()

    confirm = {"step": "import", "kind": "deals", "text": DEALS_CSV}
    imported = client.post("/revenue/import/", confirm).content.decode()
    assert "2 created, 0 updated, 0 unchanged, 2 failed." in imported
    assert sorted(Deal.objects.filter(workspace=acme.workspace).values_list("external_id", flat=True)) == ["d-1", "d-2"]
    assert ProductTask.objects.get(workspace=acme.workspace).assignee == pipeline.pm
    again = client.post("/revenue/import/", confirm).content.decode()
    assert "0 created, 0 updated, 2 unchanged, 2 failed." in again
    assert Deal.objects.filter(workspace=acme.workspace).count() == 2
    assert ProductTask.objects.filter(workspace=acme.workspace).count() == 1


def test_a_file_without_the_required_columns_is_refused(acme: Cast) -> None:
    upload = SimpleUploadedFile("x.csv", b"id,title\n1,2\n", content_type="text/csv")
    response = signed_in_client(acme.agent).post(
        "/revenue/import/", {"step": "preview", "kind": "churn", "file": upload}
    )
    assert response.status_code == 422
    assert "Required columns are missing: external_id, churned_on, reason" in response.content.decode()
