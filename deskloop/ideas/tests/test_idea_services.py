"""Writes of ideas: post, edit, comment, follow, status changes (with their event) and merging duplicates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from deskloop.conftest import Cast
from deskloop.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from deskloop.core.models import OutboxEvent
from deskloop.customers import services as customer_services
from deskloop.ideas import shipping
from deskloop.ideas.models import (
    Idea,
    IdeaComment,
    IdeaOrganization,
    IdeaStatus,
    IdeaSubscription,
    IdeaTicket,
    IdeaVote,
    Importance,
    VoteSource,
)
from deskloop.ideas.services.ideas import (
    IdeaChanges,
    add_comment,
    change_status,
    create_idea,
    edit_idea,
    merge_ideas,
    subscribe,
    unsubscribe,
)
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.tickets.models import ProductArea
from deskloop.tickets.services.tickets import NewTicket, open_ticket


def test_a_customer_posts_an_idea_and_follows_it(acme: Cast) -> None:
    idea = create_idea(
        workspace=acme.workspace, title="  Export   invoices as CSV ", author_contact=acme.customer, description=" x "
    )
    assert (idea.title, idea.description, idea.status) == ("Export invoices as CSV", "x", IdeaStatus.UNDER_REVIEW)
    assert list(IdeaSubscription.objects.filter(idea=idea).values_list("contact_id", flat=True)) == [acme.customer.pk]


def test_bad_ideas_are_refused_and_nothing_is_written(acme: Cast, umbrella: Cast) -> None:
    foreign_area = ProductArea.objects.create(workspace=umbrella.workspace, name="Billing", path="Billing")
    with pytest.raises(ValidationFailed) as empty:
        create_idea(workspace=acme.workspace, title="   ", author_agent=acme.agent)
    assert empty.value.field == "title"
    with pytest.raises(ValidationFailed):
        create_idea(workspace=acme.workspace, title="x" * 201, author_agent=acme.agent)
    with pytest.raises(ValidationFailed):
        create_idea(workspace=acme.workspace, title="SSO", product_area=foreign_area, author_agent=acme.agent)
    with pytest.raises(PermissionDenied):
        create_idea(workspace=acme.workspace, title="SSO", author_agent=acme.viewer)
    with pytest.raises(ValidationFailed):
        create_idea(workspace=acme.workspace, title="SSO", author_contact=umbrella.customer)
    assert not Idea.objects.exists()


def test_agents_edit_ideas_and_readers_cannot(acme: Cast) -> None:
    area = ProductArea.objects.create(workspace=acme.workspace, name="Billing", path="Billing")
    idea = create_idea(workspace=acme.workspace, title="SSO", author_agent=acme.agent)
    edited = edit_idea(
        idea=idea, agent=acme.agent, changes=IdeaChanges(title="Single sign-on", product_area=area, is_public=False)
    )
    assert (edited.title, edited.product_area_id, edited.is_public, edited.description) == (
        "Single sign-on",
        area.pk,
        False,
        "",
    )
    with pytest.raises(PermissionDenied):
        edit_idea(idea=idea, agent=acme.viewer, changes=IdeaChanges(title="Nope"))
    idea.refresh_from_db()
    assert idea.title == "Single sign-on"


def test_comments_subscribe_their_author_and_internal_ones_are_agents_only(acme: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="SSO", author_agent=acme.agent)
    add_comment(idea=idea, body="We need Okta.", contact=acme.customer)
    note = add_comment(idea=idea, body="Enterprise plan only?", agent=acme.light_agent, is_internal=True)
    assert note.is_internal
    with pytest.raises(PermissionDenied):
        add_comment(idea=idea, body="Public reply", agent=acme.light_agent)
    with pytest.raises(ValidationFailed):
        add_comment(idea=idea, body="Secret", contact=acme.customer, is_internal=True)
    with pytest.raises(ValidationFailed):
        add_comment(idea=idea, body="   ", contact=acme.customer)
    assert IdeaComment.objects.filter(idea=idea).count() == 2
    followers = IdeaSubscription.objects.filter(idea=idea)
    assert {(s.contact_id, s.agent_id) for s in followers} == {
        (None, acme.agent.pk),
        (acme.customer.pk, None),
        (None, acme.light_agent.pk),
    }


def test_customers_cannot_comment_on_private_ideas(acme: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="Competitor X parity", author_agent=acme.agent, is_public=False)
    with pytest.raises(NotFound):
        add_comment(idea=idea, body="Hi", contact=acme.customer)
    assert not IdeaComment.objects.exists()


def test_subscribe_and_unsubscribe_once_each(acme: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="SSO")
    subscribe(idea=idea, contact=acme.customer)
    subscribe(idea=idea, contact=acme.customer)
    subscribe(idea=idea, agent=acme.viewer)
    assert IdeaSubscription.objects.filter(idea=idea).count() == 2
    assert unsubscribe(idea=idea, contact=acme.customer) is True
    assert unsubscribe(idea=idea, contact=acme.customer) is False
    assert list(IdeaSubscription.objects.filter(idea=idea).values_list("agent_id", flat=True)) == [acme.viewer.pk]


@override_settings(SITE_URL="http://127.0.0.1:8000")
def test_shipping_publishes_the_status_change_once_with_what_shipped(acme: Cast) -> None:
    area = ProductArea.objects.create(workspace=acme.workspace, name="Billing", path="Billing")
    idea = create_idea(workspace=acme.workspace, title="CSV export", product_area=area, author_agent=acme.agent)
    change_status(idea=idea, status=IdeaStatus.PLANNED, agent=acme.agent)
    shipped = change_status(idea=idea, status=IdeaStatus.SHIPPED, agent=acme.agent, shipped_note="Reports > Export")
    again = change_status(idea=idea, status=IdeaStatus.SHIPPED, agent=acme.agent, shipped_note="Reports > CSV")

    assert shipped.shipped_at is not None
    assert again.shipped_at == shipped.shipped_at
    assert again.shipped_note == "Reports > CSV"
    events = list(OutboxEvent.objects.filter(name="idea.status_changed").order_by("pk"))
    assert [e.payload["status"] for e in events] == ["planned", "shipped"]
    assert events[1].payload == {
        "id": idea.pk,
        "title": "CSV export",
        "old_status": "planned",
        "status": "shipped",
        "product_area_id": area.pk,
        "shipped_note": "Reports > Export",
        "url": f"http://127.0.0.1:8000/ideas/{idea.pk}/",
    }

    reopened = change_status(idea=idea, status=IdeaStatus.IN_PROGRESS, agent=acme.agent)
    assert reopened.shipped_at is None


def test_status_changes_refuse_readers_unknown_statuses_and_merged_ideas(acme: Cast, umbrella: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="SSO")
    other = create_idea(workspace=acme.workspace, title="Single sign-on")
    merge_ideas(loser=other, survivor=idea, agent=acme.agent)
    with pytest.raises(PermissionDenied):
        change_status(idea=idea, status=IdeaStatus.PLANNED, agent=acme.viewer)
    with pytest.raises(ValidationFailed):
        change_status(idea=idea, status="done", agent=acme.agent)
    with pytest.raises(NotFound):
        change_status(idea=idea, status=IdeaStatus.PLANNED, agent=umbrella.agent)
    other.refresh_from_db()
    with pytest.raises(Conflict):
        change_status(idea=other, status=IdeaStatus.PLANNED, agent=acme.agent)
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.UNDER_REVIEW
    assert not OutboxEvent.objects.filter(name="idea.status_changed").exists()


def test_merging_moves_everything_and_keeps_one_vote_per_voter_at_the_higher_importance(acme: Cast) -> None:
    survivor = create_idea(workspace=acme.workspace, title="SSO", author_agent=acme.agent)
    loser = create_idea(workspace=acme.workspace, title="Single sign-on", author_contact=acme.customer)
    initech = customer_services.create_organization(
        workspace=acme.workspace, name="Initech", domains=["initech.example"], plan="Pro", mrr=100
    )
    pat = customer_services.find_or_create_contact(workspace=acme.workspace, email="pat@initech.example")
    cast_vote(idea=survivor, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    cast_vote(
        idea=loser,
        voter=Voter(contact=acme.customer),
        source=VoteSource.AGENT,
        importance=Importance.CRITICAL,
        ticket=acme.ticket,
        agent=acme.agent,
    )
    cast_vote(idea=loser, voter=Voter(contact=pat), source=VoteSource.WIDGET, importance=Importance.IMPORTANT)
    add_comment(idea=loser, body="Okta please", contact=pat)

    kept = merge_ideas(loser=loser, survivor=survivor, agent=acme.agent)

    loser.refresh_from_db()
    assert loser.merged_into_id == survivor.pk
    assert (loser.vote_count, loser.organization_count, loser.score) == (0, 0, Decimal("0.00"))
    votes = {v.contact_id: (v.importance, v.ticket_id) for v in IdeaVote.objects.filter(idea=survivor)}
    assert votes == {acme.customer.pk: (Importance.CRITICAL, acme.ticket.pk), pat.pk: (Importance.IMPORTANT, None)}
    # Globex 990 x 3 + Initech 100 x 2.
    assert (kept.vote_count, kept.organization_count, kept.score) == (2, 2, Decimal("3170.00"))
    assert set(IdeaOrganization.objects.filter(idea=survivor).values_list("organization_id", "importance")) == {
        (acme.organization.pk, Importance.CRITICAL),
        (initech.pk, Importance.IMPORTANT),
    }
    assert not IdeaOrganization.objects.filter(idea=loser).exists()
    assert list(IdeaTicket.objects.filter(idea=survivor).values_list("ticket_id", flat=True)) == [acme.ticket.pk]
    assert IdeaComment.objects.get().idea_id == survivor.pk
    followers = IdeaSubscription.objects.filter(idea=survivor)
    assert sorted((s.contact_id or 0, s.agent_id or 0) for s in followers) == sorted(
        [(0, acme.agent.pk), (acme.customer.pk, 0), (pat.pk, 0)]
    )
    assert not IdeaSubscription.objects.filter(idea=loser).exists()
    assert OutboxEvent.objects.get(name="idea.merged").payload["into"] == survivor.pk


def test_merge_refusals_change_nothing(acme: Cast, umbrella: Cast) -> None:
    first = create_idea(workspace=acme.workspace, title="SSO")
    second = create_idea(workspace=acme.workspace, title="Single sign-on")
    foreign = create_idea(workspace=umbrella.workspace, title="SAML")
    cast_vote(idea=second, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    with pytest.raises(ValidationFailed):
        merge_ideas(loser=first, survivor=first, agent=acme.agent)
    with pytest.raises(PermissionDenied):
        merge_ideas(loser=second, survivor=first, agent=acme.viewer)
    with pytest.raises(NotFound):
        merge_ideas(loser=second, survivor=foreign, agent=acme.agent)
    with pytest.raises(NotFound):
        merge_ideas(loser=second, survivor=first, agent=umbrella.agent)
    merge_ideas(loser=second, survivor=first, agent=acme.agent)
    second.refresh_from_db()
    with pytest.raises(Conflict):
        merge_ideas(loser=second, survivor=first, agent=acme.agent)
    # The survivor's own duplicate pointing back at it cannot make a loop.
    with pytest.raises(ValidationFailed):
        merge_ideas(loser=first, survivor=second, agent=acme.agent)
    first.refresh_from_db()
    assert first.merged_into_id is None
    assert first.vote_count == 1


def test_the_shipped_audience_is_every_asker_and_every_registered_provider(acme: Cast) -> None:
    idea = create_idea(workspace=acme.workspace, title="CSV export", author_agent=acme.agent)
    pat = customer_services.find_or_create_contact(workspace=acme.workspace, email="pat@initech.example")
    follower = customer_services.find_or_create_contact(workspace=acme.workspace, email="flo@initech.example")
    requester = customer_services.find_or_create_contact(workspace=acme.workspace, email="rita@initech.example")
    ticket = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(requester=requester, subject="CSV?", body_text="Can I export?", channel="email"),
    )[0]
    organization = customer_services.create_organization(workspace=acme.workspace, name="Prospect", domains=[])
    cast_vote(idea=idea, voter=Voter(contact=pat), source=VoteSource.WIDGET)
    cast_vote(idea=idea, voter=Voter(organization=organization), source=VoteSource.DEAL)
    subscribe(idea=idea, contact=follower)
    IdeaTicket.objects.create(workspace=acme.workspace, idea=idea, ticket=ticket)

    def deal_owners(shipped: Idea) -> shipping.ShippedAudience:
        return shipping.ShippedAudience(agent_ids={acme.other_team_agent.pk} if shipped.pk == idea.pk else set())

    shipping.register_audience(deal_owners)
    try:
        audience = shipping.shipped_audience(idea)
    finally:
        shipping._providers.remove(deal_owners)
    assert audience == shipping.ShippedAudience(
        contact_ids={pat.pk, follower.pk, requester.pk}, agent_ids={acme.agent.pk, acme.other_team_agent.pk}
    )
