"""Who hears that an idea shipped: everyone who asked for it.

The ideas app knows its own askers (voters, followers, the requesters of linked tickets). Apps above it know others
(the owners of lost deals and churned organizations that needed the idea): they register a provider here in their
AppConfig.ready(), the same plug-in shape as the outbox consumers, so this module never imports them. The email
channel asks ``shipped_audience`` once per shipped idea and writes one message per recipient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from deskloop.ideas.models import Idea, IdeaSubscription, IdeaTicket, IdeaVote


@dataclass(frozen=True)
class ShippedAudience:
    """Contacts get a customer email, agents an agent notice; ids only (the sender loads them in one query)."""

    contact_ids: set[int] = field(default_factory=set)
    agent_ids: set[int] = field(default_factory=set)

    def __or__(self, other: ShippedAudience) -> ShippedAudience:
        return ShippedAudience(self.contact_ids | other.contact_ids, self.agent_ids | other.agent_ids)


AudienceProvider = Callable[[Idea], ShippedAudience]
_providers: list[AudienceProvider] = []


def register_audience(provider: AudienceProvider) -> None:
    """Add the people another app knows asked for an idea (called from its AppConfig.ready(); once each)."""
    if provider not in _providers:
        _providers.append(provider)


def own_audience(idea: Idea) -> ShippedAudience:
    """Voters (contacts; an organization's vote without a contact has nobody to write to), contact and agent
    followers, and the requesters of linked tickets; but not a voter who stopped following the idea (every vote
    subscribes its contact, so a voter without a subscription is one who said "no more news about this")."""
    voters = set(IdeaVote.objects.filter(idea=idea, contact__isnull=False).values_list("contact_id", flat=True))
    followers = set(
        IdeaSubscription.objects.filter(idea=idea, contact__isnull=False).values_list("contact_id", flat=True)
    )
    contacts = voters | followers
    contacts |= set(
        IdeaTicket.objects.filter(idea=idea, ticket__requester__isnull=False).values_list(
            "ticket__requester_id", flat=True
        )
    )
    agents = set(IdeaSubscription.objects.filter(idea=idea, agent__isnull=False).values_list("agent_id", flat=True))
    return ShippedAudience(contact_ids=contacts - (voters - followers), agent_ids=agents)


def shipped_audience(idea: Idea) -> ShippedAudience:
    """Everyone to tell that ``idea`` shipped: its own askers and every registered provider's."""
    audience = own_audience(idea)
    for provider in _providers:
        audience = audience | provider(idea)
    return audience
