"""The inbox, search and notifications screens (server-rendered; htmx swaps parts of them in place).

An htmx request that targets the results region gets only that partial; everything else gets the full page,
so every URL works without JavaScript and can be bookmarked or shared.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ALL_ROLES, WRITER_ROLES
from deskloop.core.errors import PermissionDenied, ValidationFailed
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal
from deskloop.tickets import search
from deskloop.tickets.inbox import InboxView
from deskloop.tickets.services.bulk import BulkChange, bulk_update_tickets
from deskloop.tickets.services.notification_reads import (
    mark_notifications_read,
    notifications_for,
    unread_notification_count,
)
from deskloop.tickets.services.saved_views import create_saved_view, delete_saved_view, get_saved_view_for_agent
from deskloop.tickets.views.inbox_page import (
    PAGE_SIZE,
    SEARCH_PAGE_SIZE,
    InboxQuery,
    load_inbox_page,
    load_search_page,
    load_sidebar,
    organization_options,
)

RESULTS_TARGET = "inbox-results"
TICKETS_CHANGED = "ticketsChanged"


def _wants_results_only(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request and htmx.target == RESULTS_TARGET


def _query_or_error(
    params: QueryDict, *, page_size: int = PAGE_SIZE, default_view: str = InboxView.ALL
) -> tuple[InboxQuery, str]:
    try:
        return InboxQuery.from_querydict(params, page_size=page_size, default_view=default_view), ""
    except ValidationFailed as invalid:
        return InboxQuery(page_size=page_size), invalid.message


def _render_inbox(
    request: AgentRequest, query: InboxQuery, error: str = "", status: int = 200, notice: str = ""
) -> HttpResponse:
    try:
        page = load_inbox_page(agent=request.agent, query=query)
    except PermissionDenied as refused:
        raise HttpForbidden(refused.message) from refused
    except ValidationFailed as invalid:
        # A stale cursor or a bad filter value: show the first page of the plain view and say what was wrong.
        page = load_inbox_page(agent=request.agent, query=InboxQuery())
        error, status = invalid.message, 400
    template = "tickets/inbox.html#results" if _wants_results_only(request) else "tickets/inbox.html"
    if status != 200 and is_htmx(request):
        status = 200  # htmx only swaps successful responses; the message is in the partial
    return render(request, template, {"page": page, "error": error, "notice": notice}, status=status)


@agent_view(ALL_ROLES, description="The inbox: views with live counts, filters, sorting, keyset pages")
@require_GET
def inbox(request: AgentRequest) -> HttpResponse:
    # The inbox root opens the agent's chosen start view; a link naming a view (?view=all) opens that one.
    query, error = _query_or_error(request.GET, default_view=request.agent.start_view or InboxView.DEFAULT_START)
    return _render_inbox(request, query, error, status=400 if error else 200)


@agent_view(ALL_ROLES, description="The column of inbox views with live counts (polled by htmx)")
@require_GET
def inbox_sidebar(request: AgentRequest) -> HttpResponse:
    view = request.GET.get("view") or request.agent.start_view or InboxView.DEFAULT_START
    saved = request.GET.get("saved", "")
    sidebar = load_sidebar(
        request.agent,
        active_view=view if view in InboxView.ALL_VIEWS else InboxView.ALL,
        active_saved_view_id=int(saved) if saved.isdigit() else None,
    )
    return render(request, "tickets/inbox.html#sidebar", {"sidebar": sidebar})


@agent_view(ALL_ROLES, description="The organization filter's choices matching what the agent types (htmx)")
@require_GET
def organization_filter_options(request: AgentRequest) -> HttpResponse:
    selected_ids = [int(v) for v in request.GET.getlist("org") if v.isdigit()]
    selected, matches = organization_options(
        agent=request.agent, find=request.GET.get("find", ""), selected_ids=selected_ids
    )
    return render(
        request,
        "tickets/_organization_options.html",
        {"selected": selected, "matches": matches, "find": request.GET.get("find", "").strip()},
    )


@agent_view(ALL_ROLES, description="Unread notifications and my open tickets, for the top bar (polled)")
@require_GET
def badges(request: AgentRequest) -> HttpResponse:
    return render(
        request, "tickets/_badges.html", {"unread_count": unread_notification_count(request.agent), "oob": True}
    )


def _bulk_change(params: QueryDict) -> BulkChange:
    action = params.get("action", "")
    change = BulkChange()
    if action == "assign":
        assignee = params.get("assignee", "")
        if assignee == "none":
            change.unassign = True
        elif assignee.isdigit():
            change.assignee_id = int(assignee)
    elif action == "status":
        status = params.get("status", "")
        if status.isdigit():
            change.status_id = int(status)
    elif action == "tag":
        change.add_tags = [params.get("tag", "")]
    elif action == "untag":
        change.remove_tags = [params.get("tag", "")]
    return change


@agent_view(WRITER_ROLES, description="Bulk assign / set status / tag the selected tickets")
@require_POST
def bulk(request: AgentRequest) -> HttpResponse:
    return_params = QueryDict(request.POST.get("return_to", ""))
    query, _error = _query_or_error(return_params)
    ticket_ids = [int(v) for v in request.POST.getlist("ticket") if v.isdigit()]
    with refusal() as refused:
        result = bulk_update_tickets(agent=request.agent, ticket_ids=ticket_ids, change=_bulk_change(request.POST))
    if refused:
        if not is_htmx(request):
            return refused.redirect(request, f"{reverse('tickets:inbox')}?{query.querystring()}")
        return _render_inbox(request, query, refused.message)
    notice = ngettext(
        "Updated %(changed)d of %(selected)d selected ticket.",
        "Updated %(changed)d of %(selected)d selected tickets.",
        result.selected,
    ) % {"changed": result.changed, "selected": result.selected}
    if not is_htmx(request):
        messages.success(request, notice)
        return redirect(f"{reverse('tickets:inbox')}?{query.querystring()}")
    # The list keeps the agent's filters but starts again from the first page: rows moved.
    query.cursor = ""
    response = _render_inbox(request, query, notice=notice)
    response["HX-Trigger"] = TICKETS_CHANGED
    return response


@agent_view(ALL_ROLES, description="Save the current filters as a personal (or, for admins, shared) view")
@require_POST
def save_view(request: AgentRequest) -> HttpResponse:
    query, error = _query_or_error(QueryDict(request.POST.get("querystring", "")))
    back = f"{reverse('tickets:inbox')}?{query.querystring()}"
    if error:
        messages.error(request, error)
        return redirect(back)
    query.saved_view_id = None
    with refusal() as refused:
        view = create_saved_view(
            agent=request.agent,
            name=request.POST.get("name", ""),
            ticket_filter=query.ticket_filter,
            sort=query.sort,
            shared=request.POST.get("shared") == "on",
        )
        messages.success(request, _("Saved the view “%(name)s”.") % {"name": view.name})
        query.saved_view_id = view.pk
        return redirect(f"{reverse('tickets:inbox')}?{query.querystring()}")
    return refused.redirect(request, back)


@agent_view(ALL_ROLES, description="Open a saved view (its filters become the URL)")
@require_GET
def open_view(request: AgentRequest, view_id: int) -> HttpResponse:
    view = get_saved_view_for_agent(request.agent, view_id)
    return redirect(f"{reverse('tickets:inbox')}?{InboxQuery.from_saved_view(view).querystring()}")


@agent_view(ALL_ROLES, description="Delete one's own saved view, or a shared one as an admin")
@require_POST
def delete_view(request: AgentRequest, view_id: int) -> HttpResponse:
    view = get_saved_view_for_agent(request.agent, view_id)
    with refusal() as refused:
        delete_saved_view(agent=request.agent, view=view)
        messages.success(request, _("Deleted the view “%(name)s”.") % {"name": view.name})
        return redirect("tickets:inbox")
    return refused.redirect(request, "tickets:inbox")


@agent_view(ALL_ROLES, description="Full-text search with the inbox filters; numbers and addresses jump")
@require_GET
def search_view(request: AgentRequest) -> HttpResponse:
    query, error = _query_or_error(request.GET, page_size=SEARCH_PAGE_SIZE)
    words = query.ticket_filter.query
    if words and not error and "offset" not in request.GET and not _wants_results_only(request):
        target = search.jump_target(workspace_id=request.agent.workspace_id, query=words)
        if target is not None and target.kind == "ticket":
            return redirect("tickets:detail", number=target.ticket_number)
        if target is not None and target.kind == "contact":
            params = urlencode([("view", InboxView.ALL), ("requester", str(target.contact_id))])
            return redirect(f"{reverse('tickets:inbox')}?{params}")
    status = 400 if error else 200
    try:
        page = load_search_page(agent=request.agent, query=query)
    except PermissionDenied as refused:
        raise HttpForbidden(refused.message) from refused
    except ValidationFailed as invalid:
        error, status = invalid.message, 400
        page = load_search_page(agent=request.agent, query=InboxQuery(page_size=SEARCH_PAGE_SIZE))
    if is_htmx(request):
        status = 200
    template = "tickets/search.html#results" if _wants_results_only(request) else "tickets/search.html"
    context = {"page": page, "error": error, "search_words": page.query.ticket_filter.query}
    return render(request, template, context, status=status)


@agent_view(ALL_ROLES, description="The agent's notifications (mentions, assignments)")
@require_GET
def notifications(request: AgentRequest) -> HttpResponse:
    return render(
        request,
        "tickets/notifications.html",
        {"notifications": notifications_for(request.agent), "unread_count": unread_notification_count(request.agent)},
    )


@agent_view(ALL_ROLES, description="Mark one or all of the agent's notifications read")
@require_POST
def notifications_read(request: AgentRequest) -> HttpResponse:
    ids = [int(v) for v in request.POST.getlist("notification") if v.isdigit()]
    mark_notifications_read(agent=request.agent, notification_ids=ids or None)
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(next_url)
    return redirect("tickets:notifications")
