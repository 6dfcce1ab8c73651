"""Opening tickets and changing their fields: the one write path for the UI, the API, the channels, imports and
the demo. ``open_ticket`` takes a ``NewTicket``; ``update_ticket`` takes ``TicketChanges`` (a field left ``UNSET``
is left as it is); ``retag_tickets`` and ``move_team_tickets`` write what ``update_ticket`` writes for a tag or team
change, set-based, for tens of thousands of tickets. Every write counts its statements: each runs per ticket in
every channel (tests/test_create_query_counts.py)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar

from django.db import connection, transaction
from django.db.models import F, Model, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent, Team, Workspace
from deskloop.core import outbox
from deskloop.core.errors import PreconditionFailed, ValidationFailed
from deskloop.core.plain_sql import FirstRow, increment_returning, insert_row
from deskloop.customers.models import Contact
from deskloop.tickets import events, search
from deskloop.tickets.attachments import IncomingFile
from deskloop.tickets.models import (
    Channel,
    EventKind,
    Message,
    MessageKind,
    Priority,
    ProductArea,
    RequestType,
    Status,
    StatusCategory,
    Tag,
    Ticket,
    TicketEvent,
    TicketTag,
)
from deskloop.tickets.payloads import ticket_payload
from deskloop.tickets.services.custom_field_values import check_required_on_solve, validate_custom_fields

SUBJECT_MAX = 500
CREATE_WRITERS_ONLY = gettext_noop("Your role cannot create tickets.")
CHANGE_WRITERS_ONLY = gettext_noop("Your role cannot change tickets.")
TAG_MAX = 60


# The status a ticket opened without one gets: the workspace's default "new" status, as queries.default_status picks it.
_NEW_STATUS = FirstRow(
    model=Status, where=("workspace_id", "category"), order_by=("-is_default", "position", "id"), columns=("id", "name")
)


def allocate_ticket_number(workspace_id: int, status: Status | None = None) -> tuple[int, Status]:
    """Next per-workspace number, and the new ticket's status: ``status``, or else the workspace's default "new"
    status. The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite), so concurrent creators queue
    here instead of colliding on the unique constraint. The default status is read by the same statement
    (subqueries in its ``RETURNING``), fresh for every ticket (nothing cached, so a changed default is seen by the
    next ticket), and comes with the columns a new ticket's payload needs (the others load when first read)."""
    wanted = None if status is not None else (_NEW_STATUS, [workspace_id, StatusCategory.NEW.value])
    number, row = increment_returning(Workspace, workspace_id, "last_ticket_number", first=wanted)
    if status is not None:
        return number, status
    assert row is not None  # asked for
    status_id, status_name = row
    if status_id is None:
        raise LookupError(f"workspace {workspace_id} has no status in category {StatusCategory.NEW}")
    fields = ["id", "workspace_id", "name", "category"]
    return number, Status.from_db(
        connection.alias, fields, [status_id, workspace_id, status_name, StatusCategory.NEW.value]
    )


def clean_subject(subject: str) -> str:
    cleaned = " ".join((subject or "").split())
    if not cleaned:
        raise ValidationFailed(_("A ticket needs a subject."), field="subject")
    return cleaned[:SUBJECT_MAX]


def clean_tag_names(names: Iterable[str]) -> list[str]:
    cleaned: dict[str, str] = {}
    for raw in names:
        name = " ".join((raw or "").split()).strip().lstrip("#")
        if not name:
            continue
        if len(name) > TAG_MAX:
            raise ValidationFailed(_("A tag can be at most %(max)d characters.") % {"max": TAG_MAX}, field="tags")
        cleaned.setdefault(name.lower(), name)
    return list(cleaned.values())


def get_or_create_tags(workspace_id: int, names: Iterable[str]) -> list[Tag]:
    """The workspace's tags of these names (any casing), created when missing, in the order given."""
    wanted = {name.lower(): name for name in clean_tag_names(names)}
    found = _find_tags(workspace_id, wanted)
    created = Tag.objects.bulk_create(
        [Tag(workspace_id=workspace_id, name=name) for key, name in wanted.items() if key not in found]
    )
    found.update((tag.name.lower(), tag) for tag in created)
    return [found[key] for key in wanted]


