"""Writes of ideas themselves: post, edit, comment, follow, move through the statuses, merge duplicates.

Votes have their own module (``services.votes``, the one write path of votes); a merge moves votes here because it
must move every voter at once under both ideas' locks, keeping one vote per voter (the higher importance).
A status change publishes ``idea.status_changed`` in the same transaction: the webhooks deliver it and the email
channel closes the loop with everyone in ``shipping.shipped_audience`` when the new status is shipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import Conflict, NotFound, ValidationFailed
from deskloop.core.outbox import publish
from deskloop.customers.models import Contact
from deskloop.ideas.models import (
    Idea,
    IdeaComment,
    IdeaStatus,
    IdeaSubscription,
    IdeaTicket,
    IdeaVote,
    ProductTask,
)
from deskloop.ideas.services.values import board_of, refresh_idea_values, refresh_stakes
from deskloop.ideas.services.votes import live_idea
from deskloop.tickets.models import ProductArea
from deskloop.tickets.services.tickets import UNSET, Unset

IDEA_WRITERS_ONLY = gettext_noop("Your role cannot change ideas.")
COMMENT_WRITERS_ONLY = gettext_noop("Your role cannot comment on ideas.")
TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
COMMENT_MAX = 10_000
SHIPPED_NOTE_MAX = 20_000


@dataclass
class IdeaChanges:
    """The fields of an idea to change; a field left ``UNSET`` stays as it is (None clears the product area).
    The status is not here: it changes through ``change_status`` (events, closing the loop)."""

    title: str | Unset = UNSET
    description: str | Unset = UNSET
    product_area: ProductArea | Unset | None = UNSET
    is_public: bool | Unset = UNSET


def idea_url(idea: Idea) -> str:
    """The agents' page of the idea, absolute (webhook payloads, agent notices)."""
    try:
        path = reverse("ideas:detail", args=[idea.pk])
    except NoReverseMatch:  # the agents' pages are not mounted (a trimmed URLconf in a test)
        path = f"/ideas/{idea.pk}/"
    return settings.SITE_URL.rstrip("/") + path


def _require_writer(agent: Agent, workspace_id: int) -> None:
    if agent.workspace_id != workspace_id:
        raise NotFound(_("No such idea in this workspace."))
    require_role(agent, Capability.WRITE, IDEA_WRITERS_ONLY)


def _clean_title(title: str) -> str:
    cleaned = " ".join((title or "").split())
    if not cleaned:
        raise ValidationFailed(_("Give the idea a title."), field="title")
    if len(cleaned) > TITLE_MAX:
        raise ValidationFailed(
            _("The title is too long (at most %(max)d characters).") % {"max": TITLE_MAX}, field="title"
        )
    return cleaned


def _clean_text(text: str, *, limit: int, field: str) -> str:
    cleaned = (text or "").strip()
    if len(cleaned) > limit:
        raise ValidationFailed(_("The text is too long (at most %(max)d characters).") % {"max": limit}, field=field)
    return cleaned


def _check_area(area: ProductArea | None, workspace_id: int) -> None:
    if area is not None and area.workspace_id != workspace_id:
        raise ValidationFailed(_("No such product area in this workspace."), field="product_area")


def _one_author(contact: Contact | None, agent: Agent | None, workspace_id: int) -> None:
    if (contact is None) == (agent is None):
        raise ValidationFailed(_("Say who writes it: a customer or an agent."), field="author")
    person = contact if contact is not None else agent
    if person is not None and person.workspace_id != workspace_id:
        raise NotFound(_("No such idea in this workspace."))


def _refuse_merged(idea: Idea) -> None:
    if idea.merged_into_id is not None:
        raise Conflict(_("This idea was merged into another one; change that one instead."), field="idea")


def create_idea(
    *,
    workspace: Workspace,
    title: str,
    description: str = "",
    product_area: ProductArea | None = None,
    author_contact: Contact | None = None,
    author_agent: Agent | None = None,
    is_public: bool = True,
) -> Idea:
    """A new idea under review, posted by a customer (portal, widget, board) or an agent (who needs the write
    role); the author follows it. Neither author: an import or the API on nobody's behalf."""
    if author_agent is not None:
        _require_writer(author_agent, workspace.pk)
    if author_contact is not None and author_contact.workspace_id != workspace.pk:
        raise ValidationFailed(_("The customer is not in this workspace."), field="author_contact")
    _check_area(product_area, workspace.pk)
    cleaned_title = _clean_title(title)
    cleaned_description = _clean_text(description, limit=DESCRIPTION_MAX, field="description")
    with transaction.atomic():
        idea = Idea.objects.create(
            workspace=workspace,
            title=cleaned_title,
            description=cleaned_description,
            product_area=product_area,
            author_contact=author_contact,
            author_agent=author_agent,
            is_public=is_public,
        )
        if author_contact is not None or author_agent is not None:
            _subscribe(idea, author_contact, author_agent)
    return idea


