"""The reads behind the inbox and search screens, and how their filters travel in the query string.

A filter lives in the URL (``?view=all&status=3&tag=vip&sort=-created_at``) so an agent can bookmark or share
exactly what they are looking at; ``InboxQuery`` turns that query string into a TicketFilter and back. The page
loaders fetch everything a screen shows in a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.db.models import Prefetch, prefetch_related_objects
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.models import Agent, Team
from deskloop.core.errors import ValidationFailed
from deskloop.core.when import moment
from deskloop.customers.models import Contact, ContactEmail, Organization
from deskloop.tickets import search
from deskloop.tickets.inbox import (
    DEFAULT_SORT,
    MAX_PAGE_SIZE,
    InboxView,
    TicketFilter,
    check_view_allowed,
    filter_tickets,
    paginate,
    view_counts,
)
from deskloop.tickets.inbox_links import ShownLink, inbox_links_for
from deskloop.tickets.models import Channel, Priority, ProductArea, SavedView, Status, StatusCategory, Tag, Ticket
from deskloop.tickets.queries import spam_filter_verdicts
from deskloop.tickets.services.saved_views import visible_saved_views
from deskloop.tickets.sla_badge import NO_SLA, SlaBadge, SlaClock, sla_badge, sla_clock
from deskloop.tickets.views.ticket_page import spam_verdict_text

PAGE_SIZE = 50
BIGGEST_ID = 2**63 - 1
SEARCH_PAGE_SIZE = 25
# The tag drop-down lists this many tags; a workspace with more filters by the ones it names.
OPTION_LIMIT = 500
# The organization filter is a drop-down filled as the agent types into its finder: a workspace has thousands of
# customer companies, and listing them all (or the first 500 by name) made every inbox page slow and still hid most.
ORGANIZATION_MATCHES = 50

NOT_A_NUMBER = gettext_noop("The filter “%(name)s” needs a number, not “%(value)s”.")
NOT_A_DATE = gettext_noop("The filter “%(name)s” needs a date like 2025-03-31, not “%(value)s”.")

# Query-string parameter -> TicketFilter field, for the list-valued filters.
ID_PARAMS = {
    "status": "status_ids",
    "team": "team_ids",
    "area": "product_area_ids",
    "org": "organization_ids",
    "requester": "requester_ids",
}
TEXT_PARAMS = {"category": "status_categories", "tag": "tag_names", "channel": "channels", "priority": "priorities"}


def _view_labels() -> dict[str, str]:
    return {
        InboxView.MINE: _("My tickets"),
        InboxView.UNASSIGNED: _("Unassigned"),
        InboxView.MY_TEAMS: _("My teams"),
        InboxView.UNSOLVED: _("All unsolved"),
        InboxView.ALL: _("All tickets"),
        InboxView.PENDING: _("Pending"),
        InboxView.SOLVED: _("Solved"),
        InboxView.TRASH: _("Trash"),
        InboxView.SPAM: _("Spam"),
    }


def start_view_choices(agent: Agent) -> list[tuple[str, str]]:
    """The built-in views an agent may open the inbox with (Trash and Spam are places to visit, not to start)."""
    labels = _view_labels()
    return [(k, labels[k]) for k in InboxView.ALL_VIEWS if k not in (InboxView.TRASH, InboxView.SPAM)]


def _sort_labels() -> dict[str, str]:
    return {
        "-updated_at": _("Recently updated"),
        "updated_at": _("Least recently updated"),
        "-created_at": _("Newest first"),
        "created_at": _("Oldest first"),
        "-number": _("Highest number first"),
        "number": _("Lowest number first"),
    }


def _choices(choices: Iterable[tuple[str, Any]]) -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in choices]


def _int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValidationFailed(_(NOT_A_NUMBER) % {"name": name, "value": value[:40]}, field=name) from None
    # Past 64 bits no id, size or offset exists, and the database cannot take it as a parameter.
    if number < 0 or number > BIGGEST_ID:
        raise ValidationFailed(_(NOT_A_NUMBER) % {"name": name, "value": value[:40]}, field=name)
    return number


def _date(name: str, value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_(NOT_A_DATE) % {"name": name, "value": value[:40]}, field=name) from None


@dataclass
class InboxQuery:
    """What the inbox URL asks for: a filter, a sort order, a page cursor and (for search) the words."""

    ticket_filter: TicketFilter = field(default_factory=TicketFilter)
    sort: str = DEFAULT_SORT
    cursor: str = ""
    saved_view_id: int | None = None
    page_size: int = PAGE_SIZE
    offset: int = 0

    @classmethod
    def from_querydict(
        cls, params: QueryDict, *, default_view: str = InboxView.ALL, page_size: int = PAGE_SIZE
    ) -> InboxQuery:
        """Read the query string; a malformed value raises ValidationFailed with a message naming it."""
        f = TicketFilter(view=params.get("view") or default_view)
        for param, attribute in ID_PARAMS.items():
            setattr(f, attribute, [_int(param, v) for v in params.getlist(param) if v != ""])
        for param, attribute in TEXT_PARAMS.items():
            setattr(f, attribute, [v.strip() for v in params.getlist(param) if v.strip()])
        for value in params.getlist("assignee"):
            if value == "none":
                f.unassigned = True
            elif value:
                f.assignee_ids.append(_int("assignee", value))
        f.created_from = _date("created_from", params.get("created_from", "").strip())
        f.created_to = _date("created_to", params.get("created_to", "").strip())
        f.query = " ".join(params.get("q", "").split())
        saved = params.get("saved", "")
        size = params.get("size", "")
        offset = params.get("offset", "")
        return cls(
            ticket_filter=f,
            sort=params.get("sort") or DEFAULT_SORT,
            cursor=params.get("cursor", ""),
            saved_view_id=_int("saved", saved) if saved else None,
            page_size=min(max(_int("size", size), 1), MAX_PAGE_SIZE) if size else page_size,
            offset=_int("offset", offset) if offset else 0,
        )

    @classmethod
    def from_saved_view(cls, view: SavedView) -> InboxQuery:
        return cls(ticket_filter=TicketFilter.from_json(dict(view.filters)), sort=view.sort, saved_view_id=view.pk)

    def params(self, *, paging: bool = False) -> list[tuple[str, str]]:
        """The query string pairs for this query (without the page cursor unless ``paging``)."""
        f = self.ticket_filter
        pairs: list[tuple[str, str]] = [("view", f.view)]
        if f.query:
            pairs.append(("q", f.query))
        for param, attribute in ID_PARAMS.items():
            pairs += [(param, str(v)) for v in getattr(f, attribute)]
        for param, attribute in TEXT_PARAMS.items():
            pairs += [(param, str(v)) for v in getattr(f, attribute)]
        pairs += [("assignee", str(v)) for v in f.assignee_ids]
        if f.unassigned:
            pairs.append(("assignee", "none"))
        if f.created_from:
            pairs.append(("created_from", f.created_from.isoformat()))
        if f.created_to:
            pairs.append(("created_to", f.created_to.isoformat()))
        if self.sort != DEFAULT_SORT:
            pairs.append(("sort", self.sort))
        if self.saved_view_id is not None:
            pairs.append(("saved", str(self.saved_view_id)))
        if paging and self.cursor:
            pairs.append(("cursor", self.cursor))
        return pairs

    def querystring(self, **override: Any) -> str:
        """``view=all&tag=vip...`` for this query, optionally changed (``cursor=...``, ``offset=...``)."""
        pairs = self.params()
        for key, value in override.items():
            if value is not None and value != "":
                pairs.append((key, str(value)))
        return urlencode(pairs)

    def without(self, param: str, value: str) -> str:
        """The query string with one filter value removed (for the "×" on an active-filter chip)."""
        pairs = [(k, v) for k, v in self.params() if not (k == param and v == value) and k != "saved"]
        return urlencode(pairs)

    @property
    def has_filters(self) -> bool:
        f = replace(self.ticket_filter, view=InboxView.ALL, query="")
        return bool(f.to_json().keys() - {"view"})


@dataclass(frozen=True)
class FilterChip:
    label: str
    value: str
    remove_querystring: str


@dataclass
class FilterOptions:
    """Everything the filter form and the bulk bar offer, in the agent's workspace."""

    statuses: list[Status]
    agents: list[Agent]
    teams: list[Team]
    tags: list[Tag]
    product_areas: list[ProductArea]
    organizations: list[Organization]
    channels: list[tuple[str, str]] = field(default_factory=lambda: _choices(Channel.choices))
    priorities: list[tuple[str, str]] = field(default_factory=lambda: _choices(Priority.choices))
    categories: list[tuple[str, str]] = field(default_factory=lambda: _choices(StatusCategory.choices))
    sorts: list[tuple[str, str]] = field(default_factory=lambda: list(_sort_labels().items()))

    @property
    def active_agents(self) -> list[Agent]:
        return [a for a in self.agents if a.is_active]


