"""The vote write path keeps an idea's value exact: votes, distinct organizations, their MRR and the score."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from deskloop.conftest import Cast
from deskloop.core.errors import PermissionDenied, ValidationFailed
from deskloop.customers import services as customer_services
from deskloop.customers.models import Organization, Segment
from deskloop.customers.segments import organization_q
from deskloop.ideas.models import Idea, IdeaOrganization, IdeaSubscription, IdeaTicket, Importance, VoteSource
from deskloop.ideas.services.values import board_of, ideas_with_stakes_in, refresh_workspace_values
from deskloop.ideas.services.votes import Voter, cast_vote, withdraw_vote


def _organization(cast: Cast, name: str, mrr: int, since: dt.date, industry: str) -> Organization:
    return Organization.objects.create(
        workspace=cast.workspace, name=name, mrr=Decimal(mrr), customer_since=since, industry=industry
    )


def test_score_is_mrr_times_the_highest_importance_per_distinct_organization(acme: Cast) -> None:
    idea = Idea.objects.create(workspace=acme.workspace, title="Export invoices as CSV")
    colleague = customer_services.find_or_create_contact(
        workspace=acme.workspace, email="ivan@globex-acme.example", name="Ivan"
    )
    customer_services.create_organization(
        workspace=acme.workspace, name="Initech", domains=["initech.example"], plan="Pro", mrr=100
    )
    initech_contact = customer_services.find_or_create_contact(workspace=acme.workspace, email="pat@initech.example")

    cast_vote(idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    cast_vote(
        idea=idea,
        voter=Voter(contact=colleague),
        source=VoteSource.AGENT,
        importance=Importance.CRITICAL,
        ticket=acme.ticket,
        agent=acme.agent,
    )
    cast_vote(
        idea=idea, voter=Voter(contact=initech_contact), source=VoteSource.WIDGET, importance=Importance.IMPORTANT
    )
    again = cast_vote(idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.WIDGET)

    idea.refresh_from_db()
    assert again.created is False
    # Globex (990, critical from Ivan: weight 3) + Initech (100, important: weight 2) = 2970 + 200.
    assert (idea.vote_count, idea.organization_count) == (3, 2)
    assert (idea.total_mrr, idea.score) == (Decimal("1090.00"), Decimal("3170.00"))
    assert IdeaOrganization.objects.get(idea=idea, organization=acme.organization).votes == 2
    assert IdeaTicket.objects.filter(idea=idea, ticket=acme.ticket).count() == 1
    assert IdeaSubscription.objects.filter(idea=idea).count() == 3


def test_withdrawing_the_top_vote_lowers_the_organizations_stake(acme: Cast) -> None:
    idea = Idea.objects.create(workspace=acme.workspace, title="Dark mode")
    colleague = customer_services.find_or_create_contact(workspace=acme.workspace, email="ivan@globex-acme.example")
    cast_vote(idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    critical = cast_vote(
        idea=idea, voter=Voter(contact=colleague), source=VoteSource.PORTAL, importance=Importance.CRITICAL
    )
    withdraw_vote(vote=critical.vote)
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organization_count, idea.score) == (1, 1, Decimal("990.00"))


def test_a_vote_on_a_merged_idea_lands_on_the_survivor(acme: Cast) -> None:
    survivor = Idea.objects.create(workspace=acme.workspace, title="SSO")
    merged = Idea.objects.create(workspace=acme.workspace, title="Single sign-on", merged_into=survivor)
    result = cast_vote(idea=merged, voter=Voter(contact=acme.customer), source=VoteSource.BOARD)
    assert result.vote.idea_id == survivor.pk


def test_votes_refuse_other_workspaces_and_readers(acme: Cast, umbrella: Cast) -> None:
    idea = Idea.objects.create(workspace=acme.workspace, title="SSO")
    with pytest.raises(ValidationFailed):
        cast_vote(idea=idea, voter=Voter(contact=umbrella.customer), source=VoteSource.PORTAL)
    with pytest.raises(PermissionDenied):
        cast_vote(idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.AGENT, agent=acme.viewer)
    with pytest.raises(ValidationFailed):
        cast_vote(idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL, importance=7)
    assert not idea.votes.exists()


def test_weights_change_and_a_segment_counts_only_its_organizations(acme: Cast) -> None:
    idea = Idea.objects.create(workspace=acme.workspace, title="Offline mode")
    old = _organization(acme, "Fieldco", 500, since=dt.date(2020, 1, 15), industry="Field service")
    new = _organization(acme, "Newco", 50, since=dt.date(2026, 11, 1), industry="Field service")
    cast_vote(idea=idea, voter=Voter(organization=old), source=VoteSource.DEAL, importance=Importance.CRITICAL)
    cast_vote(idea=idea, voter=Voter(organization=new), source=VoteSource.IMPORT)
    board = board_of(acme.workspace.pk)
    board.weight_critical = Decimal("5")
    board.save()
    refresh_workspace_values(acme.workspace.pk)
    idea.refresh_from_db()
    assert idea.score == Decimal("2550.00")  # 500 x 5 + 50 x 1

    segment = Segment(workspace=acme.workspace, name="Loyal", mrr_above=Decimal("100"), min_customer_months=6)
    q = organization_q(segment, today=dt.date(2026, 12, 6))
    values = ideas_with_stakes_in(q & organization_q(Segment(industry="field service")), board)
    assert values[idea.pk]["orgs"] == 1
    assert values[idea.pk]["score"] == Decimal("2500")
