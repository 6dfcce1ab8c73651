"""A customer's writes on the ideas board, shared by the public board pages and the widget's Ideas tab.

Each is one call into the ideas app's services (``create_idea``, ``cast_vote``, ``withdraw_vote``): the board adds
only the customer's rules around them. A customer who posts an idea also votes for it (they asked for it, so it
counts like anyone else's ask), in the same transaction. A customer may take back the votes they cast themselves;
a vote an agent recorded for them from a conversation stays the team's evidence.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from deskloop.accounts.models import Workspace
from deskloop.channels.portal.board_queries import CUSTOMER_VOTE_SOURCES, own_vote
from deskloop.core.errors import NotFound, PermissionDenied
from deskloop.customers.models import Contact
from deskloop.ideas.models import Idea, Importance
from deskloop.ideas.services.ideas import create_idea
from deskloop.ideas.services.votes import CastVote, Voter, cast_vote, live_idea, withdraw_vote
from deskloop.tickets.models import ProductArea


def _check_open_to(contact: Contact, idea: Idea) -> Idea:
    """The live idea a customer acts on: public, in their workspace (else NotFound, as for no idea at all)."""
    if idea.workspace_id != contact.workspace_id or not idea.is_public:
        raise NotFound(_("No such idea."))
    target = live_idea(idea)
    if not target.is_public:
        raise NotFound(_("No such idea."))
    return target


def post_idea(
    *,
    workspace: Workspace,
    contact: Contact,
    title: str,
    description: str = "",
    product_area: ProductArea | None = None,
    source: str,
) -> Idea:
    """A customer's new public idea, with their own vote on it."""
    with transaction.atomic():
        idea = create_idea(
            workspace=workspace,
            title=title,
            description=description,
            product_area=product_area,
            author_contact=contact,
            is_public=True,
        )
        cast_vote(idea=idea, voter=Voter(contact=contact), source=source)
    return idea


def vote_as_customer(
    *, idea: Idea, contact: Contact, source: str, importance: int = Importance.NICE_TO_HAVE
) -> CastVote:
    """The customer's vote (once per idea: a second one may only raise its importance)."""
    target = _check_open_to(contact, idea)
    return cast_vote(idea=target, voter=Voter(contact=contact), source=source, importance=importance)


def withdraw_customer_vote(*, idea: Idea, contact: Contact) -> bool:
    """Take back the customer's own vote; False when there was none (a second click changes nothing)."""
    target = _check_open_to(contact, idea)
    vote = own_vote(contact, target)
    if vote is None:
        return False
    if vote.source not in CUSTOMER_VOTE_SOURCES:
        raise PermissionDenied(_("Our team recorded this vote with you; reply in your conversation to change it."))
    withdraw_vote(vote=vote)
    return True