@dataclass(frozen=True)
class ViewLink:
    key: str
    label: str
    count: int | None


@dataclass(frozen=True)
class SavedViewLink:
    view: SavedView
    querystring: str


@dataclass
class Sidebar:
    """The column of views with their live counts, and the saved views.

    Without ``counts_loaded`` the views carry no counts: the full inbox page renders them that way and the
    sidebar fetches its counts from the sidebar endpoint right after load (they are a pass over every live ticket).
    """

    views: list[ViewLink]
    saved_views: list[SavedViewLink]
    active_view: str
    active_saved_view_id: int | None
    counts_loaded: bool = True
    # Pages of other apps for the agent's role (inbox_links): refused mail for admins.
    more: list[ShownLink] = field(default_factory=list)


@dataclass(frozen=True)
class InboxRow:
    """One ticket as its inbox row shows it, worked out once in Python.

    The row loop is the inbox's hot path: resolving model attributes, lazy choice labels, URL reversals and three
    date filters per cell took most of the page's render time (BENCHMARKS.md); the template now only places these.
    """

    ticket_id: int
    number: int
    subject: str
    detail_url: str
    tag_names: list[str]
    requester: str
    organization: str
    status_name: str
    status_category: str
    priority: str
    priority_label: str
    assignee: str
    team: str
    updated_iso: str
    updated_full: str
    updated_short: str
    select_label: str
    # In the Spam view: why the spam filter put the ticket there ("" when an agent did).
    spam_reason: str = ""
    # Time left to the ticket's earliest SLA deadline, breached, or paused (sla.js counts it down).
    sla: SlaBadge = NO_SLA


