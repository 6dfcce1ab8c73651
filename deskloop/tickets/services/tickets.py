"""Creating tickets and changing their fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent, Team, Workspace
from deskloop.core import outbox
from deskloop.core.errors import PermissionDenied, PreconditionFailed, ValidationFailed
from deskloop.core.plain_sql import insert_row, prepared_cursor
from deskloop.customers.models import Contact
from deskloop.tickets import events, search
from deskloop.tickets.attachments import IncomingFile
from deskloop.tickets.models import (
    Channel,
    CustomField,
    CustomFieldType,
    EventKind,
    Message,
    MessageKind,
    Priority,
    ProductArea,
    Status,
    StatusCategory,
    Tag,
    Ticket,
    TicketEvent,
    TicketTag,
)
from deskloop.tickets.payloads import ticket_payload
from deskloop.tickets.queries import default_status

SUBJECT_MAX = 500
TAG_MAX = 60


def allocate_ticket_number(workspace_id: int) -> int:
    """Next per-workspace number. The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite),
    so concurrent creators queue here instead of colliding on the unique constraint."""
    if connection.features.can_return_columns_from_insert:
        # PostgreSQL and SQLite 3.35+ (the release that brought RETURNING to INSERT and UPDATE alike) hand the
        # new number back from the UPDATE itself: one round trip instead of UPDATE then SELECT.
        quote = connection.ops.quote_name
        table = quote(Workspace._meta.db_table)
        column = quote(Workspace._meta.get_field("last_ticket_number").column)
        key = quote(Workspace._meta.pk.column)
        with prepared_cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {column} = {column} + 1 WHERE {key} = %s RETURNING {column}",  # noqa: S608
                [workspace_id],
            )
            row = cursor.fetchone()
        if row is None:
            raise Workspace.DoesNotExist(f"workspace {workspace_id} does not exist")
        return int(row[0])
    Workspace.objects.filter(pk=workspace_id).update(last_ticket_number=F("last_ticket_number") + 1)
    number: int = Workspace.objects.values_list("last_ticket_number", flat=True).get(pk=workspace_id)
    return number


def allocate_ticket_number_with_status(workspace_id: int, category: StatusCategory) -> tuple[int, Status]:
    """``allocate_ticket_number`` and the workspace's default status of ``category`` (as ``queries.default_status``
    picks it) in one statement: the status is read by subqueries in the number's ``RETURNING``, read fresh for
    every ticket (nothing cached, so a changed default is seen by the next ticket) without a round trip of its own.
    The status comes with the columns a new ticket's payload needs (the others load when first read)."""
    if not connection.features.can_return_columns_from_insert:
        return allocate_ticket_number(workspace_id), default_status(workspace_id, category)
    quote = connection.ops.quote_name
    table = quote(Workspace._meta.db_table)
    column = quote(Workspace._meta.get_field("last_ticket_number").column)
    key = quote(Workspace._meta.pk.column)
    pick = (
        f"FROM {quote(Status._meta.db_table)} s WHERE s.{quote('workspace_id')} = %s AND s.{quote('category')} = %s "
        f"ORDER BY s.{quote('is_default')} DESC, s.{quote('position')}, s.{quote('id')} LIMIT 1"
    )
    with prepared_cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = {column} + 1 WHERE {key} = %s "  # noqa: S608
            f"RETURNING {column}, (SELECT s.{quote('id')} {pick}), (SELECT s.{quote('name')} {pick})",
            [workspace_id, workspace_id, category.value, workspace_id, category.value],
        )
        row = cursor.fetchone()
    if row is None:
        raise Workspace.DoesNotExist(f"workspace {workspace_id} does not exist")
    number, status_id, status_name = row
    if status_id is None:
        raise LookupError(f"workspace {workspace_id} has no status in category {category}")
    status = Status.from_db(
        connection.alias,
        ["id", "workspace_id", "name", "category"],
        [status_id, workspace_id, status_name, category.value],
    )
    return int(number), status


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
    wanted = clean_tag_names(names)
    if not wanted:
        return []
    lowered = {name.lower(): name for name in wanted}
    # One query finds both the exact names and those stored with other casing (the unique index is on lower(name)).
    candidates = Tag.objects.annotate(lowered_name=Lower("name")).filter(
        Q(name__in=wanted) | Q(lowered_name__in=list(lowered)), workspace_id=workspace_id
    )
    found: dict[str, Tag] = {}
    for tag in sorted(candidates, key=lambda tag: tag.name not in wanted):  # an exact name wins over other casing
        found.setdefault(tag.name.lower(), tag)
    if any(key not in found and not key.isascii() for key in lowered):
        # SQLite's lower() folds ASCII letters only; compare other scripts' casing here, as Python folds it.
        for stored in Tag.objects.filter(workspace_id=workspace_id):
            if stored.name.lower() in lowered:
                found.setdefault(stored.name.lower(), stored)
    created = Tag.objects.bulk_create(
        [Tag(workspace_id=workspace_id, name=name) for key, name in lowered.items() if key not in found]
    )
    found.update((tag.name.lower(), tag) for tag in created)
    return [found[key] for key in lowered]


