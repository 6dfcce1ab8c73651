"""The agents' ideas pages told with the cast, through HTTP: the ranked board and its filters, an idea with its
evidence, posting and editing, status changes, merging, voting for a customer, comments, following, and the board
settings; viewers read, writers change, other workspaces see nothing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from deskloop.conftest import Cast, signed_in_client
from deskloop.core.models import OutboxEvent
from deskloop.customers import services as customer_services
from deskloop.customers.models import Organization, Segment
from deskloop.ideas.models import Idea, IdeaBoard, IdeaComment, IdeaStatus, IdeaSubscription, IdeaVote, VoteSource
from deskloop.ideas.services.ideas import create_idea
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.tickets.models import ProductArea

pytestmark = pytest.mark.django_db


def _area(cast: Cast, path: str) -> ProductArea:
    parent_path, _sep, name = path.rpartition(" > ")
    parent = ProductArea.objects.get(workspace=cast.workspace, path=parent_path) if parent_path else None
    return ProductArea.objects.create(workspace=cast.workspace, name=name, path=path, parent=parent)


def _rows(html: str) -> list[str]:
    """The idea titles of the board, in order."""
    return re.findall(r'<tr data-idea="\d+">\s*<td><a href="/ideas/\d+/">([^<]+)</a>', html)


def test_the_board_ranks_by_score_and_shows_each_ideas_value(acme: Cast) -> None:
    small = create_idea(workspace=acme.workspace, title="Dark mode")
    big = create_idea(workspace=acme.workspace, title="CSV export")
    initech = Organization.objects.create(workspace=acme.workspace, name="Initech", mrr=Decimal("100"))
    cast_vote(idea=small, voter=Voter(organization=initech), source=VoteSource.IMPORT)
    cast_vote(idea=big, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL, importance=3)

    page = signed_in_client(acme.viewer).get("/ideas/")
    html = page.content.decode()
    assert page.status_code == 200
    assert _rows(html) == ["CSV export", "Dark mode"]
    assert '<td class="num" data-mrr>990.00</td>' in html
    assert '<td class="num" data-score>2,970.00</td>' in html
    newest = signed_in_client(acme.viewer).get("/ideas/?sort=newest").content.decode()
    assert _rows(newest) == ["CSV export", "Dark mode"]


def test_the_board_filters_by_status_area_with_its_children_segment_and_text(acme: Cast) -> None:
    billing = _area(acme, "Billing")
    invoices = _area(acme, "Billing > Invoices")
    reports = _area(acme, "Reports")
    in_child = create_idea(workspace=acme.workspace, title="Invoice PDF", product_area=invoices)
    create_idea(workspace=acme.workspace, title="Charts", product_area=reports)
    old = Organization.objects.create(
        workspace=acme.workspace, name="Oldco", mrr=Decimal("500"), customer_since=dt.date(2020, 1, 1)
    )
    cast_vote(idea=in_child, voter=Voter(organization=old), source=VoteSource.IMPORT)
    segment = Segment.objects.create(workspace=acme.workspace, name="Big", mrr_above=Decimal("400"))
    client = signed_in_client(acme.agent)

    assert _rows(client.get(f"/ideas/?product_area={billing.pk}").content.decode()) == ["Invoice PDF"]
    assert _rows(client.get("/ideas/?q=chart").content.decode()) == ["Charts"]
    assert _rows(client.get("/ideas/?status=shipped").content.decode()) == []
    segmented = client.get(f"/ideas/?segment={segment.pk}").content.decode()
    # Only Oldco is in the segment (Globex has 990 MRR but no vote on these ideas).
    assert _rows(segmented) == ["Invoice PDF"]
    assert '<td class="num" data-score>500.00</td>' in segmented


def test_the_board_refuses_another_workspaces_segment_and_bad_filters(acme: Cast, umbrella: Cast) -> None:
    foreign = Segment.objects.create(workspace=umbrella.workspace, name="Theirs")
    client = signed_in_client(acme.agent)
    refused = client.get(f"/ideas/?segment={foreign.pk}")
    assert refused.status_code == 422
    assert "No such segment in this workspace." in refused.content.decode()
    assert client.get("/ideas/?sort=loudest").status_code == 422
    assert client.get("/ideas/?cursor=garbage").status_code == 422


def test_the_idea_page_shows_its_evidence_and_internal_comments(acme: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="CSV export", author_contact=acme.customer)
    cast_vote(
        idea=idea,
        voter=Voter(contact=acme.customer),
        source=VoteSource.AGENT,
        importance=3,
        ticket=acme.ticket,
        agent=acme.agent,
    )
    IdeaComment.objects.create(
        workspace=acme.workspace, idea=idea, author_agent=acme.agent, body="Q3?", is_internal=True
    )
    html = signed_in_client(acme.viewer).get(f"/ideas/{idea.pk}/").content.decode()
    assert "Carmen Customer" in html
    assert 'Globex of Acme</a></td>\n        <td>Pro</td>\n        <td class="num">990.00</td>' in html
    assert '<td data-importance="3">Critical</td>' in html
    assert f'href="/tickets/{acme.ticket.number}/">#{acme.ticket.number}</a>' in html
    assert "Q3?" in html
    assert ">internal</span>" in html


def test_another_workspaces_idea_is_not_found_and_not_changed(acme: Cast, umbrella: Cast) -> None:
    theirs = create_idea(workspace=umbrella.workspace, title="SAML")
    client = signed_in_client(acme.admin)
    assert client.get(f"/ideas/{theirs.pk}/").status_code == 404
    assert client.post(f"/ideas/{theirs.pk}/status/", {"status": "shipped"}).status_code == 404
    assert client.post(f"/ideas/{theirs.pk}/comments/", {"body": "hi"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == IdeaStatus.UNDER_REVIEW
    assert not theirs.comments.exists()


def test_an_agent_posts_and_edits_an_idea_and_a_viewer_cannot(acme: Cast) -> None:
    area = _area(acme, "Billing")
    client = signed_in_client(acme.agent)
    posted = client.post("/ideas/new/", {"title": "CSV export", "description": "All invoices", "is_public": "on"})
    idea = Idea.objects.get()
    assert posted.status_code == 302
    assert posted["Location"] == f"/ideas/{idea.pk}/"
    assert IdeaSubscription.objects.filter(idea=idea, agent=acme.agent).exists()
    edited = client.post(f"/ideas/{idea.pk}/edit/", {"title": "Export invoices", "product_area": area.pk})
    idea.refresh_from_db()
    assert edited.status_code == 302
    assert (idea.title, idea.product_area_id, idea.is_public) == ("Export invoices", area.pk, False)
    empty = client.post("/ideas/new/", {"title": "  "})
    assert empty.status_code == 422
    assert signed_in_client(acme.viewer).post("/ideas/new/", {"title": "Nope"}).status_code == 403
    assert Idea.objects.count() == 1


def test_shipping_from_the_page_publishes_the_change_with_what_shipped(acme: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="CSV export")
    client = signed_in_client(acme.agent)
    shipped = client.post(
        f"/ideas/{idea.pk}/status/", {"status": "shipped", "shipped_note": "Reports > Export > CSV"}, follow=True
    )
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.SHIPPED
    assert "Marked shipped" in shipped.content.decode()
    event = OutboxEvent.objects.get(name="idea.status_changed")
    assert (event.payload["status"], event.payload["shipped_note"]) == ("shipped", "Reports > Export > CSV")
    bad = client.post(f"/ideas/{idea.pk}/status/", {"status": "done"})
    assert bad.status_code == 422
    assert signed_in_client(acme.viewer).post(f"/ideas/{idea.pk}/status/", {"status": "declined"}).status_code == 403
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.SHIPPED


def test_merging_from_the_page_finds_the_survivor_and_the_loser_redirects(acme: Cast) -> None:
    survivor = create_idea(workspace=acme.workspace, title="Single sign-on")
    loser = create_idea(workspace=acme.workspace, title="SSO with Okta")
    cast_vote(idea=loser, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    client = signed_in_client(acme.agent)
    search = client.get(f"/ideas/{loser.pk}/merge/?q=sign-on").content.decode()
    assert f'data-merge-into="{survivor.pk}"' in search
    assert f'data-merge-into="{loser.pk}"' not in search
    merged = client.post(f"/ideas/{loser.pk}/merge/", {"into": survivor.pk})
    assert merged["Location"] == f"/ideas/{survivor.pk}/"
    assert client.get(f"/ideas/{loser.pk}/")["Location"] == f"/ideas/{survivor.pk}/"
    assert IdeaVote.objects.get().idea_id == survivor.pk
    again = client.post(f"/ideas/{loser.pk}/merge/", {"into": survivor.pk})
    assert again.status_code == 409


def test_an_agent_votes_for_a_customer_by_email_from_a_ticket(acme: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="CSV export")
    client = signed_in_client(acme.agent)
    voted = client.post(
        f"/ideas/{idea.pk}/votes/",
        {"email": "CARMEN@globex-acme.example", "importance": "2", "ticket_number": acme.ticket.number},
    )
    assert voted.status_code == 302
    vote = IdeaVote.objects.get()
    assert (vote.contact_id, vote.importance, vote.ticket_id, vote.cast_by_id, vote.source) == (
        acme.customer.pk,
        2,
        acme.ticket.pk,
        acme.agent.pk,
        VoteSource.AGENT,
    )
    unknown = client.post(f"/ideas/{idea.pk}/votes/", {"email": "nobody@example.com", "importance": "1"})
    assert unknown.status_code == 422
    assert "No customer with this email in this workspace." in unknown.content.decode()
    assert signed_in_client(acme.viewer).post(f"/ideas/{idea.pk}/votes/", {"email": "x@y.z"}).status_code == 403
    removed = client.post(f"/ideas/{idea.pk}/votes/{vote.pk}/delete/")
    assert removed.status_code == 302
    assert not IdeaVote.objects.exists()


def test_comments_and_following_from_the_page(acme: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="CSV export")
    light = signed_in_client(acme.light_agent)
    assert light.post(f"/ideas/{idea.pk}/comments/", {"body": "Asked twice", "is_internal": "on"}).status_code == 302
    refused = light.post(f"/ideas/{idea.pk}/comments/", {"body": "Public"})
    assert refused.status_code == 403
    assert list(IdeaComment.objects.values_list("body", "is_internal")) == [("Asked twice", True)]
    viewer = signed_in_client(acme.viewer)
    viewer.post(f"/ideas/{idea.pk}/follow/", {"follow": "1"})
    assert IdeaSubscription.objects.filter(idea=idea, agent=acme.viewer).exists()
    viewer.post(f"/ideas/{idea.pk}/follow/", {"follow": "0"})
    assert not IdeaSubscription.objects.filter(idea=idea, agent=acme.viewer).exists()


def test_board_settings_reweigh_every_idea_and_only_admins_open_them(acme: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="CSV export")
    cast_vote(idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL, importance=3)
    form = {"is_public": "on", "weight_nice_to_have": "1", "weight_important": "2", "weight_critical": "10"}
    assert signed_in_client(acme.agent).post("/settings/ideas-board/", form).status_code == 403
    saved = signed_in_client(acme.admin).post("/settings/ideas-board/", form)
    assert saved.status_code == 302
    board = IdeaBoard.objects.get(workspace=acme.workspace)
    assert (board.is_public, board.weight_critical) == (True, Decimal("10.00"))
    idea.refresh_from_db()
    assert idea.score == Decimal("9900.00")
    bad = signed_in_client(acme.admin).post("/settings/ideas-board/", {**form, "weight_critical": "-1"})
    assert bad.status_code == 422
    board.refresh_from_db()
    assert board.weight_critical == Decimal("10.00")


def test_the_settings_menu_lists_the_ideas_board_for_admins(acme: Cast) -> None:
    assert "/settings/ideas-board/" in signed_in_client(acme.admin).get("/settings/").content.decode()


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_board_and_the_idea_page_cost_the_same_queries_for_one_row_or_many(acme: Cast) -> None:
    area = _area(acme, "Billing")
    idea = create_idea(workspace=acme.workspace, title="CSV export", product_area=area, author_agent=acme.agent)
    cast_vote(
        idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.AGENT, ticket=acme.ticket, agent=acme.agent
    )
    IdeaComment.objects.create(workspace=acme.workspace, idea=idea, author_agent=acme.admin, body="One")
    client = signed_in_client(acme.agent)
    board_one, page_one = _count_queries(client, "/ideas/"), _count_queries(client, f"/ideas/{idea.pk}/")
    for n in range(4):
        create_idea(workspace=acme.workspace, title=f"Idea {n}", product_area=_area(acme, f"Area {n}"))
        contact = customer_services.find_or_create_contact(workspace=acme.workspace, email=f"c{n}@initech.example")
        cast_vote(
            idea=idea,
            voter=Voter(contact=contact),
            source=VoteSource.AGENT,
            ticket=acme.ticket,
            agent=acme.other_team_agent,
        )
        IdeaComment.objects.create(workspace=acme.workspace, idea=idea, author_agent=acme.light_agent, body=f"{n}")
    assert _count_queries(client, "/ideas/") == board_one
    assert _count_queries(client, f"/ideas/{idea.pk}/") == page_one
