"""The first run of a new installation in a real Chromium: the login page offers to create the workspace, the owner
fills the sign-up form and lands signed in on the new workspace's inbox; after that the sign-up page is gone.

The installation is empty because no cast fixture (``acme``) is used: the transactional database starts each
browser test with no rows and is flushed after it, so the seeded workspaces of other tests are never seen here.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from deskloop.accounts.models import Agent, Role, Workspace
from e2e.conftest import PASSWORD, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_first_owner_creates_the_workspace_from_the_login_page_and_the_page_is_gone(
    live_url: str, page: Page
) -> None:
    assert not Workspace.objects.exists()  # an empty installation, as the sign-up requires
    page.goto(f"{live_url}/login/")
    page.get_by_role("link", name="Create your workspace").click()
    expect(page.get_by_role("heading", name="Create your workspace")).to_be_visible()
    page.get_by_label("Workspace name").fill("Acme Rockets")
    page.get_by_label("Your name").fill("Olivia Owner")
    page.get_by_label("Email").fill("olivia@acme-rockets.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Language").select_option("en")
    page.get_by_role("button", name="Create workspace").click()

    # Signed in, on the inbox of the workspace just created.
    page.wait_for_url(f"{live_url}/")
    expect(page.get_by_role("heading", name="All unsolved")).to_be_visible()
    expect(page.locator(".brand-name")).to_have_text("Acme Rockets")
    owner = Agent.objects.select_related("workspace", "user").get()
    assert (owner.workspace.name, owner.role, owner.user.email) == (
        "Acme Rockets",
        Role.OWNER,
        "olivia@acme-rockets.test",
    )

    # The installation has its workspace: nobody gets the sign-up any more, not even the owner.
    assert page.goto(f"{live_url}/signup/").status == 404  # type: ignore[union-attr]
    page.context.clear_cookies()
    page.goto(f"{live_url}/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Create your workspace")).to_have_count(0)
    assert page.goto(f"{live_url}/signup/").status == 404  # type: ignore[union-attr]
    assert Workspace.objects.count() == 1