def validate_custom_fields(
    workspace_id: int, values: dict[str, Any], *, definitions: Sequence[CustomField] | None = None
) -> dict[str, Any]:
    """Check values against the workspace's field definitions; return the normalized values.

    Unknown keys are refused (a typo must not be stored silently). ``None`` or "" clears a field.
    """
    if not values:
        return {}
    defs = {d.key: d for d in (definitions or CustomField.objects.filter(workspace_id=workspace_id))}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        definition = defs.get(key)
        if definition is None:
            raise ValidationFailed(_("Unknown custom field “%(key)s”.") % {"key": key}, field=f"custom_fields.{key}")
        if value is None or value == "" or value == []:
            cleaned[key] = None
            continue
        label = definition.label
        if definition.field_type == CustomFieldType.TEXT:
            cleaned[key] = str(value)[:2000]
        elif definition.field_type == CustomFieldType.NUMBER:
            try:
                number = Decimal(str(value))
            except InvalidOperation as exc:
                raise ValidationFailed(
                    _("%(label)s must be a number.") % {"label": label}, field=f"custom_fields.{key}"
                ) from exc
            if not number.is_finite():
                raise ValidationFailed(
                    _("%(label)s must be a number.") % {"label": label}, field=f"custom_fields.{key}"
                )
            cleaned[key] = int(number) if number == number.to_integral_value() else float(number)
        elif definition.field_type == CustomFieldType.DATE:
            try:
                cleaned[key] = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError as exc:
                raise ValidationFailed(
                    _("%(label)s must be a date (YYYY-MM-DD).") % {"label": label}, field=f"custom_fields.{key}"
                ) from exc
        elif definition.field_type == CustomFieldType.CHOICE:
            if value not in definition.choices:
                raise ValidationFailed(
                    _("“%(value)s” is not a choice of %(label)s.") % {"value": value, "label": label},
                    field=f"custom_fields.{key}",
                )
            cleaned[key] = value
        elif definition.field_type == CustomFieldType.MULTI_CHOICE:
            chosen = value if isinstance(value, list) else [value]
            bad = [v for v in chosen if v not in definition.choices]
            if bad:
                raise ValidationFailed(
                    _("“%(value)s” is not a choice of %(label)s.") % {"value": bad[0], "label": label},
                    field=f"custom_fields.{key}",
                )
            cleaned[key] = [c for c in definition.choices if c in chosen]
    return cleaned


def check_required_on_solve(ticket: Ticket, custom_fields: dict[str, Any]) -> None:
    missing = [
        d.label
        for d in CustomField.objects.filter(workspace_id=ticket.workspace_id, required_on_solve=True)
        if custom_fields.get(d.key) in (None, "", [])
    ]
    if missing:
        raise ValidationFailed(
            _("Fill in %(fields)s before solving this ticket.") % {"fields": ", ".join(missing)},
            field="custom_fields",
            code="required_on_solve",
        )


def _same_workspace(workspace_id: int, obj: Any, field_name: str) -> None:
    if obj is not None and obj.workspace_id != workspace_id:
        # Reported as "not found" on purpose: another workspace's ids must not be confirmed to exist.
        raise ValidationFailed(_("%(field)s was not found.") % {"field": field_name}, field=field_name)


@dataclass
class TicketChanges:
    """Fields to change; only the attributes that were set are applied (``UNSET`` means leave alone)."""

    subject: str | None = None
    status: Status | None = None
    priority: str | None = None
    assignee: Agent | None = None
    assignee_set: bool = False
    team: Team | None = None
    team_set: bool = False
    product_area: ProductArea | None = None
    product_area_set: bool = False
    custom_fields: dict[str, Any] | None = None
    due_at: dt.datetime | None = None
    due_at_set: bool = False
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)


