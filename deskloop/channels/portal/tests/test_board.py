"""The public ideas board, from the customer's side: anyone reads a public board (counts only, never who voted),
a private board is there only for customers signed in through the portal; a signed-in customer posts, votes once
and takes it back, comments and follows, each write behind the CSRF token and the "vote" rate limit; the roadmap
and the changelog show what is planned and what shipped."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deskloop.channels.portal.tests.helpers import signed_in
from deskloop.conftest import Cast
from deskloop.customers.services import create_organization, find_or_create_contact
from deskloop.ideas.models import Idea, IdeaBoard, IdeaComment, IdeaStatus, IdeaSubscription, IdeaVote, VoteSource
from deskloop.ideas.services.ideas import add_comment, change_status, create_idea, merge_ideas
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.tickets.models import ProductArea


def _open_board(cast: Cast, public: bool = True) -> None:
    IdeaBoard.objects.update_or_create(workspace=cast.workspace, defaults={"is_public": public})


def _idea(cast: Cast, title: str, **options: Any) -> Idea:
    return create_idea(workspace=cast.workspace, title=title, author_agent=cast.agent, **options)


@pytest.fixture
def carmen(acme: Cast, django_capture_on_commit_callbacks: Any) -> Client:
    """Carmen (Globex, MRR 990) signed in to Acme's portal by the mailed link, with Django's CSRF checks on."""
    client = signed_in(Client(), acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)
    client.handler.enforce_csrf_checks = True  # from here on, as a browser with Django's checks
    return client


def _post(client: Client, url: str, data: dict[str, str] | None = None) -> Any:
    """A form post as the browser sends it: with the CSRF token of the page the customer is on."""
    client.get("/board/acme/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": token})


def test_anyone_reads_a_public_board_with_counts_but_never_who_voted(acme: Cast) -> None:
    _open_board(acme)
    export = _idea(acme, "Export invoices as CSV", description="Our accountant wants a spreadsheet.")
    secret = _idea(acme, "Price increase for Globex", is_public=False)
    cast_vote(idea=export, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    initech = create_organization(workspace=acme.workspace, name="Initech", domains=["initech.example"], mrr=4321)
    cast_vote(idea=export, voter=Voter(organization=initech), source=VoteSource.DEAL)
    add_comment(idea=export, body="Also for credit notes, please.", contact=acme.customer)

    board = Client().get("/board/acme/")
    page = Client().get(f"/board/acme/ideas/{export.pk}/")

    assert board.status_code == page.status_code == 200
    for html in (board.content.decode(), page.content.decode()):
        assert "Export invoices as CSV" in html
        assert "<strong>2</strong> <span>votes</span>" in html
        for private in ("Carmen", "carmen@", "Globex", "Initech", "990", "4321", secret.title):
            assert private not in html
    assert "Also for credit notes, please." in page.content.decode()
    assert "A customer" in page.content.decode()
    assert Client().get(f"/board/acme/ideas/{secret.pk}/").status_code == 404


def test_a_private_board_is_there_only_for_signed_in_customers(acme: Cast, umbrella: Cast, carmen: Client) -> None:
    _open_board(acme, public=False)
    idea = _idea(acme, "Dark mode")
    for path in ("/board/acme/", f"/board/acme/ideas/{idea.pk}/", "/board/acme/roadmap/", "/board/acme/changelog/"):
        assert Client().get(path).status_code == 404
        assert carmen.get(path).status_code == 200
    # Signed in to another workspace's portal says nothing here.
    spy = Client()
    session = spy.session
    session[f"deskloop_portal:{umbrella.workspace.pk}"] = {"contact": umbrella.customer.pk, "at": int(time_now())}
    session.save()
    assert spy.get("/board/acme/").status_code == 404


def time_now() -> float:
    return timezone.now().timestamp()


def test_a_customer_votes_once_raises_importance_and_takes_the_vote_back(acme: Cast, carmen: Client) -> None:
    _open_board(acme)
    idea = _idea(acme, "Export invoices as CSV")
    url = f"/board/acme/ideas/{idea.pk}/"

    first = _post(carmen, url + "vote/", {"importance": "1"})
    again = _post(carmen, url + "vote/", {"importance": "3"})

    assert first.status_code == again.status_code == 302
    vote = IdeaVote.objects.get(idea=idea)
    assert (vote.contact_id, vote.source, vote.importance) == (acme.customer.pk, VoteSource.BOARD, 3)
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organization_count) == (1, 1)
    page = carmen.get(url).content.decode()
    assert "You voted" in page
    assert IdeaSubscription.objects.filter(idea=idea, contact=acme.customer).exists()

    assert _post(carmen, url + "unvote/").status_code == 302
    assert _post(carmen, url + "unvote/").status_code == 302  # a second click changes nothing
    idea.refresh_from_db()
    assert (IdeaVote.objects.filter(idea=idea).count(), idea.vote_count) == (0, 0)


def test_a_vote_an_agent_recorded_is_not_the_customers_to_take_back(acme: Cast, carmen: Client) -> None:
    _open_board(acme)
    idea = _idea(acme, "Export invoices as CSV")
    cast_vote(idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.AGENT, agent=acme.agent)
    response = _post(carmen, f"/board/acme/ideas/{idea.pk}/unvote/")
    assert response.status_code == 302
    assert IdeaVote.objects.filter(idea=idea, contact=acme.customer).count() == 1
    page = carmen.get(response["Location"]).content.decode()
    assert "Our team recorded this vote with you" in page


def test_writing_needs_a_signed_in_customer_and_the_csrf_token(acme: Cast, carmen: Client) -> None:
    _open_board(acme)
    idea = _idea(acme, "Export invoices as CSV")
    anonymous = Client().post(f"/board/acme/ideas/{idea.pk}/vote/", {"importance": "3"})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/portal/acme/signin/")
    assert Client().get("/board/acme/new/")["Location"] == "/portal/acme/signin/?next=%2Fboard%2Facme%2Fnew%2F"
    forged = carmen.post(f"/board/acme/ideas/{idea.pk}/vote/", {"importance": "3"})  # no token: another site's form
    assert forged.status_code == 403
    forged_post = carmen.post("/board/acme/new/", {"title": "Planted idea"})
    assert forged_post.status_code == 403
    assert IdeaVote.objects.count() == 0
    assert not Idea.objects.filter(title="Planted idea").exists()


def test_a_customer_posts_an_idea_and_it_carries_their_vote(acme: Cast, carmen: Client) -> None:
    _open_board(acme, public=False)
    area = ProductArea.objects.create(workspace=acme.workspace, name="Billing", path="Billing")
    response = _post(
        carmen,
        "/board/acme/new/",
        {
            "title": "  Pay   invoices by SEPA ",
            "description": "We pay everything by SEPA.",
            "product_area": str(area.pk),
        },
    )
    idea = Idea.objects.get(workspace=acme.workspace)
    assert response.status_code == 302
    assert response["Location"] == f"/board/acme/ideas/{idea.pk}/"
    assert (idea.title, idea.author_contact_id, idea.product_area_id, idea.is_public) == (
        "Pay invoices by SEPA",
        acme.customer.pk,
        area.pk,
        True,
    )
    assert list(IdeaVote.objects.filter(idea=idea).values_list("contact_id", "source")) == [
        (acme.customer.pk, VoteSource.BOARD)
    ]
    assert "Thank you: your idea is on the board, with your vote." in carmen.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "   "}, "This field is required."),
        ({"title": "x" * 201}, "Ensure this value has at most 200 characters"),
    ],
)
def test_a_bad_idea_is_refused_with_its_reason_and_nothing_is_stored(
    acme: Cast, carmen: Client, data: dict[str, str], message: str
) -> None:
    _open_board(acme)
    response = _post(carmen, "/board/acme/new/", data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Idea.objects.count() == 0


def test_another_workspaces_product_area_is_refused(acme: Cast, umbrella: Cast, carmen: Client) -> None:
    foreign = ProductArea.objects.create(workspace=umbrella.workspace, name="Secret", path="Secret")
    for value in (str(foreign.pk), "billing"):
        response = _post(carmen, "/board/acme/new/", {"title": "Dark mode", "product_area": value})
        assert response.status_code == 422
        assert "Choose a part of the product from the list." in response.content.decode()
    assert Idea.objects.count() == 0


def test_comments_show_customers_as_a_customer_and_never_internal_ones(
    acme: Cast, carmen: Client, django_capture_on_commit_callbacks: Any
) -> None:
    _open_board(acme)
    idea = _idea(acme, "Export invoices as CSV")
    add_comment(idea=idea, body="Finance says Globex will churn without it", agent=acme.agent, is_internal=True)
    add_comment(idea=idea, body="We are looking at this for May.", agent=acme.agent)
    url = f"/board/acme/ideas/{idea.pk}/"

    assert _post(carmen, url + "comments/", {"body": "We need it for the audit."}).status_code == 302
    refused = _post(carmen, url + "comments/", {"body": "   "})

    assert refused.status_code == 422
    assert "This field is required." in refused.content.decode()
    own = carmen.get(url).content.decode()
    assert "We need it for the audit." in own
    assert "<strong>You</strong>" in own
    assert "Maria Agent · Acme" in own
    find_or_create_contact(workspace=acme.workspace, email="pat@initech.example", name="Pat Initech")
    pat = signed_in(Client(), acme.workspace, "pat@initech.example", django_capture_on_commit_callbacks)
    other = pat.get(url).content.decode()
    assert "<strong>A customer</strong>" in other
    assert "Carmen" not in other
    assert "will churn" not in own + other
    assert IdeaComment.objects.filter(idea=idea, author_contact=acme.customer).count() == 1


def test_a_customer_follows_and_unfollows_an_idea(acme: Cast, carmen: Client) -> None:
    _open_board(acme)
    idea = _idea(acme, "Export invoices as CSV")
    url = f"/board/acme/ideas/{idea.pk}/"
    assert _post(carmen, url + "follow/").status_code == 302
    assert IdeaSubscription.objects.filter(idea=idea, contact=acme.customer).count() == 1
    assert "You follow this idea" in carmen.get(url).content.decode()
    assert _post(carmen, url + "unfollow/").status_code == 302
    assert not IdeaSubscription.objects.filter(idea=idea, contact=acme.customer).exists()


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={**settings.DESKLOOP_PUBLIC_RATE_LIMITS, "vote": (2, 100)})
def test_votes_and_posts_are_rate_limited(acme: Cast, carmen: Client) -> None:
    _open_board(acme)
    ideas = [_idea(acme, f"Idea {i}") for i in range(3)]
    answers = [_post(carmen, f"/board/acme/ideas/{idea.pk}/vote/").status_code for idea in ideas]
    assert answers == [302, 302, 429]
    assert IdeaVote.objects.count() == 2
    assert _post(carmen, "/board/acme/new/", {"title": "One more"}).status_code == 429
    assert not Idea.objects.filter(title="One more").exists()


def test_the_board_filters_by_status_product_area_below_it_and_words(acme: Cast) -> None:
    _open_board(acme)
    billing = ProductArea.objects.create(workspace=acme.workspace, name="Billing", path="Billing")
    invoices = ProductArea.objects.create(
        workspace=acme.workspace, name="Invoices", parent=billing, path="Billing > Invoices"
    )
    in_invoices = _idea(acme, "Invoice numbering per year", product_area=invoices)
    elsewhere = _idea(acme, "Dark mode")
    declined = _idea(acme, "Fax invoices")
    change_status(idea=declined, status=IdeaStatus.DECLINED, agent=acme.agent)

    def titles(**params: str) -> list[str]:
        html = Client().get("/board/acme/", params).content.decode()
        return [i.title for i in (in_invoices, elsewhere, declined) if i.title in html]

    assert titles() == ["Invoice numbering per year", "Dark mode"]
    assert titles(product_area=str(billing.pk)) == ["Invoice numbering per year"]
    assert titles(status="declined") == ["Fax invoices"]
    assert titles(q="dark") == ["Dark mode"]
    assert Client().get("/board/acme/", {"sort": "score"}).status_code == 400  # MRR ranking is not public
    by_segment = Client().get("/board/acme/", {"segment": "1"})
    assert by_segment.status_code == 400
    assert "The public board cannot be filtered by segment." in by_segment.content.decode()
    assert Client().get("/board/acme/", {"cursor": "not-a-cursor"}).status_code == 400
    assert Client().get("/board/acme/", {"product_area": "999999"}).status_code == 404


def test_the_board_reads_a_fixed_number_of_queries_however_many_ideas(acme: Cast, carmen: Client) -> None:
    _open_board(acme)
    areas = [ProductArea.objects.create(workspace=acme.workspace, name=f"Area {i}", path=f"Area {i}") for i in range(6)]

    def queries_for_board() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert carmen.get("/board/acme/").status_code == 200
        return len(captured)

    _idea(acme, "The first idea", product_area=areas[0])
    one = queries_for_board()
    for i in range(1, 6):
        cast_vote(
            idea=_idea(acme, f"Idea {i}", product_area=areas[i]), voter=Voter(contact=acme.customer), source="board"
        )
    assert queries_for_board() == one


def test_the_board_pages_by_cursor(acme: Cast) -> None:
    _open_board(acme)
    for i in range(32):
        _idea(acme, f"Idea number {i:02d}")
    first = Client().get("/board/acme/", {"sort": "newest"}).content.decode()
    assert "Idea number 31" in first
    assert "Idea number 01" not in first
    more = first.split('class="pager"')[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
    second = Client().get("/board/acme/" + more).content.decode()
    assert "Idea number 01" in second
    assert "Idea number 31" not in second


def test_the_roadmap_and_the_changelog_show_what_is_planned_and_what_shipped(acme: Cast) -> None:
    _open_board(acme)
    planned = _idea(acme, "Dark mode")
    building = _idea(acme, "SAML sign-in")
    older = _idea(acme, "CSV export")
    newer = _idea(acme, "Invoice numbering per year")
    hidden = _idea(acme, "Internal billing job", is_public=False)
    change_status(idea=planned, status=IdeaStatus.PLANNED, agent=acme.agent)
    change_status(idea=building, status=IdeaStatus.IN_PROGRESS, agent=acme.agent)
    for idea, note in ((older, "Reports > Export CSV."), (newer, "Numbers restart each January."), (hidden, "x")):
        change_status(idea=idea, status=IdeaStatus.SHIPPED, agent=acme.agent, shipped_note=note)
    Idea.objects.filter(pk=older.pk).update(shipped_at=timezone.now() - dt.timedelta(days=30))

    roadmap = Client().get("/board/acme/roadmap/").content.decode()
    columns = {
        status: roadmap.split(f'data-column="{status}"')[1].split("</section>")[0]
        for status in ("planned", "in_progress", "shipped")
    }
    assert "Dark mode" in columns["planned"]
    assert "SAML sign-in" in columns["in_progress"]
    assert columns["shipped"].index("Invoice numbering") < columns["shipped"].index("CSV export")
    changelog = Client().get("/board/acme/changelog/").content.decode()
    assert changelog.index("Numbers restart each January.") < changelog.index("Reports &gt; Export CSV.")
    assert "Internal billing job" not in roadmap + changelog
    assert "Dark mode" not in changelog


def test_a_merged_idea_sends_its_visitors_to_the_one_it_went_into(acme: Cast, carmen: Client) -> None:
    _open_board(acme)
    loser = _idea(acme, "CSV export of invoices")
    survivor = _idea(acme, "Export invoices as CSV")
    merge_ideas(loser=loser, survivor=survivor, agent=acme.agent)
    response = Client().get(f"/board/acme/ideas/{loser.pk}/")
    assert (response.status_code, response["Location"]) == (301, f"/board/acme/ideas/{survivor.pk}/")
    # A vote on the old page lands on the survivor.
    _post(carmen, f"/board/acme/ideas/{loser.pk}/vote/")
    assert list(IdeaVote.objects.values_list("idea_id", flat=True)) == [survivor.pk]


def test_the_portal_navigation_leads_to_the_ideas(acme: Cast, carmen: Client) -> None:
    html = carmen.get("/portal/acme/").content.decode()
    assert '<a href="/board/acme/">Ideas</a>' in html
