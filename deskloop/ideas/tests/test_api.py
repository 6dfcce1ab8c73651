"""Ideas over the API with the cast: the ranked list and its filters, create, change (status through the one status
change), merge, votes for customers; readers read, writers change, another workspace's ideas are not found."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deskloop.conftest import Cast, api_client, api_send, problem_body
from deskloop.core.models import OutboxEvent
from deskloop.customers.models import Organization, Segment
from deskloop.ideas.models import Idea, IdeaStatus, IdeaVote, VoteSource
from deskloop.ideas.services.ideas import create_idea
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.tickets.models import ProductArea

pytestmark = pytest.mark.django_db


def test_the_list_is_the_board_with_each_ideas_value(acme: Cast) -> None:
    small = create_idea(workspace=acme.workspace, title="Dark mode")
    big = create_idea(workspace=acme.workspace, title="CSV export")
    initech = Organization.objects.create(workspace=acme.workspace, name="Initech", mrr=Decimal("100"))
    cast_vote(idea=small, voter=Voter(organization=initech), source=VoteSource.IMPORT)
    cast_vote(idea=big, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL, importance=2)
    client = api_client(acme.viewer)

    body = api_send(client, "get", "/api/v1/ideas?limit=1").json()
    assert [(i["title"], i["votes"], i["organizations"], i["total_mrr"], i["score"]) for i in body["items"]] == [
        ("CSV export", 1, 1, "990.00", "1980.00")
    ]
    rest = api_send(client, "get", f"/api/v1/ideas?limit=1&cursor={body['next_cursor']}").json()
    assert [i["title"] for i in rest["items"]] == ["Dark mode"]
    assert rest["next_cursor"] is None
    segment = Segment.objects.create(workspace=acme.workspace, name="Small", industry="", plan="")
    segment.mrr_above = Decimal("500")
    segment.save()
    cut = api_send(client, "get", f"/api/v1/ideas?segment={segment.pk}").json()
    assert [i["title"] for i in cut["items"]] == ["CSV export"]
    assert api_send(client, "get", "/api/v1/ideas?status=shipped").json()["items"] == []
    billing = ProductArea.objects.create(workspace=acme.workspace, name="Billing", path="Billing")
    invoices = ProductArea.objects.create(
        workspace=acme.workspace, name="Invoices", path="Billing > Invoices", parent=billing
    )
    create_idea(workspace=acme.workspace, title="Invoice PDF", product_area=invoices)
    in_area = api_send(client, "get", f"/api/v1/ideas?product_area={billing.pk}").json()
    assert [i["title"] for i in in_area["items"]] == ["Invoice PDF"]
    assert api_send(client, "get", "/api/v1/ideas?sort=loudest").status_code == 422


def test_create_change_and_ship_an_idea(acme: Cast) -> None:
    area = ProductArea.objects.create(workspace=acme.workspace, name="Billing", path="Billing")
    client = api_client(acme.agent)
    created = api_send(client, "post", "/api/v1/ideas", {"title": "CSV export", "product_area_id": area.pk})
    assert created.status_code == 201
    idea_id = created.json()["id"]
    assert created["Location"] == f"/api/v1/ideas/{idea_id}"
    changed = api_send(client, "patch", f"/api/v1/ideas/{idea_id}", {"product_area_id": None, "is_public": False})
    assert (changed.json()["product_area_id"], changed.json()["is_public"]) == (None, False)
    shipped = api_send(
        client, "patch", f"/api/v1/ideas/{idea_id}", {"status": "shipped", "shipped_note": "Reports > Export"}
    ).json()
    assert (shipped["status"], shipped["shipped_note"]) == ("shipped", "Reports > Export")
    assert shipped["shipped_at"] is not None
    assert OutboxEvent.objects.get(name="idea.status_changed").payload["status"] == "shipped"

    bad = api_send(client, "patch", f"/api/v1/ideas/{idea_id}", {"status": "done"})
    assert bad.status_code == 422
    empty = api_send(client, "post", "/api/v1/ideas", {"title": "   "})
    assert problem_body(empty)["errors"][0]["field"] == "title"
    assert api_send(api_client(acme.viewer), "patch", f"/api/v1/ideas/{idea_id}", {"title": "x"}).status_code == 403
    assert Idea.objects.get().title == "CSV export"


def test_merge_over_the_api(acme: Cast) -> None:
    survivor = create_idea(workspace=acme.workspace, title="Single sign-on")
    loser = create_idea(workspace=acme.workspace, title="SSO")
    cast_vote(idea=loser, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    client = api_client(acme.agent)
    assert api_send(client, "post", f"/api/v1/ideas/{loser.pk}/merge", {}).status_code == 422
    merged = api_send(client, "post", f"/api/v1/ideas/{loser.pk}/merge", {"into": survivor.pk})
    assert (merged.json()["id"], merged.json()["votes"]) == (survivor.pk, 1)
    assert api_send(client, "get", f"/api/v1/ideas/{loser.pk}").json()["merged_into_id"] == survivor.pk
    assert api_send(client, "post", f"/api/v1/ideas/{loser.pk}/merge", {"into": survivor.pk}).status_code == 409


def test_votes_for_customers_over_the_api(acme: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="CSV export")
    client = api_client(acme.agent)
    first = api_send(
        client,
        "post",
        f"/api/v1/ideas/{idea.pk}/votes",
        {"email": "carmen@globex-acme.example", "importance": "important", "ticket_number": acme.ticket.number},
    )
    assert first.status_code == 201
    vote = first.json()
    assert (vote["contact_name"], vote["organization_name"], vote["plan"], vote["mrr"]) == (
        "Carmen Customer",
        f"Globex of {acme.workspace.name}",
        "Pro",
        "990.00",
    )
    assert (vote["importance"], vote["source"], vote["ticket_number"]) == ("important", "api", acme.ticket.number)
    again = api_send(client, "post", f"/api/v1/ideas/{idea.pk}/votes", {"contact_id": acme.customer.pk})
    assert (again.status_code, again.json()["id"], again.json()["importance"]) == (200, vote["id"], "important")
    organization_vote = api_send(
        client,
        "post",
        f"/api/v1/ideas/{idea.pk}/votes",
        {"organization_id": acme.organization.pk, "importance": "critical"},
    )
    assert organization_vote.status_code == 201
    listed = api_send(client, "get", f"/api/v1/ideas/{idea.pk}/votes").json()["items"]
    assert [v["contact_id"] for v in listed] == [acme.customer.pk, None]

    both = api_send(client, "post", f"/api/v1/ideas/{idea.pk}/votes", {"contact_id": 1, "organization_id": 1})
    assert both.status_code == 422
    stranger = api_send(client, "post", f"/api/v1/ideas/{idea.pk}/votes", {"email": "who@nowhere.example"})
    assert problem_body(stranger)["errors"][0]["field"] == "email"
    assert api_send(client, "delete", f"/api/v1/ideas/{idea.pk}/votes/{vote['id']}").status_code == 204
    assert list(IdeaVote.objects.values_list("contact_id", flat=True)) == [None]


def test_another_workspaces_idea_and_votes_are_not_found(acme: Cast, umbrella: Cast) -> None:
    theirs = create_idea(workspace=umbrella.workspace, title="SAML")
    vote = cast_vote(idea=theirs, voter=Voter(contact=umbrella.customer), source=VoteSource.PORTAL).vote
    client = api_client(acme.admin)
    assert api_send(client, "get", f"/api/v1/ideas/{theirs.pk}").status_code == 404
    assert api_send(client, "patch", f"/api/v1/ideas/{theirs.pk}", {"status": "declined"}).status_code == 404
    assert api_send(client, "delete", f"/api/v1/ideas/{theirs.pk}/votes/{vote.pk}").status_code == 404
    mine = create_idea(workspace=acme.workspace, title="Mine")
    cross = api_send(client, "post", f"/api/v1/ideas/{mine.pk}/merge", {"into": theirs.pk})
    assert cross.status_code == 422
    theirs.refresh_from_db()
    assert (theirs.status, theirs.vote_count) == (IdeaStatus.UNDER_REVIEW, 1)
    assert api_send(client, "get", "/api/v1/ideas").json()["items"][0]["title"] == "Mine"