def create_ticket(
    *,
    workspace: Workspace,
    requester: Contact,
    subject: str,
    body_text: str = "",
    body_html: str = "",
    channel: str = Channel.WEB,
    priority: str = Priority.NORMAL,
    created_by: Agent | None = None,
    assignee: Agent | None = None,
    team: Team | None = None,
    product_area: ProductArea | None = None,
    tags: Sequence[str] = (),
    custom_fields: dict[str, Any] | None = None,
    status: Status | None = None,
    attachments: Sequence[IncomingFile] = (),
    external_id: str | None = None,
    created_at: dt.datetime | None = None,
    channel_meta: dict[str, Any] | None = None,
    via: str = "web",
) -> Ticket:
    """Open a ticket with its first message from the requester (see ``open_ticket``, which also returns that
    message)."""
    return open_ticket(
        workspace=workspace,
        requester=requester,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        channel=channel,
        priority=priority,
        created_by=created_by,
        assignee=assignee,
        team=team,
        product_area=product_area,
        tags=tags,
        custom_fields=custom_fields,
        status=status,
        attachments=attachments,
        external_id=external_id,
        created_at=created_at,
        channel_meta=channel_meta,
        via=via,
    )[0]


def open_ticket(
    *,
    workspace: Workspace,
    requester: Contact,
    subject: str,
    body_text: str = "",
    body_html: str = "",
    channel: str = Channel.WEB,
    priority: str = Priority.NORMAL,
    created_by: Agent | None = None,
    assignee: Agent | None = None,
    team: Team | None = None,
    product_area: ProductArea | None = None,
    tags: Sequence[str] = (),
    custom_fields: dict[str, Any] | None = None,
    status: Status | None = None,
    attachments: Sequence[IncomingFile] = (),
    external_id: str | None = None,
    created_at: dt.datetime | None = None,
    channel_meta: dict[str, Any] | None = None,
    via: str = "web",
    savepoint: bool = True,
    cc_contacts: Sequence[Contact] = (),
) -> tuple[Ticket, Message | None]:
    """Open a ticket with its first message from the requester; returns both (the message is None when there is
    no body and no attachment), so a caller that goes on with the message does not read it back.

    ``created_by`` is the agent who logged it on the customer's behalf (phone, web form), or None when
    the customer wrote in themselves. The first message is always authored by the requester.
    ``savepoint=False``: inside a caller's transaction that catches nothing (the email pipeline's: any error rolls
    its whole processing back), no savepoint pair around the writes.
    ``cc_contacts``: copied on the new ticket as ``channel_writes.add_cc_contacts`` would copy them right after
    (the requester, other workspaces' contacts and repeats skipped; a "cc" event each, after the creation's),
    but in the creation's statements: one INSERT for the links, their events in the creation's event INSERT.
    """
    from deskloop.tickets.services.messages import store_message

    subject = clean_subject(subject)
    _same_workspace(workspace.pk, requester, "requester")
    _same_workspace(workspace.pk, assignee, "assignee")
    _same_workspace(workspace.pk, team, "team")
    _same_workspace(workspace.pk, product_area, "product_area")
    _same_workspace(workspace.pk, status, "status")
    if priority not in Priority.values:
        raise ValidationFailed(_("Unknown priority “%(value)s”.") % {"value": priority}, field="priority")
    if channel not in Channel.values:
        raise ValidationFailed(_("Unknown channel “%(value)s”.") % {"value": channel}, field="channel")
    cleaned_fields = validate_custom_fields(workspace.pk, custom_fields or {})
    if created_by is not None and not created_by.can_write:
        raise PermissionDenied(_("Your role cannot create tickets."))
    when = created_at or timezone.now()
    with_message = bool(body_text or body_html or attachments)

    with transaction.atomic(savepoint=savepoint):
        if status is None:
            number, status = allocate_ticket_number_with_status(workspace.pk, StatusCategory.NEW)
        else:
            number = allocate_ticket_number(workspace.pk)
        # A plain INSERT ... RETURNING (core.plain_sql): the same statement, without compiling it per ticket.
        ticket = Ticket(
            workspace=workspace,
            number=number,
            subject=subject,
            status=status,
            priority=priority,
            channel=channel,
            requester=requester,
            organization_id=requester.organization_id,
            assignee=assignee,
            team=team,
            product_area=product_area,
            custom_fields={k: v for k, v in cleaned_fields.items() if v is not None},
            created_at=when,
            updated_at=when,
            external_id=external_id,
            # The first message is counted in the INSERT rather than by a second write of the new row. Like every
            # customer message it is a change of the ticket, so such a ticket starts at version 2.
            message_count=1 if with_message else 0,
            last_customer_message_at=when if with_message else None,
            version=2 if with_message else 1,
        )
        insert_row(ticket)
        if Contact.organization.is_cached(requester):
            # Loaded with the requester already (find_or_create_contact does): the search document needs its name.
            ticket.organization = requester.organization
        tag_objects = get_or_create_tags(workspace.pk, tags)
        TicketTag.objects.bulk_create([TicketTag(workspace=workspace, ticket=ticket, tag=t) for t in tag_objects])
        if assignee is not None:
            ticket.followers.add(assignee)
        timeline = [
            events.event(
                ticket=ticket,
                kind=EventKind.CREATED,
                agent=created_by,
                contact=None if created_by else requester,
                via=via,
            )
        ]
        texts: list[str] = []
        message: Message | None = None
        if with_message:
            message = store_message(
                ticket=ticket,
                kind=MessageKind.REPLY,
                body_text=body_text,
                body_html=body_html,
                agent=None,
                contact=requester,
                channel=channel,
                attachments=attachments,
                created_at=when,
                channel_meta=channel_meta,
            )
            texts.append(message.body_text)
            timeline.append(
                events.event(ticket=ticket, kind=EventKind.MESSAGE_ADDED, contact=requester, new=message.pk, via=via)
            )
        copied = _new_cc_contacts(ticket, cc_contacts)
        if copied:
            through = Ticket.cc_contacts.through
            through.objects.bulk_create([through(ticket_id=ticket.pk, contact_id=contact.pk) for contact in copied])
            timeline.extend(
                events.event(ticket=ticket, kind=EventKind.FIELD_CHANGED, field="cc", new=contact.display_name, via=via)
                for contact in copied
            )
        events.record_events(timeline)
        search.index_written_ticket(ticket, message_texts=texts)
        outbox.publish(workspace_id=workspace.pk, name="ticket.created", payload=ticket_payload(ticket))
    return ticket, message


