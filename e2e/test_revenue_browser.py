"""A salesperson records a deal lost for missing functionality in a target industry, in a real Chromium; the product
manager of the area signs in and finds the task it opened for them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from deskloop.conftest import Cast
from deskloop.customers.models import LifecycleStage
from deskloop.customers.services import create_organization
from deskloop.ideas.models import Idea, IdeaVote, Importance, ProductTask
from deskloop.revenue.services.setup import lost_reasons_of, save_target_industries
from deskloop.tickets.models import ProductArea
from e2e.conftest import expect, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lost_deal_for_missing_functionality_becomes_the_product_managers_task(
    acme: Cast, live_url: str, page: Page, browser: Browser
) -> None:
    area = ProductArea.objects.create(workspace=acme.workspace, name="Scheduling", path="Scheduling")
    pm = acme.other_team_agent
    area.owner = pm
    area.save(update_fields=["owner"])
    create_organization(
        workspace=acme.workspace,
        name="Initech Field Services",
        industry="Field service",
        lifecycle_stage=LifecycleStage.LEAD,
    )
    idea = Idea.objects.create(workspace=acme.workspace, title="Recurring visits", product_area=area)
    save_target_industries(actor=acme.admin, industries=["field service"])
    lost_reasons_of(acme.workspace.pk)

    sign_in(page, live_url, acme.agent)
    page.get_by_role("link", name="Revenue").click()
    page.get_by_role("link", name="New deal").click()
    page.get_by_label("Organization").fill("Initech Field Services")
    page.get_by_label("Deal", exact=True).fill("Initech rollout")
    page.get_by_label("Amount").fill("24000")
    page.get_by_label("Status").select_option("lost")
    page.get_by_label("Lost reason").select_option(label="Missing functionality")
    page.get_by_label("Idea it needed").select_option(label="Recurring visits")
    page.get_by_role("button", name="Record deal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Initech rollout")
    expect(page.locator("[data-product-task]")).to_contain_text("For Boris Billing")

    with open_page(browser) as pm_page:
        sign_in(pm_page, live_url, pm)
        pm_page.goto(f"{live_url}/revenue/?status=lost")
        pm_page.get_by_role("link", name="Initech rollout").click()
        task = pm_page.locator("[data-product-task]")
        expect(task).to_contain_text("Lost deal for missing functionality: Initech rollout (Initech Field Services)")
        expect(task).to_contain_text("This task is yours.")

    assert ProductTask.objects.get(workspace=acme.workspace).assignee == pm
    assert IdeaVote.objects.get(idea=idea).importance == Importance.CRITICAL