def find_tags(workspace_id: int, names: Iterable[str]) -> list[Tag]:
    """The workspace's existing tags of these names (any casing); names no tag has are skipped."""
    wanted = {name.lower(): name for name in clean_tag_names(names)}
    found = _find_tags(workspace_id, wanted)
    return [found[key] for key in wanted if key in found]


def _find_tags(workspace_id: int, wanted: dict[str, str]) -> dict[str, Tag]:
    """Stored tags by lower-cased name, for ``wanted`` (lower-cased name -> name as given)."""
    if not wanted:
        return {}
    names = list(wanted.values())
    # One query finds both the exact names and those stored with other casing (the unique index is on lower(name)).
    candidates = Tag.objects.annotate(lowered_name=Lower("name")).filter(
        Q(name__in=names) | Q(lowered_name__in=list(wanted)), workspace_id=workspace_id
    )
    found: dict[str, Tag] = {}
    for tag in sorted(candidates, key=lambda tag: tag.name not in names):  # an exact name wins over other casing
        found.setdefault(tag.name.lower(), tag)
    if any(key not in found and not key.isascii() for key in wanted):
        # SQLite's lower() folds ASCII letters only; compare other scripts' casing here, as Python folds it.
        for stored in Tag.objects.filter(workspace_id=workspace_id):
            if stored.name.lower() in wanted:
                found.setdefault(stored.name.lower(), stored)
    return found


def _same_workspace(workspace_id: int, obj: Any, field_name: str) -> None:
    if obj is not None and obj.workspace_id != workspace_id:
        # Reported as "not found" on purpose: another workspace's ids must not be confirmed to exist.
        raise ValidationFailed(_("%(field)s was not found.") % {"field": field_name}, field=field_name)


def _check_references(
    workspace_id: int,
    references: Sequence[tuple[Any, str]],
    *,
    assignee: Any,
    priority: Any,
    request_type: Any,
) -> None:
    """The checks a new ticket and a change share: what it points to is of this workspace, the assignee is an
    active agent, the priority is known. ``UNSET`` (a change leaving the field alone) and None pass."""
    for obj, field_name in references:
        if not isinstance(obj, Unset):
            _same_workspace(workspace_id, obj, field_name)
    if isinstance(assignee, Agent) and not assignee.is_active:
        raise ValidationFailed(_("This agent is deactivated."), field="assignee")
    if not isinstance(priority, Unset) and priority not in Priority.values:
        raise ValidationFailed(_("Unknown priority “%(value)s”.") % {"value": priority}, field="priority")
    if not isinstance(request_type, Unset) and request_type not in ("", *RequestType.values):
        raise ValidationFailed(_("Unknown request type “%(value)s”.") % {"value": request_type}, field="request_type")


@dataclass(frozen=True)
class NewTicket:
    """A ticket to open and its first message, which the requester wrote (the message is left out when there is no
    body and no attachment). ``status``: the workspace's default "new" status when None. Contacts copied on the
    conversation are added after it opens, by ``channel_writes.add_cc_contacts``."""

    requester: Contact
    subject: str
    body_text: str = ""
    body_html: str = ""
    channel: str = Channel.WEB
    priority: str = Priority.NORMAL
    assignee: Agent | None = None
    team: Team | None = None
    product_area: ProductArea | None = None
    request_type: str = ""
    tags: Sequence[str] = ()
    custom_fields: Mapping[str, Any] | None = None
    status: Status | None = None
    attachments: Sequence[IncomingFile] = ()
    external_id: str | None = None
    created_at: dt.datetime | None = None
    channel_meta: dict[str, Any] | None = None
    # A channel's spam filter suspects it ({"source", "score", "evidence"}): the ticket opens in the Spam view, with
    # this reason on its timeline, and its requester is not blocked (an agent's "Not spam" rescues it).
    spam_verdict: Mapping[str, Any] | None = None

    @property
    def has_message(self) -> bool:
        return bool(self.body_text or self.body_html or self.attachments)