def _new_cc_contacts(ticket: Ticket, contacts: Sequence[Contact]) -> list[Contact]:
    """The contacts ``add_cc_contacts`` would copy on a ticket that has no CCs yet, in the order given."""
    copied: list[Contact] = []
    seen = {ticket.requester_id}
    for contact in contacts:
        if contact.workspace_id == ticket.workspace_id and contact.pk not in seen:
            seen.add(contact.pk)
            copied.append(contact)
    return copied


def _status_transition(ticket: Ticket, new_status: Status, now: dt.datetime) -> None:
    old_category = ticket.status.category
    ticket.status = new_status
    if new_status.category == StatusCategory.SOLVED:
        ticket.solved_at = now
    elif new_status.category == StatusCategory.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    elif old_category in (StatusCategory.SOLVED, StatusCategory.CLOSED):
        # Reopened: it is no longer solved; reports count the next solve.
        ticket.solved_at = None
        ticket.closed_at = None


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


def update_ticket(
    *,
    ticket: Ticket,
    changes: TicketChanges,
    agent: Agent | None,
    expected_version: int | None = None,
    via: str = "web",
) -> Ticket:
    """Apply field changes, write one event per changed field and bump the version.

    ``expected_version`` implements If-Match: the change is refused (412) if someone else saved first.
    """
    if agent is not None and not agent.can_write:
        raise PermissionDenied(_("Your role cannot change tickets."))
    wid = ticket.workspace_id
    for obj, name in (
        (changes.status, "status"),
        (changes.assignee, "assignee"),
        (changes.team, "team"),
        (changes.product_area, "product_area"),
    ):
        _same_workspace(wid, obj, name)
    if changes.assignee is not None and not changes.assignee.is_active:
        raise ValidationFailed(_("This agent is deactivated."), field="assignee")
    if changes.priority is not None and changes.priority not in Priority.values:
        raise ValidationFailed(_("Unknown priority “%(value)s”.") % {"value": changes.priority}, field="priority")
    subject = clean_subject(changes.subject) if changes.subject is not None else None
    new_fields = validate_custom_fields(wid, changes.custom_fields) if changes.custom_fields else None

    with transaction.atomic():
        # Lock the row: the version check and the write must not interleave with another writer.
        # of=("self",): lock the ticket row only, not the status row joined to it (see messages._lock_ticket).
        locked = Ticket.objects.select_for_update(of=("self",)).select_related("status").get(pk=ticket.pk)
        if expected_version is not None and locked.version != expected_version:
            raise PreconditionFailed(
                _("This ticket was changed by someone else. Reload it and try again."), code="stale_version"
            )
        now = timezone.now()
        diff: dict[str, tuple[Any, Any]] = {}
        if subject is not None and subject != locked.subject:
            diff["subject"] = (locked.subject, subject)
            locked.subject = subject
        if changes.priority is not None and changes.priority != locked.priority:
            diff["priority"] = (locked.priority, changes.priority)
            locked.priority = changes.priority
        if changes.assignee_set and changes.assignee != locked.assignee:
            diff["assignee"] = (
                locked.assignee_id,
                changes.assignee.pk if changes.assignee else None,
            )
            locked.assignee = changes.assignee
        if changes.team_set and (changes.team.pk if changes.team else None) != locked.team_id:
            diff["team"] = (locked.team_id, changes.team.pk if changes.team else None)
            locked.team = changes.team
        if (
            changes.product_area_set
            and (changes.product_area.pk if changes.product_area else None) != locked.product_area_id
        ):
            diff["product_area"] = (locked.product_area_id, changes.product_area.pk if changes.product_area else None)
            locked.product_area = changes.product_area
        if changes.due_at_set and changes.due_at != locked.due_at:
            diff["due_at"] = (
                locked.due_at.isoformat() if locked.due_at else None,
                changes.due_at.isoformat() if changes.due_at else None,
            )
            locked.due_at = changes.due_at
        if new_fields is not None:
            merged = dict(locked.custom_fields)
            for key, value in new_fields.items():
                if merged.get(key) != value:
                    diff[f"custom_fields.{key}"] = (merged.get(key), value)
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            locked.custom_fields = merged
        if changes.status is not None:
            diff.update(change_status(locked, changes.status, now))

        tag_changed = set_ticket_tags(
            ticket=locked, add=changes.add_tags, remove=changes.remove_tags, agent=agent, via=via
        )
        if not diff and not tag_changed:
            return locked
        locked.version += 1
        locked.updated_at = now
        locked.save()
        if "subject" in diff:
            search.index_ticket(locked.pk)
        events.record_field_changes(ticket=locked, changes=diff, agent=agent, via=via)
        if "assignee" in diff and locked.assignee is not None:
            locked.followers.add(locked.assignee)
        outbox.publish(
            workspace_id=wid,
            name="ticket.updated",
            payload={**ticket_payload(locked), "changes": sorted(diff) + (["tags"] if tag_changed else [])},
        )
    return locked


