"""The demo workspace's deals and churn over the last twelve months: deals won and lost for each kind of reason (two
lost for missing functionality in the target industries, which open product tasks), churn records for every reason,
one organization won back. Written through the revenue services, like the import would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from deskloop.accounts.models import Agent, Workspace
from deskloop.customers.models import LifecycleStage, Organization
from deskloop.customers.services import create_organization
from deskloop.ideas.models import Idea
from deskloop.revenue.models import ChurnReason, DealStatus
from deskloop.revenue.services.churn import ChurnValues, record_churn
from deskloop.revenue.services.deals import DealValues, record_deal
from deskloop.revenue.services.setup import lost_reasons_of, settings_of
from deskloop.tickets.models import ProductArea

TARGET_INDUSTRIES = ["field service", "logistics"]

# Prospects and former customers the directory does not have: (name, industry, plan, MRR, stage).
NEW_ORGANIZATIONS = [
    ("Brightline Field Services", "Field service", "", 0, LifecycleStage.LEAD),
    ("Ridgeway HVAC", "Field service", "", 0, LifecycleStage.LEAD),
    ("Harbor Freight Lines", "Logistics", "", 0, LifecycleStage.LEAD),
    ("Summit Plumbing Co", "Field service", "Pro", 390, LifecycleStage.CUSTOMER),
    ("Keystone Builders", "Construction", "Business", 490, LifecycleStage.CUSTOMER),
    ("Maple Street Bakery", "Hospitality", "Starter", 49, LifecycleStage.CUSTOMER),
    ("Atlas Couriers", "Logistics", "Business", 790, LifecycleStage.CUSTOMER),
    ("Greenfield Clinic", "Healthcare", "Starter", 99, LifecycleStage.CUSTOMER),
]

# (external id, organization, deal, amount, status, lost reason, competitor, product area, days ago, owner).
DEALS = [
    (
        "demo-d1",
        "Brightline Field Services",
        "Brightline rollout, 60 seats",
        18000,
        "lost",
        "Missing functionality",
        "",
        "Projects/Time tracking",
        45,
        "sam",
    ),
    (
        "demo-d2",
        "Harbor Freight Lines",
        "Harbor Freight dispatch teams",
        26000,
        "lost",
        "Missing functionality",
        "",
        "Integrations/Salesforce",
        32,
        "amir",
    ),
    (
        "demo-d3",
        "Ridgeway HVAC",
        "Ridgeway HVAC pilot",
        7200,
        "lost",
        "Chose a competitor",
        "TrackForce",
        "Mobile app/Android",
        120,
        "sam",
    ),
    (
        "demo-d4",
        "Café Montaña",
        "Café Montaña, plan Pro",
        1200,
        "lost",
        "Price",
        "",
        "Billing/Plans & upgrades",
        200,
        "lucia",
    ),
    (
        "demo-d5",
        "Bluebird Dental",
        "Bluebird Dental, SSO for 4 clinics",
        9600,
        "lost",
        "Missing functionality",
        "",
        "Account/Single sign-on (SSO)",
        90,
        "sam",
    ),
    ("demo-d6", "Lumen Analytics", "Lumen Analytics, Team plan", 11880, "won", "", "", "Reports/Dashboards", 20, "sam"),
    ("demo-d7", "Hooli", "Hooli, 200 more seats", 48000, "won", "", "", "Account/Users & permissions", 300, "hannah"),
    (
        "demo-d8",
        "Northwind Traders",
        "Northwind expansion to the EU office",
        22000,
        "open",
        "",
        "",
        "Integrations/API & webhooks",
        0,
        "grace",
    ),
    ("demo-d9", "Pinecrest Schools", "Pinecrest renewal 2027", 15000, "open", "", "", "Projects/Tasks", 0, "amir"),
    (
        "demo-d10",
        "Summit Plumbing Co",
        "Summit Plumbing comes back",
        4680,
        "won",
        "",
        "",
        "Mobile app/Android",
        100,
        "sam",
    ),
]

# (external id, organization, reason, MRR lost, product area, days ago, won back days ago, notes).
CHURN = [
    (
        "demo-c1",
        "Oakridge Realty",
        ChurnReason.NO_VALUE,
        290,
        "Reports/Dashboards",
        60,
        None,
        "Never used the dashboards; exported to spreadsheets.",
    ),
    (
        "demo-c2",
        "Summit Plumbing Co",
        ChurnReason.MISSING_CAPABILITIES,
        390,
        "Mobile app/Android",
        250,
        None,
        "Technicians needed offline mode on Android.",
    ),
    (
        "demo-c3",
        "Keystone Builders",
        ChurnReason.COMPETITOR,
        490,
        "Integrations/Salesforce",
        330,
        None,
        "Moved to a tool with a two-way Salesforce sync.",
    ),
    ("demo-c4", "Maple Street Bakery", ChurnReason.BUSINESS_CLOSED, 49, "", 180, None, ""),
    (
        "demo-c5",
        "Atlas Couriers",
        ChurnReason.MISSING_CAPABILITIES,
        790,
        "Integrations/API & webhooks",
        20,
        None,
        "Needed webhooks per project.",
    ),
    ("demo-c6", "Greenfield Clinic", ChurnReason.NEVER_STARTED, 99, "", 140, None, "Trial owner left the clinic."),
    (
        "demo-c7",
        "Vandelay Industries",
        ChurnReason.OTHER,
        120,
        "Billing/Invoices",
        270,
        210,
        "Paused for a merger, came back on the same plan.",
    ),
]


def seed_revenue(*, workspace: Workspace, areas: dict[str, ProductArea], now: dt.datetime) -> None:
    today = now.date()
    settings = settings_of(workspace.pk)
    settings.target_industries = TARGET_INDUSTRIES
    settings.save(update_fields=["target_industries"])
    reasons = {reason.name: reason for reason in lost_reasons_of(workspace.pk)}
    for name, industry, plan, mrr, stage in NEW_ORGANIZATIONS:
        create_organization(
            workspace=workspace, name=name, industry=industry, plan=plan, mrr=Decimal(mrr), lifecycle_stage=stage
        )
    organizations = {o.name: o for o in Organization.objects.filter(workspace=workspace)}
    agents = {a.user.email.split("@")[0]: a for a in Agent.objects.filter(workspace=workspace).select_related("user")}
    # Churn first: Summit Plumbing churned, then a won deal brought it back.
    for external_id, organization, reason, mrr, area, days, won_back_days, notes in CHURN:
        record_churn(
            workspace=workspace,
            actor=None,
            values=ChurnValues(
                organization=organizations[organization],
                churned_on=today - dt.timedelta(days=days),
                reason=reason,
                mrr_lost=mrr,
                product_area=areas.get(area),
                notes=notes,
                won_back_on=today - dt.timedelta(days=won_back_days) if won_back_days else None,
                external_id=external_id,
            ),
        )
    for external_id, organization, name, amount, status, lost_reason, competitor, area, days, owner in DEALS:
        product_area = areas.get(area)
        record_deal(
            workspace=workspace,
            actor=None,
            values=DealValues(
                organization=organizations[organization],
                name=name,
                amount=amount,
                status=status,
                lost_reason=reasons.get(lost_reason),
                competitor=competitor,
                product_area=product_area,
                # The idea the demo's board has for the area, when it has one.
                idea=Idea.objects.filter(workspace=workspace, product_area=product_area).first()
                if status == DealStatus.LOST
                else None,
                owner=agents.get(owner),
                closed_on=today - dt.timedelta(days=days) if status != DealStatus.OPEN else None,
                external_id=external_id,
            ),
        )