def open_ticket(
    *, workspace: Workspace, ticket: NewTicket, created_by: Agent | None = None, via: str = "web"
) -> tuple[Ticket, Message | None]:
    """Open ``ticket`` with its first message; returns both (the message is None when there is none), so a caller
    that goes on with the message does not read it back.

    ``created_by`` is the agent who logged it on the customer's behalf (phone, web form), or None when the customer
    wrote in themselves. The service owns its transaction, and inside a caller's it joins that one: every caller
    lets an error end its whole transaction (the email pipeline quarantines, the API answers, an import reports the
    row), so a savepoint would be two statements on every ticket that nothing rolls back to."""
    new = _checked_new_ticket(workspace, ticket, created_by)
    with transaction.atomic(savepoint=False):
        opened = _insert_ticket(workspace, new)
        tag_objects = get_or_create_tags(workspace.pk, new.tags)
        TicketTag.objects.bulk_create([TicketTag(workspace=workspace, ticket=opened, tag=t) for t in tag_objects])
        if new.assignee is not None:
            opened.followers.add(new.assignee)
        timeline = [
            events.event(
                ticket=opened,
                kind=EventKind.CREATED,
                agent=created_by,
                contact=None if created_by else new.requester,
                via=via,
            )
        ]
        message = _first_message(opened, new, via, timeline) if new.has_message else None
        if new.spam_verdict is not None:
            timeline.append(events.event(ticket=opened, kind=EventKind.SPAM, new=dict(new.spam_verdict), via=via))
        events.record_events(timeline)
        search.index_ticket(opened, message_texts=[message.body_text] if message is not None else [])
        outbox.publish(workspace_id=workspace.pk, name="ticket.created", payload=ticket_payload(opened))
    return opened, message


def _checked_new_ticket(workspace: Workspace, ticket: NewTicket, created_by: Agent | None) -> NewTicket:
    """``ticket`` with its subject and custom fields cleaned, or ValidationFailed / PermissionDenied."""
    subject = clean_subject(ticket.subject)
    references = (
        (ticket.requester, "requester"),
        (ticket.assignee, "assignee"),
        (ticket.team, "team"),
        (ticket.product_area, "product_area"),
        (ticket.status, "status"),
    )
    _check_references(
        workspace.pk,
        references,
        assignee=ticket.assignee,
        priority=ticket.priority,
        request_type=ticket.request_type,
    )
    if ticket.channel not in Channel.values:
        raise ValidationFailed(_("Unknown channel “%(value)s”.") % {"value": ticket.channel}, field="channel")
    cleaned_fields = validate_custom_fields(workspace.pk, dict(ticket.custom_fields or {}))
    if created_by is not None:
        require_role(created_by, Capability.WRITE, CREATE_WRITERS_ONLY)
    custom_fields = {k: v for k, v in cleaned_fields.items() if v is not None}
    return replace(ticket, subject=subject, custom_fields=custom_fields)


def _insert_ticket(workspace: Workspace, new: NewTicket) -> Ticket:
    number, status = allocate_ticket_number(workspace.pk, new.status)
    when = new.created_at or timezone.now()
    with_message = new.has_message
    # A plain INSERT ... RETURNING (core.plain_sql): the same statement, without compiling it per ticket.
    ticket = Ticket(
        workspace=workspace,
        number=number,
        subject=new.subject,
        status=status,
        priority=new.priority,
        channel=new.channel,
        requester=new.requester,
        organization_id=new.requester.organization_id,
        assignee=new.assignee,
        team=new.team,
        product_area=new.product_area,
        request_type=new.request_type,
        custom_fields=dict(new.custom_fields or {}),
        created_at=when,
        updated_at=when,
        external_id=new.external_id,
        is_spam=new.spam_verdict is not None,
        # The first message is counted in the INSERT rather than by a second write of the new row. Like every
        # customer message it is a change of the ticket, so such a ticket starts at version 2.
        message_count=1 if with_message else 0,
        last_customer_message_at=when if with_message else None,
        version=2 if with_message else 1,
    )
    insert_row(ticket)
    if Contact.organization.is_cached(new.requester):
        # Loaded with the requester already (find_or_create_contact does): the search document needs its name.
        ticket.organization = new.requester.organization
    return ticket


