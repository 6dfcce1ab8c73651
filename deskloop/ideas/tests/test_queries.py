"""The board's reads: ranking by the cached value or by a segment's own value, filters, and keyset pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from deskloop.conftest import Cast
from deskloop.core.errors import ValidationFailed
from deskloop.customers import services as customer_services
from deskloop.customers.models import Contact, Organization, Segment
from deskloop.ideas.models import Idea, IdeaStatus, IdeaVote, Importance, VoteSource
from deskloop.ideas.queries import BoardQuery, board_page
from deskloop.ideas.services.values import refresh_workspace_values
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.tickets.services.configuration_groups import create_product_area


def _customer(cast: Cast, name: str, mrr: int, *, since: dt.date | None = None, industry: str = "") -> Contact:
    slug = name.lower().replace(" ", "-")
    organization = customer_services.create_organization(
        workspace=cast.workspace, name=name, domains=[f"{slug}.example"], plan="Pro", mrr=mrr
    )
    Organization.objects.filter(pk=organization.pk).update(customer_since=since, industry=industry)
    return customer_services.find_or_create_contact(workspace=cast.workspace, email=f"buyer@{slug}.example")


def _idea(cast: Cast, title: str, **fields: object) -> Idea:
    return Idea.objects.create(workspace=cast.workspace, title=title, **fields)


def _vote(idea: Idea, contact: Contact, importance: int = Importance.NICE_TO_HAVE) -> None:
    cast_vote(idea=idea, voter=Voter(contact=contact), source=VoteSource.PORTAL, importance=importance)


def _titles(query: BoardQuery, **kwargs: object) -> list[str]:
    return [row.idea.title for row in board_page(query, **kwargs).rows]  # type: ignore[arg-type]


@pytest.fixture
def market(acme: Cast) -> dict[str, Any]:
    """Big (MRR 500, a customer for two years, field service), Small (MRR 50, new), and three ideas."""
    big = _customer(acme, "Big Co", 500, since=dt.date(2020, 1, 1), industry="Field service")
    small = _customer(acme, "Small Co", 50, since=timezone.localdate(), industry="Retail")
    export = _idea(acme, "Export to CSV")
    dark = _idea(acme, "Dark mode")
    sso = _idea(acme, "Single sign-on")
    _vote(export, big, Importance.CRITICAL)  # 500 x 3 = 1500
    _vote(dark, small)  # 50
    _vote(dark, acme.customer)  # Globex 990 x 1 -> dark = 1040
    _vote(sso, small, Importance.CRITICAL)  # 150
    return {"big": big, "small": small, "export": export, "dark": dark, "sso": sso}


def test_board_ranks_by_score_and_carries_each_ideas_value(acme: Cast, market: dict[str, Any]) -> None:
    page = board_page(BoardQuery(workspace_id=acme.workspace.pk))
    assert [(r.idea.title, r.votes, r.organizations, r.total_mrr, r.score) for r in page.rows] == [
        ("Export to CSV", 1, 1, Decimal("500.00"), Decimal("1500.00")),
        ("Dark mode", 2, 2, Decimal("1040.00"), Decimal("1040.00")),
        ("Single sign-on", 1, 1, Decimal("50.00"), Decimal("150.00")),
    ]
    assert page.next_cursor is None


def test_a_segment_counts_only_its_own_organizations(acme: Cast, market: dict[str, Any]) -> None:
    loyal = Segment.objects.create(workspace=acme.workspace, name="Loyal", mrr_above=100, min_customer_months=6)
    Organization.objects.filter(pk=acme.organization.pk).update(customer_since=dt.date(2019, 5, 1))

    page = board_page(BoardQuery(workspace_id=acme.workspace.pk, segment=loyal))

    # Small Co is neither big nor old enough: SSO (only Small Co asked) is out, Dark mode counts Globex alone.
    assert [(r.idea.title, r.votes, r.organizations, r.total_mrr, r.score) for r in page.rows] == [
        ("Export to CSV", 1, 1, Decimal("500.00"), Decimal("1500.00")),
        ("Dark mode", 1, 1, Decimal("990.00"), Decimal("990.00")),
    ]
    field_service = Segment.objects.create(workspace=acme.workspace, name="Field", industry="field service")
    assert _titles(BoardQuery(workspace_id=acme.workspace.pk, segment=field_service)) == ["Export to CSV"]


@pytest.mark.parametrize("sort", ["score", "votes", "newest", "trending"])
@pytest.mark.parametrize("with_segment", [False, True])
def test_keyset_pages_cover_every_idea_once_in_order(acme: Cast, sort: str, with_segment: bool) -> None:
    everyone = Segment.objects.create(workspace=acme.workspace, name="Everyone") if with_segment else None
    customers = [_customer(acme, f"Org {n}", 10 * (n % 4 + 1)) for n in range(6)]
    start = timezone.now() - dt.timedelta(days=40)
    for n in range(13):
        idea = _idea(acme, f"Idea {n:02}", created_at=start + dt.timedelta(hours=n % 5))
        # Ties on purpose (same score, same votes, same creation time) so the id breaks them.
        for contact in customers[: n % 4 + 1]:
            _vote(idea, contact)
        if n % 3 == 0:
            IdeaVote.objects.filter(idea=idea).update(created_at=start)
    refresh_workspace_values(acme.workspace.pk)
    query = BoardQuery(workspace_id=acme.workspace.pk, sort=sort, segment=everyone)

    seen: list[int] = []
    cursor = None
    for _page in range(10):
        page = board_page(query, cursor=cursor, limit=4)
        seen.extend(row.idea.pk for row in page.rows)
        cursor = page.next_cursor
        if cursor is None:
            break
    whole = [row.idea.pk for row in board_page(query, limit=100).rows]

    assert seen == whole
    assert len(set(seen)) == 13


def test_trending_ranks_by_votes_of_the_last_30_days(acme: Cast, market: dict[str, Any]) -> None:
    IdeaVote.objects.filter(idea=market["dark"]).update(created_at=timezone.now() - dt.timedelta(days=45))
    # Votes age out of the window without a write: the periodic sweep counts them again.
    refresh_workspace_values(acme.workspace.pk)
    rows = board_page(BoardQuery(workspace_id=acme.workspace.pk, sort="trending")).rows
    assert [(r.idea.title, r.recent_votes) for r in rows] == [
        ("Export to CSV", 1),
        ("Single sign-on", 1),
        ("Dark mode", 0),
    ]


def test_filters_status_area_with_its_children_public_and_text(acme: Cast, market: dict[str, Any]) -> None:
    billing = create_product_area(actor=acme.admin, name="Billing")
    invoices = create_product_area(actor=acme.admin, name="Invoices", parent=billing)
    Idea.objects.filter(pk=market["export"].pk).update(product_area=invoices, status=IdeaStatus.PLANNED)
    Idea.objects.filter(pk=market["sso"].pk).update(is_public=False)
    ws = acme.workspace.pk

    assert _titles(BoardQuery(workspace_id=ws, product_area_ids=[billing.pk])) == ["Export to CSV"]
    assert _titles(BoardQuery(workspace_id=ws, statuses=[IdeaStatus.UNDER_REVIEW])) == ["Dark mode", "Single sign-on"]
    assert _titles(BoardQuery(workspace_id=ws, public_only=True)) == ["Export to CSV", "Dark mode"]
    assert _titles(BoardQuery(workspace_id=ws, text="sign-ON")) == ["Single sign-on"]


def test_merged_ideas_and_other_workspaces_never_show(acme: Cast, umbrella: Cast, market: dict[str, Any]) -> None:
    Idea.objects.filter(pk=market["sso"].pk).update(merged_into=market["dark"])
    _idea(umbrella, "Umbrella's own idea")
    foreign_area = create_product_area(actor=umbrella.admin, name="Theirs")

    assert _titles(BoardQuery(workspace_id=acme.workspace.pk)) == ["Export to CSV", "Dark mode"]
    assert _titles(BoardQuery(workspace_id=acme.workspace.pk, product_area_ids=[foreign_area.pk])) == []


@pytest.mark.parametrize("cursor", ["garbage!", "eyJzIjoidm90ZXMifQ", "eyJzIjoic2NvcmUiLCJrIjoiTmFOIiwiaWQiOjF9"])
def test_a_bad_cursor_or_sort_is_refused(acme: Cast, cursor: str) -> None:
    with pytest.raises(ValidationFailed):
        board_page(BoardQuery(workspace_id=acme.workspace.pk), cursor=cursor)
    with pytest.raises(ValidationFailed):
        board_page(BoardQuery(workspace_id=acme.workspace.pk, sort="loudest"))


def test_a_segments_values_follow_votes_rule_changes_and_mrr_changes(acme: Cast, market: dict[str, Any]) -> None:
    """The segment's cached values stay exact: a new vote counts at once, edited rules rebuild them on the next read,
    an organization's new MRR counts after the periodic sweep (as the uncut board's values do)."""
    big_spenders = Segment.objects.create(workspace=acme.workspace, name="Big", mrr_above=400)
    ws = acme.workspace.pk

    def values() -> list[tuple[str, int, Decimal]]:
        rows = board_page(BoardQuery(workspace_id=ws, segment=big_spenders)).rows
        return [(r.idea.title, r.votes, r.score) for r in rows]

    assert values() == [("Export to CSV", 1, Decimal("1500.00")), ("Dark mode", 1, Decimal("990.00"))]
    _vote(market["sso"], market["big"], Importance.IMPORTANT)
    assert values()[1] == ("Single sign-on", 1, Decimal("1000.00"))

    Segment.objects.filter(pk=big_spenders.pk).update(mrr_above=600)
    big_spenders.refresh_from_db()
    assert values() == [("Dark mode", 1, Decimal("990.00"))]

    Organization.objects.filter(pk=market["big"].organization_id).update(mrr=700)
    refresh_workspace_values(ws)
    assert values() == [("Export to CSV", 1, Decimal("2100.00")), ("Single sign-on", 1, Decimal("1400.00")),
                        ("Dark mode", 1, Decimal("990.00"))]  # fmt: skip
