"""The ticket page's Ideas panel, as agents use it: the ideas the conversation asked for with their status (and
when they shipped), and "Vote for this customer" on an existing idea or a new one, for the requester by default or
another customer of the conversation; the ticket is linked and the vote carries its importance and the agent."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.services import find_or_create_contact
from deskloop.ideas.models import Idea, IdeaStatus, IdeaTicket, IdeaVote, Importance, VoteSource
from deskloop.ideas.services.ideas import change_status, create_idea
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.tickets.models import ProductArea
from deskloop.tickets.services.messages import CustomerMessage, add_customer_message


def _idea(cast: Cast, title: str) -> Idea:
    return create_idea(workspace=cast.workspace, title=title, author_agent=cast.agent)


def _page(cast: Cast, agent_role: str = "agent") -> str:
    client = signed_in_client(cast.by_role(agent_role))
    return client.get(f"/tickets/{cast.ticket.number}/").content.decode()


def test_the_ticket_shows_the_ideas_it_asked_for_and_when_they_shipped(acme: Cast) -> None:
    export = _idea(acme, "Export invoices as CSV")
    dark = _idea(acme, "Dark mode")
    _idea(acme, "Not linked to this ticket")
    for idea in (export, dark):
        cast_vote(idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.AGENT, ticket=acme.ticket)
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)):
        change_status(idea=export, status=IdeaStatus.SHIPPED, agent=acme.agent, shipped_note="Reports > CSV")

    for role in ("agent", "viewer"):
        html = _page(acme, role)
        panel = html.split('id="ticket-ideas"')[1].split("</section>")[0]
        assert "Export invoices as CSV" in panel
        assert "shipped 03/02/2026" in panel
        assert "Dark mode" in panel
        assert "Under review" in panel
        assert "Not linked" not in panel
    assert "Vote for this customer" in _page(acme, "agent")
    assert "Vote for this customer" not in _page(acme, "viewer")


def test_an_agent_votes_for_the_requester_on_an_existing_idea(acme: Cast) -> None:
    idea = _idea(acme, "Export invoices as CSV")
    client = signed_in_client(acme.agent)
    response = client.post(
        f"/tickets/{acme.ticket.number}/ideas/vote/",
        {"idea": str(idea.pk), "importance": str(Importance.CRITICAL), "contact": str(acme.customer.pk)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Vote recorded for Carmen Customer on “Export invoices as CSV”." in html
    assert f'data-linked-idea="{idea.pk}"' in html
    vote = IdeaVote.objects.get(idea=idea)
    assert (vote.contact_id, vote.source, vote.importance, vote.ticket_id, vote.cast_by_id) == (
        acme.customer.pk,
        VoteSource.AGENT,
        Importance.CRITICAL,
        acme.ticket.pk,
        acme.agent.pk,
    )
    assert IdeaTicket.objects.filter(idea=idea, ticket=acme.ticket).count() == 1
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organization_count, idea.total_mrr) == (1, 1, 990)


def test_an_agent_votes_on_a_new_idea_for_another_customer_of_the_conversation(acme: Cast) -> None:
    area = ProductArea.objects.create(workspace=acme.workspace, name="Billing", path="Billing")
    acme.ticket.product_area = area
    acme.ticket.save(update_fields=["product_area"])
    colleague = find_or_create_contact(workspace=acme.workspace, email="ivan@globex-acme.example", name="Ivan")
    add_customer_message(ticket=acme.ticket, contact=colleague, message=CustomerMessage(body_text="Me too!"))
    assert "Ivan" in _page(acme).split('id="idea-customer"')[1].split("</select>")[0]

    response = signed_in_client(acme.agent).post(
        f"/tickets/{acme.ticket.number}/ideas/vote/",
        {"new_title": "Pay invoices by SEPA", "importance": "2", "contact": str(colleague.pk)},
    )
    assert response.status_code == 302  # without JavaScript: back to the ticket
    idea = Idea.objects.get(title="Pay invoices by SEPA")
    assert (idea.product_area_id, idea.author_agent_id, idea.is_public) == (area.pk, acme.agent.pk, False)
    vote = IdeaVote.objects.get(idea=idea)
    assert (vote.contact_id, vote.importance, vote.ticket_id) == (colleague.pk, Importance.IMPORTANT, acme.ticket.pk)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"importance": "1"}, "Choose an idea, or give a new one a title (not both)."),
        ({"importance": "1", "new_title": "Dark mode", "idea": "EXISTING"}, "Choose an idea, or give a new one"),
        ({"importance": "7", "idea": "EXISTING"}, "Importance must be nice to have, important or critical."),
        ({"importance": "1", "idea": "FOREIGN"}, "That idea does not exist in this workspace."),
        ({"importance": "1", "idea": "EXISTING", "contact": "STRANGER"}, "Choose a customer of this conversation."),
    ],
)
def test_a_refused_vote_says_why_beside_the_form_and_changes_nothing(
    acme: Cast, umbrella: Cast, form: dict[str, str], message: str
) -> None:
    existing = _idea(acme, "Export invoices as CSV")
    foreign = _idea(umbrella, "Umbrella's idea")
    stranger = find_or_create_contact(workspace=acme.workspace, email="olga@initech.example")
    values = {"EXISTING": str(existing.pk), "FOREIGN": str(foreign.pk), "STRANGER": str(stranger.pk)}
    data = {"contact": str(acme.customer.pk), **{key: values.get(value, value) for key, value in form.items()}}
    response = signed_in_client(acme.agent).post(
        f"/tickets/{acme.ticket.number}/ideas/vote/", data, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert IdeaVote.objects.count() == 0
    assert Idea.objects.count() == 2


def test_only_agents_who_write_may_vote_for_customers(acme: Cast) -> None:
    idea = _idea(acme, "Export invoices as CSV")
    for role in ("viewer", "light_agent"):
        client = signed_in_client(acme.by_role(role))
        url = f"/tickets/{acme.ticket.number}/ideas/"
        assert client.post(url + "vote/", {"idea": str(idea.pk), "importance": "1"}).status_code == 403
        assert client.get(url + "search/").status_code == 403
    assert IdeaVote.objects.count() == 0


def test_the_search_finds_this_workspaces_live_ideas(acme: Cast, umbrella: Cast) -> None:
    export = _idea(acme, "Export invoices as CSV")
    merged_away = _idea(acme, "CSV export of invoices")
    Idea.objects.filter(pk=merged_away.pk).update(merged_into=export)
    _idea(acme, "Dark mode")
    _idea(umbrella, "Export for Umbrella")
    html = signed_in_client(acme.agent).get(f"/tickets/{acme.ticket.number}/ideas/search/", {"q": "export"})
    text = html.content.decode()
    assert f'value="{export.pk}"' in text
    assert "CSV export of invoices" not in text
    assert "Dark mode" not in text
    assert "Umbrella" not in text
    nothing = signed_in_client(acme.agent).get(f"/tickets/{acme.ticket.number}/ideas/search/", {"q": "fax"})
    assert "No idea matches “fax”" in nothing.content.decode()