def _first_message(ticket: Ticket, new: NewTicket, via: str, timeline: list[TicketEvent]) -> Message:
    from deskloop.tickets.services.messages import store_message

    message = store_message(
        ticket=ticket,
        kind=MessageKind.REPLY,
        body_text=new.body_text,
        body_html=new.body_html,
        agent=None,
        contact=new.requester,
        channel=new.channel,
        attachments=new.attachments,
        created_at=ticket.created_at,
        channel_meta=new.channel_meta,
    )
    timeline.append(
        events.event(ticket=ticket, kind=EventKind.MESSAGE_ADDED, contact=new.requester, new=message.pk, via=via)
    )
    return message


def _status_transition(ticket: Ticket, new_status: Status, now: dt.datetime) -> None:
    old_category = ticket.status.category
    ticket.status = new_status
    if new_status.category == StatusCategory.SOLVED:
        ticket.solved_at = now
    elif new_status.category == StatusCategory.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    elif old_category in (StatusCategory.SOLVED, StatusCategory.CLOSED):
        # Reopened: it is no longer solved; reports count the next solve and the reopen rate counts this.
        ticket.solved_at = None
        ticket.closed_at = None
        ticket.reopen_count += 1


def change_status(locked: Ticket, status: Status, now: dt.datetime) -> dict[str, tuple[Any, Any]]:
    """Move a locked ticket (loaded with its status) to ``status``, unsaved; the change for its event, or
    nothing when it already has that status. Refuses to solve or close while required fields are empty."""
    if status.pk == locked.status_id:
        return {}
    if status.category in (StatusCategory.SOLVED, StatusCategory.CLOSED):
        check_required_on_solve(locked, locked.custom_fields)
    change = (
        {"id": locked.status_id, "name": locked.status.name},
        {"id": status.pk, "name": status.name},
    )
    _status_transition(locked, status, now)
    return {"status": change}


