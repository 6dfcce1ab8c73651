"""The ticket page: conversation, composer, properties sidebar, requester panel, history, collision notice.

htmx requests get back only the regions that changed, as out-of-band swaps (``tickets/ticket_refresh.html``);
the same forms also work without JavaScript (a redirect back to the page after each POST).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ALL_ROLES, NOTE_ROLES, WRITER_ROLES, Agent, Team
from deskloop.core.errors import Conflict, NotFound, ValidationFailed
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import Refusal, refusal
from deskloop.tickets.attachments import IncomingFile, check_upload_size
from deskloop.tickets.models import (
    CustomField,
    CustomFieldType,
    Macro,
    Priority,
    ProductArea,
    RequestType,
    Status,
    Tag,
    Ticket,
)
from deskloop.tickets.page_panels import panels_for_page
from deskloop.tickets.queries import get_ticket_for_agent
from deskloop.tickets.services import presence
from deskloop.tickets.services.composer import ComposerKind, send_from_composer
from deskloop.tickets.services.macros import get_macro_for_agent, render_macro_body
from deskloop.tickets.services.tickets import UNSET, TicketChanges, set_followers, unset_if_none, update_ticket
from deskloop.tickets.views.ticket_page import load_ticket_page

TEMPLATE = "tickets/ticket.html"
REFRESH_TEMPLATE = "tickets/ticket_refresh.html"
DUE_AT_FORMAT = "%Y-%m-%dT%H:%M"


def _agent(request: HttpRequest) -> Agent:
    return request.agent  # type: ignore[attr-defined, no-any-return]


def find_ticket(request: HttpRequest, number: int) -> Ticket:
    """Writers also reach trashed tickets (to restore them); everyone else gets 404 for those (and for spam)."""
    return get_ticket_for_agent(_agent(request), number, include_trashed=True)


def page_context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    agent = _agent(request)
    page = load_ticket_page(ticket=ticket, agent=agent)
    can_change = agent.can_write and ticket.deleted_at is None and ticket.merged_into_id is None
    return {
        "page": page,
        "ticket": ticket,
        "me": agent,
        "can_change": can_change,
        "can_reply": can_change,
        "can_note": agent.can_add_notes and ticket.deleted_at is None and ticket.merged_into_id is None,
        "is_follower": any(f.pk == agent.pk for f in page.followers),
        "due_at_value": _due_at_value(ticket.due_at),
        "replying": False,
        "present": page.present,
        "seen_version": ticket.version,
        "stale": False,
        "priorities": Priority.choices,
        "request_types": RequestType.choices,
        "max_upload_bytes": settings.DESKLOOP_ATTACHMENT_MAX_BYTES,
        # What the apps above tickets add to the page (tickets.page_panels).
        "panels": panels_for_page(ticket=ticket, agent=agent),
        **extra,
    }


def _due_at_value(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime(DUE_AT_FORMAT) if value else ""


def refresh(
    request: HttpRequest, ticket: Ticket, regions: set[str], *, status: int = 200, **extra: Any
) -> HttpResponse:
    """Out-of-band swaps of the named regions (header, conversation, composer, properties, followers, history,
    presence, errors)."""
    return render(
        request, REFRESH_TEMPLATE, {**page_context(request, ticket, **extra), "regions": regions}, status=status
    )


def domain_error(request: HttpRequest, ticket: Ticket, refused: Refusal, *, region: str, **extra: Any) -> HttpResponse:
    """Show a refused change next to the control that made it; nothing else on the page changes."""
    if not is_htmx(request):
        return refused.redirect(request, "tickets:detail", number=ticket.number)
    return render(
        request,
        REFRESH_TEMPLATE,
        {
            "ticket": ticket,
            "regions": {f"{region}_error"},
            "error": refused.message,
            "stale_error": refused.code == "stale_version",
            **extra,
        },
        status=refused.status,
    )


def done(request: HttpRequest, ticket: Ticket, regions: set[str], **extra: Any) -> HttpResponse:
    if not is_htmx(request):
        return redirect("tickets:detail", number=ticket.number)
    response = refresh(request, ticket, regions, **extra)
    # The layout's counts and notification badge listen for this event, so they refresh without a reload.
    response["HX-Trigger"] = "ticketsChanged"
    return response


@agent_view(roles=ALL_ROLES, description="The ticket page; trashed tickets only for writers")
@require_GET
def ticket_detail(request: AgentRequest, number: int) -> HttpResponse:
    ticket = find_ticket(request, number)
    return render(request, TEMPLATE, page_context(request, ticket))


# --- properties ------------------------------------------------------------------------------------------------


def _scoped(model: Any, workspace_id: int, raw: str, field: str) -> Any:
    if not raw:
        return None
    try:
        pk = int(raw)
    except ValueError as exc:
        raise ValidationFailed(_("%(field)s was not found.") % {"field": field}, field=field) from exc
    found = model.objects.filter(workspace_id=workspace_id, pk=pk).first()
    if found is None:
        raise ValidationFailed(_("%(field)s was not found.") % {"field": field}, field=field)
    return found


def _tag_changes(current: list[str], submitted: str) -> tuple[list[str], list[str]]:
    wanted = {n.strip().lower(): n.strip() for n in submitted.split(",") if n.strip()}
    have = {n.lower(): n for n in current}
    return [n for k, n in wanted.items() if k not in have], [n for k, n in have.items() if k not in wanted]


def _custom_field_values(post: Any, definitions: list[CustomField]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for definition in definitions:
        name = f"cf_{definition.key}"
        if definition.field_type == CustomFieldType.MULTI_CHOICE:
            values[definition.key] = post.getlist(name)
        elif name in post:
            values[definition.key] = post.get(name, "").strip()
    return values


def changes_from_form(ticket: Ticket, post: Any) -> TicketChanges:
    """Read the sidebar form; only fields present in it are changed (the service skips equal values)."""
    wid = ticket.workspace_id
    changes = TicketChanges()
    if "status" in post:
        changes.status = unset_if_none(_scoped(Status, wid, post["status"], "status"))
    if "priority" in post:
        changes.priority = post["priority"]
    if "assignee" in post:
        changes.assignee = _scoped(Agent, wid, post["assignee"], "assignee")
    if "team" in post:
        changes.team = _scoped(Team, wid, post["team"], "team")
    if "product_area" in post:
        changes.product_area = _scoped(ProductArea, wid, post["product_area"], "product_area")
    if "request_type" in post:
        changes.request_type = post["request_type"].strip()
    if "tags" in post:
        current = list(Tag.objects.filter(tickettag__ticket=ticket).values_list("name", flat=True))
        changes.add_tags, changes.remove_tags = _tag_changes(current, post["tags"])
    if "due_at" in post and post["due_at"].strip() != _due_at_value(ticket.due_at):
        raw = post["due_at"].strip()
        changes.due_at = None
        if raw:
            try:
                changes.due_at = timezone.make_aware(dt.datetime.strptime(raw, DUE_AT_FORMAT))
            except ValueError as exc:
                raise ValidationFailed(_("The due date is not a valid date and time."), field="due_at") from exc
    definitions = list(CustomField.objects.filter(workspace_id=wid))
    if definitions:
        changes.custom_fields = _custom_field_values(post, definitions) or UNSET
    return changes


def _expected_version(post: Any) -> int | None:
    try:
        return int(post.get("expected_version", ""))
    except ValueError:
        return None


@agent_view(
    roles=WRITER_ROLES,
    description="Change status, priority, assignee, team, area, request type, tags, fields, due date",
)
@require_POST
def ticket_update(request: AgentRequest, number: int) -> HttpResponse:
    ticket = find_ticket(request, number)
    with refusal() as refused:
        ticket = update_ticket(
            ticket=ticket,
            changes=changes_from_form(ticket, request.POST),
            agent=request.agent,
            expected_version=_expected_version(request.POST),
        )
        ticket = find_ticket(request, number)
        return done(request, ticket, {"header", "properties", "history", "presence"}, saved=True)
    if is_htmx(request) and refused.code != "stale_version":
        # The select still shows what the agent picked ("Solved"); show the status the ticket really has, with the
        # reason. A stale form is left as it is: the agent reloads it (the error says so).
        return refresh(
            request, find_ticket(request, number), {"properties"}, status=refused.status, refused_error=refused.message
        )
    return domain_error(request, ticket, refused, region="properties")


@agent_view(roles=NOTE_ROLES, description="Follow or stop following a ticket")
@require_POST
def ticket_follow(request: AgentRequest, number: int) -> HttpResponse:
    ticket = find_ticket(request, number)
    following = request.POST.get("follow") == "1"
    set_followers(
        ticket=ticket,
        add=[request.agent] if following else [],
        remove=[] if following else [request.agent],
        agent=request.agent,
    )
    return done(request, ticket, {"followers", "history"})


# --- composer ----------------------------------------------------------------------------------------------------


def _incoming_files(request: HttpRequest) -> list[IncomingFile]:
    files = []
    for upload in request.FILES.getlist("attachments"):
        # Checked before reading, so an oversized upload is refused without loading it into memory.
        check_upload_size(upload.name or "", upload.size or 0)
        files.append(
            IncomingFile(filename=upload.name or "", content=upload.read(), content_type=upload.content_type or "")
        )
    return files


def _int_or_zero(raw: str | None) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return 0


@agent_view(roles=NOTE_ROLES, description="Send a reply (writers) or an internal note (writers, light agents)")
@require_POST
def ticket_compose(request: AgentRequest, number: int) -> HttpResponse:
    ticket = find_ticket(request, number)
    post = request.POST
    kind = ComposerKind.NOTE if post.get("kind") == "note" else ComposerKind.REPLY
    with refusal() as refused:
        unseen = presence.messages_since(
            ticket=ticket, agent=request.agent, after_id=_int_or_zero(post.get("last_message_id"))
        )
        if unseen and post.get("confirm_collision") != "1":
            return domain_error(
                request,
                ticket,
                Refusal(Conflict(_("Someone else wrote on this ticket since you opened it."), code="collision")),
                region="composer",
                unseen=unseen,
            )
        macro_id = _int_or_zero(post.get("macro_id"))
        send_from_composer(
            ticket=ticket,
            agent=request.agent,
            kind=kind,
            body_text=post.get("body", ""),
            attachments=_incoming_files(request),
            status=_scoped(Status, ticket.workspace_id, post.get("status_after", ""), "status"),
            macro=get_macro_for_agent(request.agent, macro_id) if macro_id else None,
        )
        ticket = find_ticket(request, number)
        return done(request, ticket, {"header", "conversation", "composer", "properties", "history", "presence"})
    return domain_error(request, ticket, refused, region="composer")


@agent_view(roles=NOTE_ROLES, description="A macro's reply text rendered for this ticket, for the composer")
@require_GET
def ticket_macro(request: AgentRequest, number: int, macro_id: int) -> HttpResponse:
    ticket = find_ticket(request, number)
    try:
        macro: Macro = get_macro_for_agent(request.agent, macro_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    with refusal() as refused:
        body = render_macro_body(macro=macro, ticket=ticket, agent=request.agent)
        return JsonResponse({"id": macro.pk, "name": macro.name, "body": body, "has_actions": bool(macro.actions)})
    return JsonResponse({"error": refused.message}, status=refused.status)


# --- presence ----------------------------------------------------------------------------------------------------


@agent_view(roles=ALL_ROLES, description="Collision notice heart-beat: who else is viewing or replying")
@require_POST
def ticket_presence(request: AgentRequest, number: int) -> HttpResponse:
    ticket = find_ticket(request, number)
    if request.POST.get("leave") == "1":
        presence.leave(ticket=ticket, agent=request.agent)
        return HttpResponse(status=204)
    replying = request.POST.get("replying") == "1" and request.agent.can_add_notes
    presence.heartbeat(ticket=ticket, agent=request.agent, is_replying=replying)
    seen_version = _int_or_zero(request.POST.get("version")) or ticket.version
    return render(
        request,
        REFRESH_TEMPLATE,
        {
            "ticket": ticket,
            "regions": {"presence"},
            "present": presence.others_present(ticket=ticket, agent=request.agent),
            "seen_version": seen_version,
            "replying": replying,
            "stale": ticket.version > seen_version,
        },
    )