def inbox_rows(
    tickets: Iterable[Ticket], *, spam_verdicts: Mapping[int, dict[str, Any]] | None = None
) -> list[InboxRow]:
    """The rows for tickets loaded with status, requester (and emails), organization, assignee, team and tags;
    ``spam_verdicts`` (queries.spam_filter_verdicts of the same tickets) gives the Spam view's reasons."""
    verdicts = spam_verdicts or {}
    priority_labels = {value: str(label) for value, label in Priority.choices}
    rows = []
    now = timezone.now()
    for ticket in tickets:
        # The agent's time zone and language are active for the request (AgentLocaleMiddleware).
        updated = moment(ticket.updated_at)
        assignee = ticket.assignee
        team = ticket.team
        organization = ticket.organization
        rows.append(
            InboxRow(
                ticket_id=ticket.pk,
                number=ticket.number,
                subject=ticket.subject,
                detail_url=reverse("tickets:detail", kwargs={"number": ticket.number}),
                tag_names=[tag.name for tag in ticket.tags.all()],
                requester=ticket.requester.display_name,
                organization=organization.name if organization is not None else "",
                status_name=ticket.status.localized_name(),
                status_category=ticket.status.category,
                priority=ticket.priority,
                priority_label=priority_labels.get(ticket.priority, ticket.priority),
                assignee=assignee.name if assignee is not None else "",
                team=team.localized_name() if team is not None else "",
                updated_iso=updated.iso,
                updated_full=updated.exact,
                updated_short=updated.text,
                select_label=_("Select ticket #%(number)s") % {"number": ticket.number},
                spam_reason=_spam_reason(verdicts.get(ticket.pk)),
                sla=sla_badge(ticket.sla_due_at, ticket.sla_paused, now),
            )
        )
    return rows


def _spam_reason(verdict: dict[str, Any] | None) -> str:
    if verdict is None:
        return ""
    return _("In Spam because %(reason)s") % {"reason": spam_verdict_text(verdict)}