class Unset(enum.Enum):
    """The type of ``UNSET``: a field of ``TicketChanges`` to leave as it is (None is a value: no assignee)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
T = TypeVar("T")


@dataclass
class TicketChanges:
    """The fields to change; a field left ``UNSET`` is left as it is. ``custom_fields``: the keys to change
    (a None value clears one); tags are added and removed by name."""

    subject: str | Unset = UNSET
    status: Status | Unset = UNSET
    priority: str | Unset = UNSET
    assignee: Agent | Unset | None = UNSET
    team: Team | Unset | None = UNSET
    product_area: ProductArea | Unset | None = UNSET
    # "" clears it.
    request_type: str | Unset = UNSET
    due_at: dt.datetime | Unset | None = UNSET
    custom_fields: dict[str, Any] | Unset = UNSET
    add_tags: Sequence[str] = ()
    remove_tags: Sequence[str] = ()

    @property
    def is_empty(self) -> bool:
        values = (
            self.subject,
            self.status,
            self.priority,
            self.assignee,
            self.team,
            self.product_area,
            self.request_type,
            self.due_at,
        )
        unset = all(isinstance(value, Unset) for value in (*values, self.custom_fields))
        return unset and not self.add_tags and not self.remove_tags


def unset_if_none(value: T | None) -> T | Unset:
    """For a field that cannot be emptied (subject, status, priority), where None from a caller means "no change"."""
    return UNSET if value is None else value


# A ticket field's change for its event: (old, new).
Diff = dict[str, tuple[Any, Any]]


def update_ticket(
    *,
    ticket: Ticket,
    changes: TicketChanges,
    agent: Agent | None,
    expected_version: int | None = None,
    via: str = "web",
) -> Ticket:
    """Apply field changes, write one event per changed field and tag, and bump the version.

    ``expected_version`` implements If-Match: the change is refused (412) if someone else saved first.
    """
    changes = _checked_changes(ticket.workspace_id, changes, agent)
    with transaction.atomic():
        locked = _lock_ticket(ticket, expected_version)
        now = timezone.now()
        diff = _apply_fields(locked, changes, now)
        tag_events = _apply_tags(locked, changes, agent, via)
        if diff or tag_events:
            _save_update(locked, diff, tag_events, agent=agent, via=via, now=now)
    return locked


def _checked_changes(workspace_id: int, changes: TicketChanges, agent: Agent | None) -> TicketChanges:
    """``changes`` with the subject and custom fields cleaned, or ValidationFailed / PermissionDenied."""
    if agent is not None:
        require_role(agent, Capability.WRITE, CHANGE_WRITERS_ONLY)
    references = (
        (changes.status, "status"),
        (changes.assignee, "assignee"),
        (changes.team, "team"),
        (changes.product_area, "product_area"),
    )
    _check_references(
        workspace_id,
        references,
        assignee=changes.assignee,
        priority=changes.priority,
        request_type=changes.request_type,
    )
    subject = changes.subject if isinstance(changes.subject, Unset) else clean_subject(changes.subject)
    fields = changes.custom_fields
    if not isinstance(fields, Unset):
        fields = validate_custom_fields(workspace_id, fields) if fields else UNSET
    return replace(changes, subject=subject, custom_fields=fields)


def _lock_ticket(ticket: Ticket, expected_version: int | None) -> Ticket:
    # Lock the row: the version check and the write must not interleave with another writer.
    # of=("self",): lock the ticket row only, not the status row joined to it (see messages._lock_ticket).
    locked = Ticket.objects.select_for_update(of=("self",)).select_related("status").get(pk=ticket.pk)
    if expected_version is not None and locked.version != expected_version:
        raise PreconditionFailed(
            _("This ticket was changed by someone else. Reload it and try again."), code="stale_version"
        )
    return locked


def _apply_fields(locked: Ticket, changes: TicketChanges, now: dt.datetime) -> Diff:
    """Set the changed fields on the locked ticket, unsaved; the changes for their events."""
    diff: Diff = {}
    _apply_value(locked, diff, "subject", changes.subject)
    _apply_value(locked, diff, "priority", changes.priority)
    _apply_relation(locked, diff, "assignee", changes.assignee)
    _apply_relation(locked, diff, "team", changes.team)
    _apply_relation(locked, diff, "product_area", changes.product_area)
    _apply_value(locked, diff, "request_type", changes.request_type)
    _apply_value(locked, diff, "due_at", changes.due_at, shown=lambda at: at.isoformat() if at else None)
    if not isinstance(changes.custom_fields, Unset):
        diff.update(_apply_custom_fields(locked, changes.custom_fields))
    if not isinstance(changes.status, Unset):
        diff.update(change_status(locked, changes.status, now))
    return diff


def _apply_value(
    locked: Ticket, diff: Diff, name: str, value: Any, *, shown: Callable[[Any], Any] = lambda value: value
) -> None:
    """A plain field: its event shows the values as ``shown`` gives them."""
    if isinstance(value, Unset) or value == getattr(locked, name):
        return
    diff[name] = (shown(getattr(locked, name)), shown(value))
    setattr(locked, name, value)


def _apply_relation(locked: Ticket, diff: Diff, name: str, value: Model | Unset | None) -> None:
    """A foreign key: compared and shown in its event by id (the current row is not read)."""
    if isinstance(value, Unset):
        return
    old_id, new_id = getattr(locked, f"{name}_id"), value.pk if value is not None else None
    if old_id != new_id:
        diff[name] = (old_id, new_id)
        setattr(locked, name, value)


def _apply_custom_fields(locked: Ticket, values: dict[str, Any]) -> Diff:
    diff: Diff = {}
    merged = dict(locked.custom_fields)
    for key, value in values.items():
        if merged.get(key) != value:
            diff[f"custom_fields.{key}"] = (merged.get(key), value)
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    locked.custom_fields = merged
    return diff


def _apply_tags(locked: Ticket, changes: TicketChanges, agent: Agent | None, via: str) -> list[TicketEvent]:
    add = get_or_create_tags(locked.workspace_id, changes.add_tags) if changes.add_tags else []
    remove = find_tags(locked.workspace_id, changes.remove_tags) if changes.remove_tags else []
    return change_tags(tickets=[locked], add=add, remove=remove, agent=agent, via=via)


def _save_update(
    locked: Ticket, diff: Diff, tag_events: list[TicketEvent], *, agent: Agent | None, via: str, now: dt.datetime
) -> None:
    """Write what ``update_ticket`` changed: the row, the search document when the subject changed, the history,
    the new assignee's follow, and ``ticket.updated`` (the in-app and email notices consume it)."""
    locked.version += 1
    locked.updated_at = now
    locked.save()
    if "subject" in diff:
        search.index_ticket(locked)
    events.record_events(tag_events + events.field_change_events(ticket=locked, changes=diff, agent=agent, via=via))
    if "assignee" in diff and locked.assignee is not None:
        locked.followers.add(locked.assignee)
    outbox.publish(
        workspace_id=locked.workspace_id,
        name="ticket.updated",
        payload={**ticket_payload(locked), "changes": sorted(diff) + (["tags"] if tag_events else [])},
    )