def edit_idea(*, idea: Idea, agent: Agent, changes: IdeaChanges) -> Idea:
    """Change the title, description, product area or visibility of a live idea (agents with the write role)."""
    _require_writer(agent, idea.workspace_id)
    with transaction.atomic():
        locked = Idea.objects.select_for_update().get(pk=idea.pk)
        _refuse_merged(locked)
        changed: list[str] = []
        if not isinstance(changes.title, Unset):
            locked.title = _clean_title(changes.title)
            changed.append("title")
        if not isinstance(changes.description, Unset):
            locked.description = _clean_text(changes.description, limit=DESCRIPTION_MAX, field="description")
            changed.append("description")
        if not isinstance(changes.product_area, Unset):
            _check_area(changes.product_area, locked.workspace_id)
            locked.product_area = changes.product_area
            changed.append("product_area")
        if not isinstance(changes.is_public, Unset):
            locked.is_public = bool(changes.is_public)
            changed.append("is_public")
        if changed:
            locked.updated_at = timezone.now()
            locked.save(update_fields=[*changed, "updated_at"])
    return locked


def add_comment(
    *, idea: Idea, body: str, contact: Contact | None = None, agent: Agent | None = None, is_internal: bool = False
) -> IdeaComment:
    """A comment by a customer or an agent on the idea (or the one it was merged into); the author follows it.
    Internal comments are agents' only (light agents too, as their notes on tickets); a public one by an agent
    needs the write role."""
    _one_author(contact, agent, idea.workspace_id)
    if agent is not None:
        require_role(agent, Capability.NOTE if is_internal else Capability.WRITE, COMMENT_WRITERS_ONLY)
    if contact is not None and is_internal:
        raise ValidationFailed(_("Customers cannot write internal comments."), field="is_internal")
    cleaned = _clean_text(body, limit=COMMENT_MAX, field="body")
    if not cleaned:
        raise ValidationFailed(_("Write the comment first."), field="body")
    with transaction.atomic():
        target = live_idea(idea)
        if contact is not None and not target.is_public:
            raise NotFound(_("No such idea in this workspace."))
        comment = IdeaComment.objects.create(
            workspace_id=target.workspace_id,
            idea=target,
            author_contact=contact,
            author_agent=agent,
            body=cleaned,
            is_internal=is_internal,
        )
        _subscribe(target, contact, agent)
    return comment


def _subscribe(idea: Idea, contact: Contact | None, agent: Agent | None) -> IdeaSubscription:
    if contact is not None:
        return IdeaSubscription.objects.get_or_create(workspace_id=idea.workspace_id, idea=idea, contact=contact)[0]
    return IdeaSubscription.objects.get_or_create(workspace_id=idea.workspace_id, idea=idea, agent=agent)[0]


def subscribe(*, idea: Idea, contact: Contact | None = None, agent: Agent | None = None) -> IdeaSubscription:
    """Follow the idea (its status changes, what shipped): a customer or an agent of any role; once each."""
    _one_author(contact, agent, idea.workspace_id)
    with transaction.atomic():
        return _subscribe(live_idea(idea), contact, agent)


def unsubscribe(*, idea: Idea, contact: Contact | None = None, agent: Agent | None = None) -> bool:
    """Stop following the idea; False when they did not follow it."""
    _one_author(contact, agent, idea.workspace_id)
    target = live_idea(idea)
    who = Q(contact=contact) if contact is not None else Q(agent=agent)
    deleted, _rows = IdeaSubscription.objects.filter(who, idea=target).delete()
    return deleted > 0


def change_status(*, idea: Idea, status: str, agent: Agent, shipped_note: str = "") -> Idea:
    """Move a live idea to ``status`` (agents with the write role) and publish ``idea.status_changed``.
    Shipping stamps ``shipped_at`` and keeps ``shipped_note`` (what shipped, for the changelog and the message to
    everyone who asked); leaving shipped clears the date. The same status again only updates a shipped note and
    publishes nothing, so nobody is told twice."""
    _require_writer(agent, idea.workspace_id)
    if status not in IdeaStatus.values:
        raise ValidationFailed(_("Unknown status."), field="status")
    note = _clean_text(shipped_note, limit=SHIPPED_NOTE_MAX, field="shipped_note")
    with transaction.atomic():
        locked = Idea.objects.select_for_update().get(pk=idea.pk)
        _refuse_merged(locked)
        now = timezone.now()
        old_status = locked.status
        if status == IdeaStatus.SHIPPED and note:
            locked.shipped_note = note
        if old_status == status:
            locked.updated_at = now
            locked.save(update_fields=["shipped_note", "updated_at"])
            return locked
        locked.status = status
        locked.status_changed_at = now
        locked.updated_at = now
        locked.shipped_at = now if status == IdeaStatus.SHIPPED else None
        locked.save(update_fields=["status", "status_changed_at", "updated_at", "shipped_at", "shipped_note"])
        publish(
            workspace_id=locked.workspace_id,
            name="idea.status_changed",
            payload={
                "id": locked.pk,
                "title": locked.title,
                "old_status": old_status,
                "status": status,
                "product_area_id": locked.product_area_id,
                "shipped_note": locked.shipped_note if status == IdeaStatus.SHIPPED else "",
                "url": idea_url(locked),
            },
        )
    return locked


