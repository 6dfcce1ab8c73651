"""Saved inbox views: a named TicketFilter plus a sort order, personal (``owner`` set) or shared (``owner`` null).

Anyone may keep personal views; shared views appear for the whole workspace, so only admins and owners create
or delete them. The reads live here too because nothing else reads saved views.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max, Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.models import Agent
from deskloop.core.errors import PermissionDenied, ValidationFailed
from deskloop.tickets.inbox import SORTS, InboxView, TicketFilter
from deskloop.tickets.models import SavedView

NAME_MAX_LENGTH = 100

NAME_REQUIRED = gettext_noop("Give the view a name.")
NAME_TOO_LONG = gettext_noop("A view name can be at most %(max)d characters.")
NAME_TAKEN = gettext_noop("You already have a view named “%(name)s”.")
SHARED_NEEDS_ADMIN = gettext_noop("Only admins and owners can share a view with the whole workspace.")
UNKNOWN_SORT = gettext_noop("Unknown sort order “%(sort)s”.")
UNKNOWN_VIEW = gettext_noop("Unknown view “%(view)s”.")
DELETE_SHARED_NEEDS_ADMIN = gettext_noop("Only admins and owners can delete a shared view.")


def visible_saved_views(agent: Agent) -> list[SavedView]:
    """The agent's personal views and the workspace's shared ones, shared first, each group by position/name."""
    views = SavedView.objects.filter(Q(owner_id=agent.pk) | Q(owner__isnull=True), workspace_id=agent.workspace_id)
    return sorted(views, key=lambda v: (v.owner_id is not None, v.position, v.name.lower(), v.pk))


def get_saved_view_for_agent(agent: Agent, view_id: int) -> SavedView:
    """A view the agent can see (theirs or shared in their workspace), else 404."""
    view = (
        SavedView.objects.filter(Q(owner_id=agent.pk) | Q(owner__isnull=True), workspace_id=agent.workspace_id)
        .filter(pk=view_id)
        .first()
    )
    if view is None:
        raise Http404("No such saved view")
    return view


def create_saved_view(
    *, agent: Agent, name: str, ticket_filter: TicketFilter, sort: str, shared: bool = False
) -> SavedView:
    """Save the filter under ``name``. Shared views need an admin or owner; names are unique per owner."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(_(NAME_REQUIRED), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed(_(NAME_TOO_LONG) % {"max": NAME_MAX_LENGTH}, field="name")
    if shared and not agent.is_admin:
        raise PermissionDenied(_(SHARED_NEEDS_ADMIN), field="shared")
    if sort not in SORTS:
        raise ValidationFailed(_(UNKNOWN_SORT) % {"sort": sort}, field="sort")
    if ticket_filter.view not in InboxView.ALL_VIEWS:
        raise ValidationFailed(_(UNKNOWN_VIEW) % {"view": ticket_filter.view}, field="view")
    # A saved view is a starting point for browsing, never a page cursor or a search that went stale.
    filters = ticket_filter.to_json()
    owner = None if shared else agent
    with transaction.atomic():
        siblings = SavedView.objects.filter(workspace_id=agent.workspace_id, owner=owner)
        if siblings.filter(name__iexact=name).exists():
            raise ValidationFailed(_(NAME_TAKEN) % {"name": name}, field="name")
        last = siblings.aggregate(last=Max("position"))["last"]
        return SavedView.objects.create(
            workspace_id=agent.workspace_id,
            name=name,
            owner=owner,
            filters=filters,
            sort=sort,
            position=0 if last is None else last + 1,
        )


def delete_saved_view(*, agent: Agent, view: SavedView) -> None:
    """Delete a view fetched with get_saved_view_for_agent: one's own personal view, or a shared one as admin."""
    if view.owner_id is None and not agent.is_admin:
        raise PermissionDenied(_(DELETE_SHARED_NEEDS_ADMIN))
    view.delete()