def change_tags(
    *, tickets: Sequence[Ticket], add: Sequence[Tag], remove: Sequence[Tag], agent: Agent | None, via: str
) -> list[TicketEvent]:
    """Put ``add`` on and take ``remove`` off ``tickets`` (locked by the caller), in at most three statements however
    many tickets (the links they have of these tags, the new links, the delete). Returns the history of what
    changed, unrecorded, per ticket the tags added then those removed: the caller records it with its write."""
    ids = [ticket.pk for ticket in tickets]
    asked = {tag.pk for tag in (*add, *remove)}
    if not ids or not asked:
        return []
    present = set(TicketTag.objects.filter(ticket_id__in=ids, tag_id__in=asked).values_list("ticket_id", "tag_id"))
    links: list[TicketTag] = []
    timeline: list[TicketEvent] = []
    for ticket in tickets:
        for tag in add:
            if (ticket.pk, tag.pk) not in present:
                links.append(TicketTag(workspace_id=ticket.workspace_id, ticket=ticket, tag=tag))
                timeline.append(
                    events.event(ticket=ticket, kind=EventKind.TAG_ADDED, agent=agent, new=tag.name, via=via)
                )
        timeline += [
            events.event(ticket=ticket, kind=EventKind.TAG_REMOVED, agent=agent, old=tag.name, via=via)
            for tag in remove
            if (ticket.pk, tag.pk) in present
        ]
    TicketTag.objects.bulk_create(links)
    if any(tag.pk == tag_id for tag in remove for _ticket_id, tag_id in present):
        TicketTag.objects.filter(ticket_id__in=ids, tag__in=remove).delete()
    return timeline


# Tickets retagged per set of statements: big enough that a tag on 30k tickets is a few seconds, small enough that
# the row locks and statement sizes stay modest.
RETAG_BATCH = 1000


