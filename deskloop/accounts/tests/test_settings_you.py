"""Settings an agent has for themselves (home, profile, password, API tokens) and the workspace page.

Maria (agent) sets her name, language and time zone and sees times move with it; she keeps API tokens for her
scripts, sees each secret once and revokes them. Adam (admin) looks after everyone's tokens. Olivia (owner)
alone may open the workspace's webhooks to private networks.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import time_machine
from django.test import Client

from deskloop.accounts.models import ApiToken, User, Workspace
from deskloop.accounts.services import create_api_token
from deskloop.conftest import PASSWORD, Cast, signed_in_client

CREATED = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _links(html: str) -> list[str]:
    nav = html.split('class="settings-home"')[1]
    return re.findall(r'<li><a href="([^"]+)"><strong>', nav)


def test_the_settings_home_lists_the_screens_each_role_may_open(acme: Cast) -> None:
    owner = signed_in_client(acme.owner).get("/settings/")
    agent = signed_in_client(acme.agent).get("/settings/")
    viewer = signed_in_client(acme.viewer).get("/settings/")
    assert (owner.status_code, agent.status_code, viewer.status_code) == (200, 200, 200)
    assert _links(owner.text) == [
        "/settings/profile/",
        "/settings/tokens/",
        "/settings/agents/",
        "/settings/invitations/",
        "/settings/teams/",
        "/settings/statuses/",
        "/settings/fields/",
        "/settings/tags/",
        "/settings/product-areas/",
        "/settings/sla/",
        "/settings/macros/",
        "/settings/automations/",
        "/settings/routing/",
        "/quality/settings/",
        "/settings/mailboxes/",
        "/settings/mail-allow-list/",
        "/settings/email-templates/",
        "/settings/webhooks/",
        "/settings/help-center/",
        "/settings/workspace/",
        "/settings/calendars/",
        "/surveys/settings/",
        "/settings/ideas-board/",
        "/settings/revenue/",
    ]
    assert _links(agent.text) == ["/settings/profile/", "/settings/tokens/", "/settings/macros/"]
    assert _links(viewer.text) == ["/settings/profile/", "/settings/tokens/"]
    # The side navigation marks the screen being shown.
    profile = signed_in_client(acme.agent).get("/settings/profile/")
    assert '<a href="/settings/profile/" aria-current="page">Profile</a>' in profile.text


@time_machine.travel(CREATED, tick=False)
def test_a_profile_change_moves_times_into_the_new_time_zone_and_language(acme: Cast) -> None:
    ApiToken.objects.create(
        workspace=acme.workspace, agent=acme.agent, name="CRM sync", prefix="dl_abcdefg", token_hash="x" * 64
    )
    client = signed_in_client(acme.agent)
    before = client.get("/settings/tokens/")
    assert '<time datetime="2026-03-01T12:00:00+00:00" title="March 1, 2026, noon">just now</time>' in before.text

    saved = client.post("/settings/profile/", {"name": "  María   Agent ", "language": "es", "time_zone": "Asia/Tokyo"})
    assert (saved.status_code, saved["Location"]) == (302, "/settings/profile/")
    user = User.objects.get(pk=acme.agent.user_id)
    assert (user.name, user.language, user.time_zone) == ("María Agent", "es", "Asia/Tokyo")

    after = client.get("/settings/tokens/")
    assert after["Content-Language"] == "es"
    # 12:00 UTC is 21:00 in Tokyo.
    assert (
        '<time datetime="2026-03-01T21:00:00+09:00" title="1 de marzo de 2026 a las 21:00">ahora mismo</time>'
        in after.text
    )


def test_a_bad_time_zone_or_a_missing_name_changes_nothing(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    bad_zone = client.post("/settings/profile/", {"name": "Maria", "language": "en", "time_zone": "Mars/Olympus"})
    no_name = client.post("/settings/profile/", {"name": "  ", "language": "ru", "time_zone": "Europe/Madrid"})
    bad_language = client.post("/settings/profile/", {"name": "Maria", "language": "fr", "time_zone": "UTC"})
    assert bad_zone.status_code == 400
    assert "“Mars/Olympus” is not a known time zone. Use a name like Europe/Madrid." in bad_zone.text
    assert 'aria-invalid="true"' in bad_zone.text
    assert no_name.status_code == 400
    assert "Enter your name." in no_name.text
    assert bad_language.status_code == 400
    assert "Select a valid choice. fr is not one of the available choices." in bad_language.text
    user = User.objects.get(pk=acme.agent.user_id)
    assert (user.name, user.language, user.time_zone) == ("Maria Agent", "en", "UTC")


def test_changing_the_password_keeps_this_session_and_refuses_bad_input(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    wrong = client.post(
        "/settings/profile/password/",
        {
            "current_password": "nope",
            "new_password": "a new long passphrase",
            "new_password_again": "a new long passphrase",
        },
    )
    differ = client.post(
        "/settings/profile/password/",
        {"current_password": PASSWORD, "new_password": "a new long passphrase", "new_password_again": "another one"},
    )
    weak = client.post(
        "/settings/profile/password/",
        {"current_password": PASSWORD, "new_password": "1234567890", "new_password_again": "1234567890"},
    )
    assert (wrong.status_code, differ.status_code, weak.status_code) == (400, 400, 400)
    assert "Your current password is not correct." in wrong.text
    assert "The two new passwords are not the same." in differ.text
    assert "This password is too common. This password is entirely numeric." in weak.text
    assert User.objects.get(pk=acme.agent.user_id).check_password(PASSWORD)

    changed = client.post(
        "/settings/profile/password/",
        {
            "current_password": PASSWORD,
            "new_password": "a new long passphrase",
            "new_password_again": "a new long passphrase",
        },
    )
    assert (changed.status_code, changed["Location"]) == (302, "/settings/profile/")
    assert client.get("/settings/profile/").status_code == 200  # still signed in
    fresh = Client()
    assert fresh.login(username="maria@acme.example", password="a new long passphrase") is True
    assert fresh.login(username="maria@acme.example", password=PASSWORD) is False


def test_an_agent_sees_a_new_token_once_and_it_works_until_revoked(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    created = client.post("/settings/tokens/", {"name": "  Reporting   script "})
    token = ApiToken.objects.get(agent=acme.agent)
    secret = created.text.split("<code data-secret>")[1].split("</code>")[0]
    assert (created.status_code, created["Cache-Control"]) == (200, "no-store")
    assert (token.name, token.prefix, secret[:10]) == ("Reporting script", secret[:10], token.prefix)
    assert secret.startswith("dl_")

    api = Client(headers={"authorization": f"Bearer {secret}"})
    me = api.get("/api/v1/me")
    assert (me.status_code, json.loads(me.content)["agent"]["email"]) == (200, "maria@acme.example")

    listing = client.get("/settings/tokens/")
    assert secret not in listing.text
    assert f"<code>{token.prefix}…</code>" in listing.text
    assert "Reporting script" in listing.text

    revoked = client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert (revoked.status_code, revoked["Location"]) == (302, "/settings/tokens/")
    assert api.get("/api/v1/me").status_code == 401
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_token_creation_over_htmx_swaps_only_the_token_panel(acme: Cast) -> None:
    response = signed_in_client(acme.viewer).post(
        "/settings/tokens/", {"name": "dashboard"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="token-panel">')
    assert "<html" not in response.text
    assert ApiToken.objects.get(agent=acme.viewer).name == "dashboard"


def test_a_token_needs_a_name(acme: Cast) -> None:
    response = signed_in_client(acme.agent).post("/settings/tokens/", {"name": "   "})
    assert response.status_code == 400
    assert "Give the token a name so you can recognise it later." in response.text
    assert ApiToken.objects.filter(agent=acme.agent).count() == 0


def test_agents_manage_only_their_own_tokens_and_admins_everyone_s(acme: Cast, umbrella: Cast) -> None:
    from deskloop.accounts.services import create_api_token

    admins_token, _ = create_api_token(agent=acme.admin, name="admin script")
    marias_token, _ = create_api_token(agent=acme.agent, name="maria script")
    foreign_token, _ = create_api_token(agent=umbrella.agent, name="umbrella script")
    maria = signed_in_client(acme.agent)
    adam = signed_in_client(acme.admin)

    assert maria.post(f"/settings/tokens/{admins_token.pk}/revoke/").status_code == 404
    assert adam.post(f"/settings/tokens/{foreign_token.pk}/revoke/").status_code == 404
    assert "admin script" not in maria.get("/settings/tokens/").text
    admin_page = adam.get("/settings/tokens/")
    assert "Other agents' active tokens" in admin_page.text
    assert "maria script" in admin_page.text

    # From Maria's page in the agent list, Adam revokes her token and comes back to it.
    back = adam.post(f"/settings/tokens/{marias_token.pk}/revoke/", {"next": f"/settings/agents/{acme.agent.pk}/"})
    assert (back.status_code, back["Location"]) == (302, f"/settings/agents/{acme.agent.pk}/")
    assert [t.revoked_at is not None for t in ApiToken.objects.order_by("pk")] == [False, True, False]


def test_admins_edit_the_workspace_and_bad_values_change_nothing(acme: Cast) -> None:
    client = signed_in_client(acme.admin)
    form = {"name": "Acme Support", "ticket_prefix": "acme-eu", "default_language": "ru", "time_zone": "Europe/Riga"}
    saved = client.post("/settings/workspace/", form)
    assert (saved.status_code, saved["Location"]) == (302, "/settings/workspace/")
    workspace = Workspace.objects.get(pk=acme.workspace.pk)
    assert (workspace.name, workspace.ticket_prefix, workspace.default_language, workspace.time_zone) == (
        "Acme Support",
        "ACME-EU",
        "ru",
        "Europe/Riga",
    )

    bad_prefix = client.post("/settings/workspace/", {**form, "ticket_prefix": "AC ME#"})
    bad_zone = client.post("/settings/workspace/", {**form, "time_zone": "Europe/Atlantis"})
    assert bad_prefix.status_code == 400
    assert (
        "The ticket prefix must be 1 to 20 letters, digits or dashes, starting with a letter or digit."
        in bad_prefix.text
    )
    assert bad_zone.status_code == 400
    assert "“Europe/Atlantis” is not a known time zone. Use a name like Europe/Madrid." in bad_zone.text
    assert Workspace.objects.get(pk=acme.workspace.pk).ticket_prefix == "ACME-EU"
    assert signed_in_client(acme.agent).get("/settings/workspace/").status_code == 403


def test_only_an_owner_lets_webhooks_reach_private_networks(acme: Cast) -> None:
    admin = signed_in_client(acme.admin)
    owner = signed_in_client(acme.owner)
    assert admin.post("/settings/workspace/private-targets/", {"allowed": "1"}).status_code == 403
    assert "Only an owner can change this." in admin.get("/settings/workspace/").text
    assert Workspace.objects.get(pk=acme.workspace.pk).allow_private_webhook_targets is False

    allowed = owner.post("/settings/workspace/private-targets/", {"allowed": "1"}, follow=True)
    assert Workspace.objects.get(pk=acme.workspace.pk).allow_private_webhook_targets is True
    assert "Webhooks may now reach private and loopback addresses." in allowed.text
    assert "Refuse private targets" in allowed.text
    owner.post("/settings/workspace/private-targets/", {"allowed": "0"})
    assert Workspace.objects.get(pk=acme.workspace.pk).allow_private_webhook_targets is False


def test_changing_the_password_revokes_the_api_tokens_made_before(acme: Cast) -> None:
    _token, secret = create_api_token(agent=acme.agent, name="script")
    api = Client(headers={"authorization": f"Bearer {secret}"})
    assert api.get("/api/v1/me").status_code == 200
    response = signed_in_client(acme.agent).post(
        "/settings/profile/password/",
        {
            "current_password": PASSWORD,
            "new_password": "a new long passphrase",
            "new_password_again": "a new long passphrase",
        },
    )
    assert response.status_code == 302
    assert api.get("/api/v1/me").status_code == 401
    # A token made under the new password works.
    _token, fresh = create_api_token(agent=acme.agent, name="script again")
    assert Client(headers={"authorization": f"Bearer {fresh}"}).get("/api/v1/me").status_code == 200
