"""The widget's Ideas tab, as the panel calls it with its widget pass: an identified customer finds the top ideas,
votes once (and takes it back), posts one; an anonymous visitor reads a public board but must confirm their email
to vote, and sees nothing of a private one; a pass of another workspace acts on nothing here."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from deskloop.channels.widget.tests.conftest import ACME_SECRET, UMBRELLA_SECRET, Panel, give_help_center, signed_claims
from deskloop.conftest import Cast
from deskloop.customers.models import Contact
from deskloop.ideas.models import Idea, IdeaBoard, IdeaStatus, IdeaVote, VoteSource
from deskloop.ideas.services.ideas import change_status, create_idea
from deskloop.ideas.services.votes import Voter, cast_vote


@pytest.fixture
def ideas(acme: Cast) -> dict[str, Idea]:
    give_help_center(acme, ACME_SECRET)

    def idea(title: str, **options: Any) -> Idea:
        return create_idea(workspace=acme.workspace, title=title, author_agent=acme.agent, **options)

    found = {
        "export": idea("Export invoices as CSV"),
        "dark": idea("Dark mode"),
        "internal": idea("Raise the price for big accounts", is_public=False),
        "shipped": idea("SAML sign-in"),
    }
    change_status(idea=found["shipped"], status=IdeaStatus.SHIPPED, agent=acme.agent)
    cast_vote(idea=found["dark"], voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    return found


def _identified(slug: str = "acme", secret: str = ACME_SECRET, email: str = "nia@startup.example") -> Panel:
    panel = Panel(slug)
    claims = signed_claims(slug, secret, user_id="u-1", email=email, name="Nia")
    assert panel.identify(claims).status_code == 200
    return panel


def _nia(cast: Cast) -> Contact:
    return Contact.objects.get(workspace=cast.workspace, emails__email="nia@startup.example")


def test_the_panel_has_an_ideas_tab(ideas: dict[str, Idea]) -> None:
    html = Panel("acme").page.content.decode()
    assert 'id="tab-ideas"' in html
    assert 'data-load="/widget/acme/ideas/"' in html


def test_an_identified_customer_sees_the_open_public_ideas_most_voted_first(ideas: dict[str, Idea]) -> None:
    tab = _identified().get("ideas/")
    html = tab.content.decode()
    assert tab.status_code == 200
    assert html.index("Dark mode") < html.index("Export invoices as CSV")
    assert "1 vote" in html
    for hidden in ("Raise the price", "SAML sign-in", "Carmen", "Globex"):
        assert hidden not in html
    assert 'aria-label="Vote for Dark mode"' in html
    assert "Post an idea" in html
    searched = _identified().get("ideas/", q="export").content.decode()
    assert "Export invoices as CSV" in searched
    assert "Dark mode" not in searched


def test_an_identified_customer_votes_once_and_takes_it_back(acme: Cast, ideas: dict[str, Idea]) -> None:
    panel = _identified()
    export = ideas["export"]
    first = panel.post(f"ideas/{export.pk}/vote/", {"q": ""})
    again = panel.post(f"ideas/{export.pk}/vote/", {"q": ""})
    assert first.status_code == again.status_code == 200
    assert "Your vote is counted." in first.content.decode()
    assert "You voted" in again.content.decode()
    vote = IdeaVote.objects.get(idea=export)
    assert (vote.contact_id, vote.source) == (_nia(acme).pk, VoteSource.WIDGET)
    export.refresh_from_db()
    assert export.vote_count == 1

    taken = panel.post(f"ideas/{export.pk}/unvote/", {"q": ""})
    assert taken.status_code == 200
    assert "Your vote is taken back." in taken.content.decode()
    assert not IdeaVote.objects.filter(idea=export).exists()


def test_an_identified_customer_posts_an_idea_with_their_vote(acme: Cast, ideas: dict[str, Idea]) -> None:
    panel = _identified()
    response = panel.post("ideas/new/", {"title": "Pay by SEPA", "description": "Direct debit, please."})
    assert response.status_code == 200
    assert "Thank you: “Pay by SEPA” is on the board, with your vote." in response.content.decode()
    idea = Idea.objects.get(title="Pay by SEPA")
    assert (idea.author_contact_id, idea.is_public, idea.vote_count) == (_nia(acme).pk, True, 1)
    assert IdeaVote.objects.get(idea=idea).source == VoteSource.WIDGET

    refused = panel.post("ideas/new/", {"title": ""})
    assert refused.status_code == 422
    assert "This field is required." in refused.content.decode()
    assert Idea.objects.filter(workspace=acme.workspace).count() == 5


def test_an_anonymous_visitor_reads_a_public_board_but_confirms_before_voting(
    acme: Cast, ideas: dict[str, Idea]
) -> None:
    panel = Panel("acme")
    private = panel.get("ideas/")
    assert private.status_code == 401
    assert "Dark mode" not in private.content.decode()
    assert "Confirm your email to vote and post ideas." in private.content.decode()

    IdeaBoard.objects.filter(workspace=acme.workspace).update(is_public=True)
    public = panel.get("ideas/")
    assert public.status_code == 200
    assert "Dark mode" in public.content.decode()
    assert "Vote for" not in public.content.decode()
    assert "Confirm your email to vote and post ideas." in public.content.decode()

    for path, data in ((f"ideas/{ideas['export'].pk}/vote/", {}), ("ideas/new/", {"title": "Sneaky"})):
        refused = panel.post(path, data)
        assert refused.status_code == 401
        assert "Confirm your email to vote and post ideas." in refused.content.decode()
    assert not IdeaVote.objects.filter(idea=ideas["export"]).exists()
    assert not Idea.objects.filter(title="Sneaky").exists()


def test_private_shipped_and_foreign_ideas_cannot_be_voted_on(
    acme: Cast, umbrella: Cast, ideas: dict[str, Idea]
) -> None:
    give_help_center(umbrella, UMBRELLA_SECRET)
    foreign = create_idea(workspace=umbrella.workspace, title="Umbrella's idea", author_agent=umbrella.agent)
    panel = _identified()
    assert panel.post(f"ideas/{ideas['internal'].pk}/vote/", {}).status_code == 404
    assert panel.post(f"ideas/{foreign.pk}/vote/", {}).status_code == 404
    # Umbrella's visitor, with Umbrella's pass, on Acme's idea: a pass of another workspace is no pass here.
    outsider = _identified("umbrella", UMBRELLA_SECRET)
    outsider.slug = "acme"
    assert outsider.post(f"ideas/{ideas['export'].pk}/vote/", {}).status_code == 401
    assert IdeaVote.objects.filter(source=VoteSource.WIDGET).count() == 0


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={**settings.DESKLOOP_PUBLIC_RATE_LIMITS, "vote": (1, 100)})
def test_votes_from_the_widget_are_rate_limited(ideas: dict[str, Idea]) -> None:
    panel = _identified()
    assert panel.post(f"ideas/{ideas['export'].pk}/vote/", {}).status_code == 200
    assert panel.post(f"ideas/{ideas['dark'].pk}/vote/", {}).status_code == 429
    assert IdeaVote.objects.filter(source=VoteSource.WIDGET).count() == 1