@dataclass
class InboxPage:
    query: InboxQuery
    tickets: list[Ticket]
    rows: list[InboxRow]
    next_cursor: str | None
    sidebar: Sidebar
    options: FilterOptions
    chips: list[FilterChip]
    title: str
    saved_view: SavedView | None = None

    @property
    def sla_clock(self) -> SlaClock:
        return sla_clock(timezone.now())

    @property
    def next_querystring(self) -> str:
        return self.query.querystring(cursor=self.next_cursor)

    @property
    def is_first_page(self) -> bool:
        return not self.query.cursor


@dataclass
class SearchPage:
    query: InboxQuery
    hits: list[search.SearchHit]
    has_more: bool
    options: FilterOptions
    chips: list[FilterChip]

    @property
    def next_querystring(self) -> str:
        return self.query.querystring(offset=self.query.offset + self.query.page_size)

    @property
    def previous_querystring(self) -> str | None:
        if self.query.offset <= 0:
            return None
        return self.query.querystring(offset=max(self.query.offset - self.query.page_size, 0) or None)


def _ticket_relations() -> list[Any]:
    return [
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch("requester__emails", queryset=ContactEmail.objects.order_by("-is_primary", "id")),
    ]


def _filter_options(agent: Agent, ticket_filter: TicketFilter) -> FilterOptions:
    wid = agent.workspace_id
    # Only the organizations the filter names: the finder (``organization_options``) offers the others on demand.
    organizations = _selected_organizations(wid, ticket_filter.organization_ids)
    return FilterOptions(
        statuses=list(Status.objects.filter(workspace_id=wid).order_by("position", "id")),
        agents=list(Agent.objects.filter(workspace_id=wid).select_related("user").order_by("display_name", "id")),
        teams=list(Team.objects.filter(workspace_id=wid).order_by("name")),
        tags=list(Tag.objects.filter(workspace_id=wid).order_by("name")[:OPTION_LIMIT]),
        product_areas=list(ProductArea.objects.filter(workspace_id=wid).order_by("path", "id")),
        organizations=organizations,
    )


def _selected_organizations(workspace_id: int, organization_ids: Iterable[int]) -> list[Organization]:
    wanted = set(organization_ids)
    if not wanted:
        return []
    return list(
        Organization.objects.filter(workspace_id=workspace_id, pk__in=wanted).only("id", "name").order_by("name", "id")
    )


def organization_options(
    *, agent: Agent, find: str, selected_ids: Iterable[int]
) -> tuple[list[Organization], list[Organization]]:
    """The organization filter's choices: the ones already chosen, then up to ORGANIZATION_MATCHES of the agent's
    workspace whose name contains ``find`` (all of them by name when ``find`` is empty), alphabetically."""
    selected = _selected_organizations(agent.workspace_id, selected_ids)
    matches = Organization.objects.filter(workspace_id=agent.workspace_id).exclude(pk__in=[o.pk for o in selected])
    words = " ".join(find.split())[:100]
    if words:
        matches = matches.filter(name__icontains=words)
    return selected, list(matches.only("id", "name").order_by("name", "id")[:ORGANIZATION_MATCHES])


def _chips(agent: Agent, query: InboxQuery, options: FilterOptions) -> list[FilterChip]:
    """The active filters as removable chips, named the way the agent knows them."""
    f = query.ticket_filter
    statuses = {s.pk: s.localized_name() for s in options.statuses}
    agents = {a.pk: a.name for a in options.agents}
    teams = {t.pk: t.localized_name() for t in options.teams}
    areas = {a.pk: a.localized_path() for a in options.product_areas}
    orgs = {o.pk: o.name for o in options.organizations}
    categories = dict(StatusCategory.choices)
    channels = dict(Channel.choices)
    priorities = dict(Priority.choices)
    requesters: dict[int, str] = {}
    if f.requester_ids:
        requesters = {
            c.pk: c.display_name
            for c in Contact.objects.filter(workspace_id=agent.workspace_id, pk__in=f.requester_ids).prefetch_related(
                "emails"
            )
        }
    chips: list[FilterChip] = []

    def add(param: str, label: str, values: Iterable[Any], names: Callable[[Any], str]) -> None:
        for value in values:
            chips.append(FilterChip(label, names(value), query.without(param, str(value))))

    add("status", _("Status"), f.status_ids, lambda v: statuses.get(v, f"#{v}"))
    add("category", _("Status category"), f.status_categories, lambda v: str(categories.get(v, v)))
    add("assignee", _("Assignee"), f.assignee_ids, lambda v: agents.get(v, f"#{v}"))
    if f.unassigned:
        add("assignee", _("Assignee"), ["none"], lambda v: _("Unassigned"))
    add("team", _("Team"), f.team_ids, lambda v: teams.get(v, f"#{v}"))
    add("tag", _("Tag"), f.tag_names, str)
    add("area", _("Product area"), f.product_area_ids, lambda v: areas.get(v, f"#{v}"))
    add("org", _("Organization"), f.organization_ids, lambda v: orgs.get(v, f"#{v}"))
    add("requester", _("Requester"), f.requester_ids, lambda v: requesters.get(v, f"#{v}"))
    add("channel", _("Channel"), f.channels, lambda v: str(channels.get(v, v)))
    add("priority", _("Priority"), f.priorities, lambda v: str(priorities.get(v, v)))
    if f.created_from:
        add("created_from", _("Created from"), [f.created_from.isoformat()], str)
    if f.created_to:
        add("created_to", _("Created until"), [f.created_to.isoformat()], str)
    return chips


