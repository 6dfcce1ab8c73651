"""The people revenue knows asked for an idea: told when it ships (``ideas.shipping`` asks every provider)."""

from __future__ import annotations

from django.db.models import Q

from deskloop.ideas.models import Idea
from deskloop.ideas.shipping import ShippedAudience
from deskloop.revenue.models import ChurnRecord, Deal, DealStatus


def lost_deal_and_churn_owners(idea: Idea) -> ShippedAudience:
    """The owners of deals lost for want of the idea, and the owners (account managers) of organizations that
    churned over it: they can go back to the prospect or the former customer. Ideas merged into it count too (their
    links stay on the merged idea)."""
    linked = Q(idea=idea) | Q(idea__merged_into=idea)
    deal_owners = Deal.objects.filter(linked, workspace_id=idea.workspace_id, status=DealStatus.LOST).values_list(
        "owner_id", flat=True
    )
    account_owners = ChurnRecord.objects.filter(linked, workspace_id=idea.workspace_id).values_list(
        "organization__owner_id", flat=True
    )
    agents = {agent_id for agent_id in [*deal_owners, *account_owners] if agent_id is not None}
    return ShippedAudience(contact_ids=set(), agent_ids=agents)
