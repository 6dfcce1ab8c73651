"""A fresh installation gets its first workspace: `manage.py create_workspace`, or the sign-up page the login page
offers until a workspace exists."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from deskloop.accounts.models import Agent, Role, User, Workspace
from deskloop.conftest import PASSWORD, Cast
from deskloop.tickets.models import Status

pytestmark = pytest.mark.django_db

SIGNUP = {
    "name": "Acme Rockets",
    "owner_name": "Olivia Owner",
    "owner_email": "Olivia@Acme-Rockets.test",
    "password": PASSWORD,
    "language": "es",
}


def create(*args: str, monkeypatch: pytest.MonkeyPatch, password: str = PASSWORD) -> str:
    monkeypatch.setenv("DESKLOOP_OWNER_PASSWORD", password)
    out = StringIO()
    call_command("create_workspace", *args, stdout=out)
    return out.getvalue()


def test_create_workspace_makes_a_workspace_its_owner_and_its_statuses(monkeypatch: pytest.MonkeyPatch) -> None:
    out = create(
        "--name", "Acme", "--owner-email", "owner@acme.test", "--owner-name", "Olivia", "--language", "es",
        monkeypatch=monkeypatch,
    )  # fmt: skip
    workspace = Workspace.objects.get()
    owner = Agent.objects.select_related("user").get(workspace=workspace)
    assert out == (
        "Created workspace 'Acme' (slug acme, ticket prefix ACME) with owner owner@acme.test.\n"
        "Sign in at http://127.0.0.1:8000/login/\n"
    )
    assert (workspace.name, workspace.default_language, owner.role, owner.user.name, owner.user.language) == (
        "Acme",
        "es",
        Role.OWNER,
        "Olivia",
        "es",
    )
    assert Status.objects.filter(workspace=workspace).count() == 6
    # The owner signs in with the password from the environment.
    client = Client()
    response = client.post("/login/", {"email": "owner@acme.test", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.get("/").status_code == 200


def test_create_workspace_refuses_a_duplicate_and_bad_input_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create("--name", "Acme", "--owner-email", "owner@acme.test", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match=re.escape("A workspace named “ACME” exists already.")):
        create("--name", "ACME", "--owner-email", "second@acme.test", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match=re.escape("Enter a valid email address for the owner.")):
        create("--name", "Beta", "--owner-email", "not-an-address", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="too short"):
        create("--name", "Beta", "--owner-email", "beta@beta.test", monkeypatch=monkeypatch, password="short")
    with pytest.raises(CommandError, match=re.escape("Choose one of the offered languages.")):
        create("--name", "Beta", "--owner-email", "beta@beta.test", "--language", "xx", monkeypatch=monkeypatch)
    monkeypatch.delenv("DESKLOOP_OWNER_PASSWORD")
    with pytest.raises(CommandError, match="Give the owner's password in DESKLOOP_OWNER_PASSWORD"):
        call_command("create_workspace", "--name", "Beta", "--owner-email", "beta@beta.test", stdout=StringIO())
    assert (Workspace.objects.count(), User.objects.count()) == (1, 1)


def test_the_first_owner_signs_up_from_the_login_page_then_the_page_is_gone() -> None:
    client = Client()
    login = client.get("/login/").content.decode()
    assert 'href="/signup/"' in login
    assert "Create your workspace" in client.get("/signup/").content.decode()
    response = client.post("/signup/", SIGNUP)
    assert (response.status_code, response["Location"]) == (302, "/")
    owner = Agent.objects.select_related("workspace", "user").get()
    assert (owner.workspace.name, owner.workspace.default_language, owner.role, owner.user.email) == (
        "Acme Rockets",
        "es",
        Role.OWNER,
        "olivia@acme-rockets.test",
    )
    # Signed in, in the new workspace's inbox.
    assert client.get("/").status_code == 200
    # Nobody else can create a workspace on the running installation.
    stranger = Client()
    assert 'href="/signup/"' not in stranger.get("/login/").content.decode()
    assert stranger.get("/signup/").status_code == 404
    assert stranger.post("/signup/", {**SIGNUP, "name": "Evil", "owner_email": "evil@evil.test"}).status_code == 404
    assert Workspace.objects.count() == 1


def test_sign_up_is_refused_once_a_workspace_exists(acme: Cast) -> None:
    client = Client()
    assert client.get("/signup/").status_code == 404
    assert client.post("/signup/", SIGNUP).status_code == 404
    assert not Workspace.objects.filter(name="Acme Rockets").exists()


@override_settings(OPEN_SIGNUP=True)
def test_an_open_installation_signs_up_new_workspaces_but_never_takes_over_an_account(acme: Cast) -> None:
    client = Client()
    taken = client.post("/signup/", {**SIGNUP, "owner_email": acme.admin.user.email, "password": "another pass 123"})
    assert taken.status_code == 422
    assert "An account with this email exists already; sign in with it instead." in taken.content.decode()
    assert User.objects.get(pk=acme.admin.user.pk).check_password(PASSWORD)
    bad = client.post("/signup/", {**SIGNUP, "password": "short"})
    assert bad.status_code == 422
    assert Workspace.objects.count() == 1
    assert client.post("/signup/", SIGNUP).status_code == 302
    assert Workspace.objects.filter(name="Acme Rockets").count() == 1