def retag_tickets(*, tag: Tag, replacement: Tag | None, agent: Agent | None, via: str) -> int:
    """Take ``tag`` off every ticket that has it (putting ``replacement`` on, unless it is there already), with
    what ``update_ticket`` writes for a tag change: a history event per tag added or removed, the version bumped,
    ``updated_at``, and a ``ticket.updated`` event with ``changes: ["tags"]``. Returns how many tickets had the tag.

    Set-based, a few statements per RETAG_BATCH tickets: through ``update_ticket``, ~12 queries a ticket, merging
    a tag on 30k tickets took minutes, longer than any web request may. Call inside a transaction.
    """
    if replacement is not None and replacement.workspace_id != tag.workspace_id:
        raise ValueError("the replacement tag belongs to another workspace")  # callers check; a bug if reached
    ticket_ids = list(TicketTag.objects.filter(tag=tag).order_by("ticket_id").values_list("ticket_id", flat=True))
    now = timezone.now()
    for start in range(0, len(ticket_ids), RETAG_BATCH):
        batch = ticket_ids[start : start + RETAG_BATCH]
        # Locked in id order, as update_ticket locks one ticket: no writer changes these tickets meanwhile.
        tickets = list(
            Ticket.objects.select_for_update(of=("self",)).select_related("status").filter(pk__in=batch).order_by("pk")
        )
        add = [replacement] if replacement is not None else []
        timeline = change_tags(tickets=tickets, add=add, remove=[tag], agent=agent, via=via)
        for ticket in tickets:
            ticket.version += 1
            ticket.updated_at = now
        Ticket.objects.filter(pk__in=batch).update(version=F("version") + 1, updated_at=now)
        events.record_events(timeline)
        outbox.publish_many(
            workspace_id=tag.workspace_id,
            events=[("ticket.updated", {**ticket_payload(ticket), "changes": ["tags"]}) for ticket in tickets],
        )
    return len(ticket_ids)


def move_team_tickets(*, team: Team, move_to: Team | None, agent: Agent | None, via: str) -> int:
    """Give every ticket of ``team`` to ``move_to`` (or to no team), with what ``update_ticket`` writes for a team
    change: a ``team`` field event, the version bumped, ``updated_at``, and ``ticket.updated`` with
    ``changes: ["team"]``. Set-based per RETAG_BATCH tickets, like ``retag_tickets``. Call inside a transaction."""
    if move_to is not None and move_to.workspace_id != team.workspace_id:
        raise ValueError("the receiving team belongs to another workspace")  # callers check; a bug if reached
    ticket_ids = list(
        Ticket.objects.filter(workspace_id=team.workspace_id, team=team).order_by("pk").values_list("pk", flat=True)
    )
    now = timezone.now()
    new_team_id = move_to.pk if move_to is not None else None
    for start in range(0, len(ticket_ids), RETAG_BATCH):
        batch = ticket_ids[start : start + RETAG_BATCH]
        tickets = list(
            Ticket.objects.select_for_update(of=("self",)).select_related("status").filter(pk__in=batch).order_by("pk")
        )
        timeline: list[TicketEvent] = []
        for ticket in tickets:
            timeline += events.field_change_events(
                ticket=ticket, changes={"team": (ticket.team_id, new_team_id)}, agent=agent, via=via
            )
            ticket.team_id = new_team_id
            ticket.version += 1
            ticket.updated_at = now
        Ticket.objects.filter(pk__in=batch).update(team_id=new_team_id, version=F("version") + 1, updated_at=now)
        events.record_events(timeline)
        outbox.publish_many(
            workspace_id=team.workspace_id,
            events=[("ticket.updated", {**ticket_payload(ticket), "changes": ["team"]}) for ticket in tickets],
        )
    return len(ticket_ids)


def set_followers(
    *, ticket: Ticket, add: Sequence[Agent] = (), remove: Sequence[Agent] = (), agent: Agent | None
) -> None:
    with transaction.atomic():
        current = set(ticket.followers.values_list("id", flat=True))
        for follower in add:
            _same_workspace(ticket.workspace_id, follower, "follower")
            if follower.pk not in current:
                ticket.followers.add(follower)
                events.record_event(ticket=ticket, kind=EventKind.FOLLOWER_ADDED, agent=agent, new=follower.pk)
        for follower in remove:
            if follower.pk in current:
                ticket.followers.remove(follower)
                events.record_event(ticket=ticket, kind=EventKind.FOLLOWER_REMOVED, agent=agent, old=follower.pk)
