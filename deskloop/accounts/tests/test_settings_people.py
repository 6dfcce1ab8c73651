"""People in settings: roles, deactivation, invitations by email with their public accept page, and teams.

Adam (admin) runs the team; Olivia is the only owner, and the workspace must never lose its last one. Nina is
invited by email and joins; Umbrella's Maria, who already has an account, signs in to accept hers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from deskloop.accounts.models import Agent, Invitation, Role, Team, User
from deskloop.accounts.services import create_api_token, hash_secret
from deskloop.conftest import PASSWORD, Cast, signed_in_client
from deskloop.core.models import OutboxEvent
from deskloop.tickets.models import EventKind, Ticket, TicketEvent

LINK = re.compile(r"http://127\.0\.0\.1:8000/invitations/([\w-]+)/")


def _invite(client: Client, email: str, role: str, capture: Any) -> tuple[Any, str]:
    """Post the invitation form and return the response and the secret from the emailed link."""
    with capture(execute=True):
        response = client.post("/settings/invitations/", {"email": email, "role": role})
    match = LINK.search(mail.outbox[-1].body)
    assert match is not None
    return response, match.group(1)


# ---- agents ------------------------------------------------------------------------------------------------------
def test_the_agent_list_is_for_admins_and_shows_roles_and_teams(acme: Cast) -> None:
    page = signed_in_client(acme.admin).get("/settings/agents/")
    assert page.status_code == 200
    assert re.findall(r'data-agent="([^"]+)"', page.text) == [
        "adam@acme.example",
        "boris@acme.example",
        "lena@acme.example",
        "maria@acme.example",
        "olivia@acme.example",
        "victor@acme.example",
    ]
    maria_row = page.text.split('data-agent="maria@acme.example">')[1].split("</tr>")[0]
    assert "<td>Agent</td>" in maria_row
    assert "<td>Support</td>" in maria_row
    for who in (acme.agent, acme.light_agent, acme.viewer):
        assert signed_in_client(who).get("/settings/agents/").status_code == 403


def test_an_admin_changes_roles_but_not_owners_and_the_last_owner_stays(acme: Cast) -> None:
    adam = signed_in_client(acme.admin)
    olivia = signed_in_client(acme.owner)

    promoted = adam.post(f"/settings/agents/{acme.agent.pk}/role/", {"role": "admin"})
    assert (promoted.status_code, promoted["Location"]) == (302, f"/settings/agents/{acme.agent.pk}/")
    assert Agent.objects.get(pk=acme.agent.pk).role == Role.ADMIN

    to_owner = adam.post(f"/settings/agents/{acme.agent.pk}/role/", {"role": "owner"})
    owner_demoted = adam.post(f"/settings/agents/{acme.owner.pk}/role/", {"role": "agent"})
    last_owner = olivia.post(f"/settings/agents/{acme.owner.pk}/role/", {"role": "admin"})
    assert to_owner.status_code == 403
    assert "Only an owner can make someone an owner." in to_owner.text
    assert owner_demoted.status_code == 403
    assert "Only an owner can change another owner&#x27;s role." in owner_demoted.text
    assert last_owner.status_code == 422
    assert "A workspace needs at least one owner." in last_owner.text
    assert Agent.objects.get(pk=acme.owner.pk).role == Role.OWNER
    assert Agent.objects.get(pk=acme.agent.pk).role == Role.ADMIN

    # With a second owner, Olivia may step down.
    olivia.post(f"/settings/agents/{acme.admin.pk}/role/", {"role": "owner"})
    stepped_down = olivia.post(f"/settings/agents/{acme.owner.pk}/role/", {"role": "admin"})
    assert stepped_down.status_code == 302
    assert sorted(Agent.objects.filter(workspace=acme.workspace, role=Role.OWNER).values_list("pk", flat=True)) == [
        acme.admin.pk
    ]


def test_a_deactivated_agent_loses_the_workspace_and_api_until_reactivated(acme: Cast) -> None:
    _token, secret = create_api_token(agent=acme.agent, name="script")
    api = Client(headers={"authorization": f"Bearer {secret}"})
    maria = signed_in_client(acme.agent)
    adam = signed_in_client(acme.admin)

    deactivated = adam.post(f"/settings/agents/{acme.agent.pk}/active/", {"active": "0"})
    assert deactivated.status_code == 302
    assert Agent.objects.get(pk=acme.agent.pk).is_active is False
    assert maria.get("/settings/profile/")["Location"] == "/workspaces/"
    assert api.get("/api/v1/me").status_code == 401
    listing = adam.get("/settings/agents/")
    assert '<tr class="is-inactive" data-agent="maria@acme.example">' in listing.text

    adam.post(f"/settings/agents/{acme.agent.pk}/active/", {"active": "1"})
    assert maria.get("/settings/profile/").status_code == 200
    assert api.get("/api/v1/me").status_code == 200


def test_admins_cannot_deactivate_owners_themselves_or_the_last_owner(acme: Cast) -> None:
    adam = signed_in_client(acme.admin)
    owner = adam.post(f"/settings/agents/{acme.owner.pk}/active/", {"active": "0"})
    myself = adam.post(f"/settings/agents/{acme.admin.pk}/active/", {"active": "0"})
    last_owner = signed_in_client(acme.owner).post(f"/settings/agents/{acme.owner.pk}/active/", {"active": "0"})
    assert owner.status_code == 403
    assert "Only an owner can deactivate an owner." in owner.text
    assert myself.status_code == 422
    assert "You cannot deactivate yourself." in myself.text
    assert last_owner.status_code == 422  # an owner is "yourself" too: refused before the last-owner rule
    assert Agent.objects.filter(workspace=acme.workspace, is_active=False).count() == 0


# ---- invitations -------------------------------------------------------------------------------------------------
def test_an_invitation_email_has_both_bodies_with_the_absolute_accept_link(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    response, secret = _invite(
        signed_in_client(acme.admin), "Nina@Example.org", "agent", django_capture_on_commit_callbacks
    )
    assert (response.status_code, response["Location"]) == (302, "/settings/invitations/")
    [message] = mail.outbox
    link = f"http://127.0.0.1:8000/invitations/{secret}/"
    assert message.to == ["nina@example.org"]
    assert message.subject == "You are invited to Acme on Deskloop"
    assert message.reply_to == ["adam@acme.example"]
    invitation = Invitation.objects.get(workspace=acme.workspace)
    expires = timezone.localtime(invitation.expires_at, dt.UTC).strftime("%Y-%m-%d %H:%M")
    assert message.body == (
        "Adam Admin invited you to join Acme on Deskloop as Agent.\n\n"
        "Accept the invitation here:\n"
        f"{link}\n\n"
        f"The link works until {expires} (UTC) and only once.\n"
        "If you did not expect this email, you can ignore it.\n"
    )
    [(html, mimetype)] = message.alternatives  # type: ignore[attr-defined]
    assert mimetype == "text/html"
    assert f'<a href="{link}" style="display:inline-block;' in html
    assert "Adam Admin invited you to join <strong>Acme</strong> on Deskloop as Agent." in html
    assert invitation.token_hash == hash_secret(secret)
    assert secret not in str(Invitation.objects.values_list().get())

    pending = signed_in_client(acme.admin).get("/settings/invitations/")
    assert '<tr data-invitation="nina@example.org">' in pending.text


def test_bad_invitations_are_refused_and_send_nothing(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    adam = signed_in_client(acme.admin)
    _invite(adam, "nina@example.org", "agent", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        again = adam.post("/settings/invitations/", {"email": "nina@example.org", "role": "agent"})
        existing = adam.post("/settings/invitations/", {"email": "maria@acme.example", "role": "agent"})
        invalid = adam.post("/settings/invitations/", {"email": "nina at example", "role": "agent"})
        as_owner = adam.post("/settings/invitations/", {"email": "boss@example.org", "role": "owner"})
    assert again.status_code == 422
    assert "This address already has a pending invitation. Resend it instead." in again.text
    assert existing.status_code == 422
    assert "This person is already an agent here." in existing.text
    assert invalid.status_code == 422
    assert "“nina at example” is not a valid email address." in invalid.text
    assert as_owner.status_code == 422
    assert "Select a valid choice. owner is not one of the available choices." in as_owner.text
    assert len(mail.outbox) == 1
    assert Invitation.objects.filter(workspace=acme.workspace).count() == 1
    assert signed_in_client(acme.agent).post("/settings/invitations/", {"email": "x@example.org"}).status_code == 403


def test_a_new_person_accepts_sets_a_password_and_lands_in_the_inbox(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    _response, secret = _invite(
        signed_in_client(acme.admin), "nina@example.org", "light_agent", django_capture_on_commit_callbacks
    )
    nina = Client()
    page = nina.get(f"/invitations/{secret}/")
    assert page.status_code == 200
    assert "Join Acme" in page.text
    assert "You were invited as Light agent with the address nina@example.org." in page.text
    assert page["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"

    mismatch = nina.post(
        f"/invitations/{secret}/", {"name": "Nina", "password": "a long passphrase", "password_again": "another"}
    )
    weak = nina.post(f"/invitations/{secret}/", {"name": "Nina", "password": "short", "password_again": "short"})
    nameless = nina.post(
        f"/invitations/{secret}/", {"name": "", "password": "a long passphrase", "password_again": "a long passphrase"}
    )
    assert (mismatch.status_code, weak.status_code, nameless.status_code) == (400, 400, 400)
    assert "The two passwords are not the same." in mismatch.text
    assert "This password is too short. It must contain at least 10 characters." in weak.text
    assert "Enter your name." in nameless.text
    assert User.objects.filter(email="nina@example.org").exists() is False

    joined = nina.post(
        f"/invitations/{secret}/",
        {"name": "Nina Novak", "password": "a long passphrase", "password_again": "a long passphrase"},
    )
    assert (joined.status_code, joined["Location"]) == (302, "/")
    agent = Agent.objects.select_related("user").get(workspace=acme.workspace, user__email="nina@example.org")
    assert (agent.role, agent.user.name, agent.user.language, agent.user.time_zone) == (
        "light_agent",
        "Nina Novak",
        "en",
        "UTC",
    )
    assert nina.get("/").status_code == 200  # signed in, inside Acme
    used = Client().get(f"/invitations/{secret}/")
    assert used.status_code == 410
    assert "This invitation has already been used. Sign in with your email and password." in used.text
    assert Invitation.objects.get(workspace=acme.workspace).accepted_at is not None


def test_someone_with_an_account_signs_in_to_accept_and_others_cannot(
    acme: Cast, umbrella: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    _response, secret = _invite(
        signed_in_client(acme.owner), "maria@umbrella.example", "viewer", django_capture_on_commit_callbacks
    )
    anonymous = Client().get(f"/invitations/{secret}/")
    assert "Sign in with it to accept the invitation." in anonymous.text
    assert f'href="/login/?next=%2Finvitations%2F{secret}%2F"' in anonymous.text
    refused = Client().post(
        f"/invitations/{secret}/", {"name": "X", "password": "a long passphrase", "password_again": "a long passphrase"}
    )
    assert refused.status_code == 200  # the same page again: sign in first
    assert User.objects.get(email="maria@umbrella.example").check_password(PASSWORD)

    someone_else = signed_in_client(umbrella.admin)
    wrong_person = someone_else.post(f"/invitations/{secret}/")
    assert "This invitation was sent to maria@umbrella.example. Sign out and open the link again" in wrong_person.text
    assert Agent.objects.filter(workspace=acme.workspace, user__email="adam@umbrella.example").exists() is False

    maria = Client()
    maria.login(username="maria@umbrella.example", password=PASSWORD)
    assert "Join Acme" in maria.get(f"/invitations/{secret}/").text
    joined = maria.post(f"/invitations/{secret}/")
    assert (joined.status_code, joined["Location"]) == (302, "/")
    assert Agent.objects.get(workspace=acme.workspace, user__email="maria@umbrella.example").role == "viewer"
    assert maria.session["deskloop_workspace_id"] == acme.workspace.pk


def test_resend_replaces_the_link_and_revoke_or_time_ends_it(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    adam = signed_in_client(acme.admin)
    _response, first = _invite(adam, "nina@example.org", "agent", django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get(workspace=acme.workspace)
    with django_capture_on_commit_callbacks(execute=True):
        resent = adam.post(f"/settings/invitations/{invitation.pk}/resend/")
    second = LINK.search(mail.outbox[-1].body).group(1)  # type: ignore[union-attr]
    assert (resent.status_code, len(mail.outbox), first != second) == (302, 2, True)
    stale = Client().get(f"/invitations/{first}/")
    assert stale.status_code == 404
    assert "This invitation link is not valid. Check that you copied the whole link." in stale.text

    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        expired = Client().get(f"/invitations/{second}/")
        listing = adam.get("/settings/invitations/")
    assert expired.status_code == 410
    assert "This invitation has expired. Ask an admin to send you a new one." in expired.text
    assert '<span class="badge badge-warning">expired</span>' in listing.text

    revoked = adam.post(f"/settings/invitations/{invitation.pk}/revoke/")
    assert revoked.status_code == 302
    withdrawn = Client().get(f"/invitations/{second}/")
    assert withdrawn.status_code == 410
    assert "This invitation was withdrawn. Ask an admin if you still need access." in withdrawn.text
    again = adam.post(f"/settings/invitations/{invitation.pk}/revoke/")
    assert again.status_code == 422
    assert "Only a pending invitation can be resent or revoked." in again.text
    assert "No open invitations." in adam.get("/settings/invitations/").text


# ---- teams -------------------------------------------------------------------------------------------------------
def test_teams_are_created_renamed_and_staffed_and_names_stay_unique(acme: Cast) -> None:
    adam = signed_in_client(acme.admin)
    created = adam.post("/settings/teams/", {"name": " Enterprise  onboarding "})
    team = Team.objects.get(workspace=acme.workspace, name="Enterprise onboarding")
    assert (created.status_code, created["Location"]) == (302, f"/settings/teams/{team.pk}/")

    duplicate = adam.post("/settings/teams/", {"name": "support"})
    renamed_onto = adam.post(f"/settings/teams/{team.pk}/", {"name": "BILLING"})
    assert duplicate.status_code == 422
    assert "A team with this name already exists." in duplicate.text
    assert renamed_onto.status_code == 422
    assert "A team with this name already exists." in renamed_onto.text
    assert Team.objects.filter(workspace=acme.workspace).count() == 3

    adam.post(f"/settings/teams/{team.pk}/", {"name": "Onboarding"})
    staffed = adam.post(f"/settings/teams/{team.pk}/members/", {"members": [acme.agent.pk, acme.viewer.pk]})
    assert staffed.status_code == 302
    team.refresh_from_db()
    assert (team.name, sorted(team.members.values_list("pk", flat=True))) == (
        "Onboarding",
        sorted([acme.agent.pk, acme.viewer.pk]),
    )
    listing = adam.get("/settings/teams/")
    assert '<tr data-team="Onboarding">' in listing.text


def test_deleting_a_team_moves_its_tickets_with_a_history_entry(acme: Cast, umbrella: Cast) -> None:
    adam = signed_in_client(acme.admin)
    foreign = adam.post(f"/settings/teams/{acme.support.pk}/delete/", {"move_to": umbrella.billing.pk})
    assert foreign.status_code == 302
    assert Team.objects.filter(pk=acme.support.pk).exists() is True  # refused: not a team of this workspace

    version = Ticket.objects.get(pk=acme.ticket.pk).version
    outbox_before = OutboxEvent.objects.count()
    deleted = adam.post(f"/settings/teams/{acme.support.pk}/delete/", {"move_to": acme.billing.pk})
    assert (deleted.status_code, deleted["Location"]) == (302, "/settings/teams/")
    assert Team.objects.filter(pk=acme.support.pk).exists() is False
    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    assert (ticket.team_id, ticket.version) == (acme.billing.pk, version + 1)
    assert [
        (e.name, e.payload["id"], e.payload["team_id"], e.payload["changes"])
        for e in OutboxEvent.objects.order_by("id")[outbox_before:]
    ] == [("ticket.updated", ticket.pk, acme.billing.pk, ["team"])]
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.FIELD_CHANGED, field="team")
    assert (event.old_value, event.new_value, event.actor_agent_id, event.via) == (
        acme.support.pk,
        acme.billing.pk,
        acme.admin.pk,
        "settings",
    )
    assert signed_in_client(acme.agent).post(f"/settings/teams/{acme.billing.pk}/delete/").status_code == 403