def set_ticket_tags(
    *, ticket: Ticket, add: Sequence[str], remove: Sequence[str], agent: Agent | None, via: str
) -> bool:
    """Add and remove tags by name, recording an event for each real change. Returns True if any changed."""
    timeline = []
    if add:
        current = set(TicketTag.objects.filter(ticket=ticket).values_list("tag_id", flat=True))
        added = [tag for tag in get_or_create_tags(ticket.workspace_id, add) if tag.pk not in current]
        TicketTag.objects.bulk_create(
            [TicketTag(workspace_id=ticket.workspace_id, ticket=ticket, tag=tag) for tag in added]
        )
        timeline += [
            events.event(ticket=ticket, kind=EventKind.TAG_ADDED, agent=agent, new=tag.name, via=via) for tag in added
        ]
    if remove:
        lowered = {name.lower() for name in clean_tag_names(remove)}
        removed = [
            link
            for link in TicketTag.objects.filter(ticket=ticket).select_related("tag")
            if link.tag.name.lower() in lowered
        ]
        if removed:
            TicketTag.objects.filter(pk__in=[link.pk for link in removed]).delete()
        timeline += [
            events.event(ticket=ticket, kind=EventKind.TAG_REMOVED, agent=agent, old=link.tag.name, via=via)
            for link in removed
        ]
    events.record_events(timeline)
    return bool(timeline)


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
        had_replacement: set[int] = set()
        if replacement is not None:
            had_replacement = set(
                TicketTag.objects.filter(tag=replacement, ticket_id__in=batch).values_list("ticket_id", flat=True)
            )
            TicketTag.objects.bulk_create(
                [
                    TicketTag(workspace_id=tag.workspace_id, ticket_id=ticket.pk, tag=replacement)
                    for ticket in tickets
                    if ticket.pk not in had_replacement
                ]
            )
        TicketTag.objects.filter(tag=tag, ticket_id__in=batch).delete()
        timeline = []
        for ticket in tickets:
            if replacement is not None and ticket.pk not in had_replacement:
                timeline.append(
                    events.event(ticket=ticket, kind=EventKind.TAG_ADDED, agent=agent, new=replacement.name, via=via)
                )
            timeline.append(events.event(ticket=ticket, kind=EventKind.TAG_REMOVED, agent=agent, old=tag.name, via=via))
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