def merge_ideas(*, loser: Idea, survivor: Idea, agent: Agent) -> Idea:
    """Merge the duplicate ``loser`` into ``survivor`` (or the idea it was merged into): votes, ticket links,
    comments, subscribers and product tasks move; a voter who voted on both keeps one vote, at the higher
    importance; the loser points at the survivor (its pages redirect there) and both values are recomputed.
    Publishes ``idea.merged`` so apps above (deals, churn records, survey answers) can repoint their links."""
    _require_writer(agent, loser.workspace_id)
    if survivor.workspace_id != loser.workspace_id:
        raise NotFound(_("No such idea in this workspace."))
    with transaction.atomic():
        target = live_idea(survivor)
        if target.pk == loser.pk:
            raise ValidationFailed(_("An idea cannot be merged into itself."), field="into")
        # Both rows locked in id order, so two merges of the same pair in opposite directions cannot deadlock.
        locked = {i.pk: i for i in Idea.objects.select_for_update().filter(pk__in=[loser.pk, target.pk]).order_by("pk")}
        dup, keep = locked[loser.pk], locked[target.pk]
        _refuse_merged(dup)
        if keep.merged_into_id is not None:
            raise Conflict(_("That idea was just merged into another one; try again."), field="into")
        organization_ids = _move_votes(dup, keep)
        _move_links(dup, keep)
        dup.merged_into = keep
        dup.updated_at = keep.updated_at = timezone.now()
        dup.save(update_fields=["merged_into", "updated_at"])
        keep.save(update_fields=["updated_at"])
        refresh_stakes(idea_id=dup.pk, organization_ids=organization_ids)
        refresh_stakes(idea_id=keep.pk, organization_ids=organization_ids)
        refresh_idea_values([dup.pk, keep.pk], board=board_of(keep.workspace_id))
        publish(
            workspace_id=keep.workspace_id,
            name="idea.merged",
            payload={"id": dup.pk, "title": dup.title, "into": keep.pk, "into_title": keep.title},
        )
    keep.refresh_from_db()
    return keep


def _voter_key(vote: IdeaVote) -> tuple[str, int | None]:
    return ("contact", vote.contact_id) if vote.contact_id is not None else ("organization", vote.organization_id)


def _move_votes(loser: Idea, survivor: Idea) -> set[int]:
    """Move the loser's votes to the survivor, one vote per voter (the higher importance, the first ticket).
    Returns the organizations whose stakes changed."""
    kept = {_voter_key(vote): vote for vote in IdeaVote.objects.filter(idea=survivor)}
    moving: list[int] = []
    raised: list[IdeaVote] = []
    duplicates: list[int] = []
    organization_ids: set[int] = set()
    for vote in IdeaVote.objects.filter(idea=loser):
        if vote.organization_id is not None:
            organization_ids.add(vote.organization_id)
        existing = kept.get(_voter_key(vote))
        if existing is None:
            moving.append(vote.pk)
            continue
        existing.importance = max(existing.importance, vote.importance)
        existing.ticket_id = existing.ticket_id or vote.ticket_id
        existing.cast_by_id = existing.cast_by_id or vote.cast_by_id
        raised.append(existing)
        duplicates.append(vote.pk)
    IdeaVote.objects.filter(pk__in=duplicates).delete()
    IdeaVote.objects.filter(pk__in=moving).update(idea=survivor)
    IdeaVote.objects.bulk_update(raised, ["importance", "ticket", "cast_by"])
    return organization_ids


def _move_unique(
    rows: Iterable[tuple[int, int | None]],
    model: type[IdeaTicket] | type[IdeaSubscription],
    survivor: Idea,
    held: set[int | None],
) -> None:
    """Move rows (id, key) to the survivor unless it already holds that key; drop those it holds."""
    moving: list[int] = []
    dropping: list[int] = []
    for pk, key in rows:
        (dropping if key in held else moving).append(pk)
        held.add(key)
    model._default_manager.filter(pk__in=dropping).delete()
    model._default_manager.filter(pk__in=moving).update(idea=survivor)


def _move_links(loser: Idea, survivor: Idea) -> None:
    """Ticket links, comments, subscribers and product tasks follow the merge (each link once)."""
    _move_unique(
        IdeaTicket.objects.filter(idea=loser).values_list("pk", "ticket_id"),
        IdeaTicket,
        survivor,
        set(IdeaTicket.objects.filter(idea=survivor).values_list("ticket_id", flat=True)),
    )
    for person in ("contact", "agent"):
        _move_unique(
            IdeaSubscription.objects.filter(idea=loser, **{f"{person}__isnull": False}).values_list(
                "pk", f"{person}_id"
            ),
            IdeaSubscription,
            survivor,
            set(
                IdeaSubscription.objects.filter(idea=survivor, **{f"{person}__isnull": False}).values_list(
                    f"{person}_id", flat=True
                )
            ),
        )
    IdeaComment.objects.filter(idea=loser).update(idea=survivor)
    ProductTask.objects.filter(idea=loser).update(idea=survivor)