def load_sidebar(
    agent: Agent, *, active_view: str, active_saved_view_id: int | None, with_counts: bool = True
) -> Sidebar:
    labels = _view_labels()
    keys = [v for v in InboxView.ALL_VIEWS if agent.can_write or v not in (InboxView.TRASH, InboxView.SPAM)]
    counts: dict[str, int] = {}
    if with_counts:
        counts = view_counts(agent)
        for key in set(keys) - counts.keys():
            counts[key] = filter_tickets(agent, TicketFilter(view=key)).count()
    return Sidebar(
        views=[ViewLink(key=k, label=labels[k], count=counts.get(k)) for k in keys],
        saved_views=[
            SavedViewLink(view=v, querystring=InboxQuery.from_saved_view(v).querystring())
            for v in visible_saved_views(agent)
        ],
        active_view=active_view,
        active_saved_view_id=active_saved_view_id,
        counts_loaded=with_counts,
        more=inbox_links_for(agent),
    )


def load_inbox_page(*, agent: Agent, query: InboxQuery) -> InboxPage:
    """One page of the inbox with everything around it but the view counts (the sidebar fetches those itself, see
    ``Sidebar``). Raises ValidationFailed for a bad filter or cursor."""
    f = query.ticket_filter
    tickets = (
        filter_tickets(agent, f)  # checks the view is the agent's to see
        .select_related("status", "requester", "organization", "assignee__user", "team")
        .prefetch_related(*_ticket_relations())
    )
    page = paginate(tickets, sort=query.sort, cursor=query.cursor or None, size=query.page_size)
    sidebar = load_sidebar(agent, active_view=f.view, active_saved_view_id=query.saved_view_id, with_counts=False)
    saved_view = next((s.view for s in sidebar.saved_views if s.view.pk == query.saved_view_id), None)
    options = _filter_options(agent, f)
    # Only the Spam view says why each ticket is there: one more query for the page, none per row.
    verdicts = spam_filter_verdicts(t.pk for t in page.tickets) if f.view == InboxView.SPAM else None
    return InboxPage(
        query=query,
        tickets=page.tickets,
        rows=inbox_rows(page.tickets, spam_verdicts=verdicts),
        next_cursor=page.next_cursor,
        sidebar=sidebar,
        options=options,
        chips=_chips(agent, query, options),
        title=saved_view.name if saved_view else _view_labels()[f.view],
        saved_view=saved_view,
    )


def load_search_page(*, agent: Agent, query: InboxQuery) -> SearchPage:
    """Ranked search hits for the query's words within its filters, each with a highlighted snippet."""
    check_view_allowed(agent, query.ticket_filter.view)
    results = search.search_tickets(
        agent=agent,
        query=query.ticket_filter.query,
        ticket_filter=replace(query.ticket_filter, query=""),
        limit=query.page_size,
        offset=query.offset,
    )
    prefetch_related_objects([hit.ticket for hit in results.hits], *_ticket_relations())
    options = _filter_options(agent, query.ticket_filter)
    return SearchPage(
        query=query,
        hits=results.hits,
        has_more=results.has_more,
        options=options,
        chips=_chips(agent, query, options),
    )
