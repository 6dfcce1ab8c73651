"""The inbox as Acme's team uses it: views with counts, filters in the URL, keyset pages, bulk actions,
saved views, search and notifications -- and never a glimpse of Umbrella's tickets."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.models import Organization
from deskloop.customers.services import create_organization, find_or_create_contact
from deskloop.tickets.models import (
    CustomField,
    EventKind,
    Notification,
    ProductArea,
    SavedView,
    StatusCategory,
    Ticket,
    TicketEvent,
)
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.messages import add_internal_note
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket

HTMX = {"HX-Request": "true", "HX-Target": "inbox-results"}


def numbers(response: object) -> list[int]:
    """Ticket numbers of the rows shown, in order."""
    html = response.content.decode()  # type: ignore[attr-defined]
    return [int(n) for n in re.findall(r'data-ticket-number="(\d+)"', html)]


def count_of(response: object, view: str) -> int:
    html = response.content.decode()  # type: ignore[attr-defined]
    match = re.search(rf'data-count="{view}">(\d+)<', html)
    assert match is not None, f"no count for {view}"
    return int(match.group(1))


@pytest.fixture
def queue(acme: Cast) -> dict[str, Ticket]:
    """Acme's inbox besides the VAT ticket (#1): Dmitri of Initech writes about exports, the SSO ticket is
    Maria's, the refund is pending with Billing, and an old phone ticket was solved."""
    initech = create_organization(workspace=acme.workspace, name="Initech", domains=["initech.example"])
    dmitri = find_or_create_contact(workspace=acme.workspace, email="dmitri@initech.example", name="Dmitri Ivanov")
    area = ProductArea.objects.create(workspace=acme.workspace, name="Reports", path="Reports")
    export = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(
            requester=dmitri,
            subject="Cannot export the quarterly report",
            body_text="The CSV export button spins forever.",
            channel="web",
            priority="high",
            tags=["reports"],
            product_area=area,
        ),
    )[0]
    sso = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(
            requester=acme.customer,
            subject="SSO login fails",
            body_text="SAML says the certificate expired.",
            assignee=acme.agent,
            team=acme.support,
            tags=["sso", "enterprise"],
        ),
    )[0]
    refund = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(
            requester=acme.customer,
            subject="Refund a duplicate charge",
            body_text="We were charged twice in May.",
            team=acme.billing,
            tags=["billing"],
        ),
    )[0]
    update_ticket(
        ticket=refund,
        changes=TicketChanges(status=default_status(acme.workspace.pk, StatusCategory.PENDING)),
        agent=acme.admin,
    )
    old = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(
            requester=dmitri,
            subject="Phone number change",
            channel="phone",
            created_at=dt.datetime(2024, 1, 10, 9, 0, tzinfo=dt.UTC),
        ),
    )[0]
    update_ticket(
        ticket=old,
        changes=TicketChanges(status=default_status(acme.workspace.pk, StatusCategory.SOLVED)),
        agent=acme.admin,
    )
    assert initech.pk == dmitri.organization_id
    return {"export": export, "sso": sso, "refund": refund, "old": old}


# ---- the list and its views ---------------------------------------------------------------------------------


def test_inbox_lists_the_workspace_tickets_with_what_an_agent_needs(
    acme: Cast, umbrella: Cast, queue: dict[str, Ticket]
) -> None:
    response = signed_in_client(acme.agent).get(reverse("tickets:inbox"), {"view": "all"})
    assert response.status_code == 200
    assert numbers(response) == [5, 4, 3, 2, 1]  # most recently updated first
    html = response.content.decode()
    assert "Cannot export the quarterly report" in html
    assert "Dmitri Ivanov" in html
    assert "Initech" in html
    assert '<span class="assignee">Maria Agent</span>' in html
    assert '<span class="team">Support</span>' in html
    assert '<span class="badge status-pending">Pending</span>' in html
    assert ">enterprise</a>" in html
    assert ">sso</a>" in html
    assert "Umbrella" not in html
    assert "Globex of Umbrella" not in html


def test_updated_time_is_shown_in_the_agents_time_zone(acme: Cast) -> None:
    Ticket.objects.filter(pk=acme.ticket.pk).update(updated_at=dt.datetime(2025, 3, 4, 23, 30, tzinfo=dt.UTC))
    acme.agent.user.time_zone = "Asia/Tokyo"
    acme.agent.user.save()
    html = signed_in_client(acme.agent).get(reverse("tickets:inbox")).content.decode()
    assert '<time datetime="2025-03-05T08:30:00+09:00"' in html
    assert ">March 5, 2025</time>" in html  # another year: the day is enough, the exact time is in the title


def test_each_view_has_its_live_count_and_its_own_tickets(acme: Cast, queue: dict[str, Ticket]) -> None:
    client = signed_in_client(acme.agent)
    response = client.get(reverse("tickets:inbox_sidebar"), {"view": "all"}, headers={"HX-Request": "true"})
    assert {v: count_of(response, v) for v in ("mine", "unassigned", "my_teams", "all", "pending", "solved")} == {
        "mine": 1,
        "unassigned": 2,
        "my_teams": 2,
        "all": 5,
        "pending": 1,
        "solved": 1,
    }
    assert count_of(response, "trash") == 0
    assert count_of(response, "spam") == 0
    assert numbers(client.get(reverse("tickets:inbox"), {"view": "mine"})) == [queue["sso"].number]
    assert numbers(client.get(reverse("tickets:inbox"), {"view": "pending"})) == [queue["refund"].number]
    assert numbers(client.get(reverse("tickets:inbox"), {"view": "solved"})) == [queue["old"].number]


def test_viewers_see_no_trash_or_spam(acme: Cast) -> None:
    client = signed_in_client(acme.viewer)
    html = client.get(reverse("tickets:inbox")).content.decode()
    assert 'data-view="trash"' not in html
    assert 'data-view="spam"' not in html
    assert 'name="ticket"' not in html  # no bulk selection without the right to change tickets
    assert client.get(reverse("tickets:inbox"), {"view": "trash"}).status_code == 403


def test_sidebar_endpoint_refreshes_counts_and_marks_the_current_view(acme: Cast, queue: dict[str, Ticket]) -> None:
    client = signed_in_client(acme.agent)
    update_ticket(ticket=queue["export"], changes=TicketChanges(assignee=acme.agent), agent=acme.admin)
    response = client.get(reverse("tickets:inbox_sidebar"), {"view": "mine"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<nav id="inbox-sidebar"')
    assert count_of(response, "mine") == 2
    assert count_of(response, "unassigned") == 1
    assert re.search(r'data-view="mine" aria-current="page"', html)
    assert 'hx-trigger="every 15s, ticketsChanged from:body"' in html


# ---- filters, sorting, pages --------------------------------------------------------------------------------


def test_filters_come_from_the_query_string(acme: Cast, queue: dict[str, Ticket]) -> None:
    client = signed_in_client(acme.agent)
    inbox = reverse("tickets:inbox")
    pending = default_status(acme.workspace.pk, StatusCategory.PENDING)
    area = queue["export"].product_area
    assert area is not None
    assert numbers(client.get(inbox, {"view": "all", "status": pending.pk})) == [queue["refund"].number]
    assert numbers(client.get(inbox, {"view": "all", "assignee": acme.agent.pk})) == [queue["sso"].number]
    assert numbers(client.get(inbox, {"view": "all", "assignee": "none"})) == [5, 4, 2, 1]
    assert numbers(client.get(inbox, {"view": "all", "team": acme.billing.pk})) == [queue["refund"].number]
    assert numbers(client.get(inbox, {"view": "all", "tag": "SSO"})) == [queue["sso"].number]
    assert numbers(client.get(inbox, {"view": "all", "area": area.pk})) == [queue["export"].number]
    assert numbers(client.get(inbox, {"view": "all", "org": queue["export"].organization_id})) == [5, 2]
    assert numbers(client.get(inbox, {"view": "all", "channel": "phone"})) == [queue["old"].number]
    assert numbers(client.get(inbox, {"view": "all", "priority": "high"})) == [queue["export"].number]
    assert numbers(client.get(inbox, {"view": "all", "created_to": "2024-12-31"})) == [queue["old"].number]
    assert numbers(client.get(inbox, {"view": "all", "created_from": "2025-01-01", "tag": "billing"})) == [
        queue["refund"].number
    ]
    assert numbers(client.get(inbox, {"view": "all", "requester": queue["export"].requester_id})) == [5, 2]


def test_active_filters_show_as_chips_that_remove_themselves(acme: Cast, queue: dict[str, Ticket]) -> None:
    html = (
        signed_in_client(acme.agent)
        .get(reverse("tickets:inbox"), {"view": "all", "tag": "sso", "team": acme.support.pk})
        .content.decode()
    )
    assert '<span class="chip-label">Tag:</span> sso' in html
    assert '<span class="chip-label">Team:</span> Support' in html
    assert f'class="chip-remove" href="/?view=all&amp;team={acme.support.pk}"' in html  # the tag's chip keeps the team
    assert 'class="chip-remove" href="/?view=all&amp;tag=sso"' in html  # the team's chip keeps the tag


def test_a_bad_filter_value_says_what_is_wrong(acme: Cast) -> None:
    response = signed_in_client(acme.agent).get(reverse("tickets:inbox"), {"team": "support"})
    assert response.status_code == 400
    assert "The filter “team” needs a number, not “support”." in response.content.decode()
    response = signed_in_client(acme.agent).get(reverse("tickets:inbox"), {"created_from": "yesterday"})
    assert "The filter “created_from” needs a date like 2025-03-31, not “yesterday”." in response.content.decode()


def test_sorting_and_keyset_pages(acme: Cast) -> None:
    for i in range(54):
        open_ticket(workspace=acme.workspace, ticket=NewTicket(requester=acme.customer, subject=f"Question {i}"))
    client = signed_in_client(acme.agent)
    first = client.get(reverse("tickets:inbox"), {"sort": "number"})
    assert numbers(first) == list(range(1, 51))
    cursor = re.search(r'href="/\?view=unsolved&amp;sort=number&amp;cursor=([\w-]+)" hx-get', first.content.decode())
    assert cursor is not None
    second = client.get(reverse("tickets:inbox"), {"sort": "number", "cursor": cursor.group(1)}, headers=HTMX)
    assert numbers(second) == [51, 52, 53, 54, 55]
    assert "Next page" not in second.content.decode()
    assert numbers(client.get(reverse("tickets:inbox"), {"sort": "-created_at", "size": "3"})) == [55, 54, 53]


def test_a_stale_cursor_shows_the_first_page_with_a_message(acme: Cast) -> None:
    response = signed_in_client(acme.agent).get(reverse("tickets:inbox"), {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert "The page cursor is not valid; start from the first page." in response.content.decode()
    assert numbers(response) == [1]


def test_htmx_filter_requests_get_only_the_results(acme: Cast, queue: dict[str, Ticket]) -> None:
    response = signed_in_client(acme.agent).get(reverse("tickets:inbox"), {"tag": "billing"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="inbox-results"')
    assert "<html" not in html
    assert 'id="inbox-sidebar"' not in html
    assert numbers(response) == [queue["refund"].number]


# ---- bulk actions -------------------------------------------------------------------------------------------


def test_bulk_assign_changes_every_selected_ticket_and_tells_htmx(
    acme: Cast, queue: dict[str, Ticket], django_capture_on_commit_callbacks: Any
) -> None:
    chosen = [queue["export"], acme.ticket]
    with django_capture_on_commit_callbacks(execute=True):  # in-app notifications are an outbox consumer
        response = signed_in_client(acme.admin).post(
            reverse("tickets:bulk"),
            {
                "ticket": [t.pk for t in chosen],
                "action": "assign",
                "assignee": acme.agent.pk,
                "return_to": "view=unassigned",
            },
            headers=HTMX,
        )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "ticketsChanged"
    html = response.content.decode()
    assert "Updated 2 of 2 selected tickets." in html
    assert numbers(response) == []  # the unassigned view is empty now
    assert sorted(Ticket.objects.filter(assignee=acme.agent).values_list("number", flat=True)) == [1, 2, 3]
    events = TicketEvent.objects.filter(kind=EventKind.FIELD_CHANGED, field="assignee", via="bulk")
    assert sorted(events.values_list("ticket__number", flat=True)) == [1, 2]
    assert sorted(
        Notification.objects.filter(agent=acme.agent, kind="assignment").values_list("ticket__number", flat=True)
    ) == [1, 2]


def test_bulk_status_and_tags(acme: Cast, queue: dict[str, Ticket]) -> None:
    client = signed_in_client(acme.agent)
    solved = default_status(acme.workspace.pk, StatusCategory.SOLVED)
    ids = [queue["export"].pk, queue["sso"].pk]
    client.post(reverse("tickets:bulk"), {"ticket": ids, "action": "status", "status": solved.pk}, headers=HTMX)
    client.post(reverse("tickets:bulk"), {"ticket": ids, "action": "tag", "tag": "q3-review"}, headers=HTMX)
    client.post(reverse("tickets:bulk"), {"ticket": ids, "action": "untag", "tag": "sso"}, headers=HTMX)
    for ticket in (queue["export"], queue["sso"]):
        ticket.refresh_from_db()
        assert ticket.status_id == solved.pk
    assert sorted(t.name for t in queue["export"].tags.all()) == ["q3-review", "reports"]
    assert sorted(t.name for t in queue["sso"].tags.all()) == ["enterprise", "q3-review"]


def test_bulk_unassign_without_htmx_redirects_back_with_a_message(acme: Cast, queue: dict[str, Ticket]) -> None:
    client = signed_in_client(acme.agent)
    response = client.post(
        reverse("tickets:bulk"),
        {"ticket": [queue["sso"].pk], "action": "assign", "assignee": "none", "return_to": "view=mine"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/?view=mine"
    queue["sso"].refresh_from_db()
    assert queue["sso"].assignee_id is None
    followed = client.get(response["Location"])
    assert "Updated 1 of 1 selected ticket." in followed.content.decode()


def test_bulk_refuses_another_workspaces_tickets_and_changes_nothing(acme: Cast, umbrella: Cast) -> None:
    response = signed_in_client(acme.agent).post(
        reverse("tickets:bulk"),
        {"ticket": [acme.ticket.pk, umbrella.ticket.pk], "action": "assign", "assignee": acme.agent.pk},
        headers=HTMX,
    )
    assert "Some of the selected tickets no longer exist. Reload the list and try again." in response.content.decode()
    assert "HX-Trigger" not in response
    acme.ticket.refresh_from_db()
    umbrella.ticket.refresh_from_db()
    assert (acme.ticket.assignee_id, umbrella.ticket.assignee_id) == (None, None)


def test_bulk_is_all_or_nothing(acme: Cast, queue: dict[str, Ticket]) -> None:
    """The refund has no reason code, so solving it is refused -- and the export ticket stays open too."""
    CustomField.objects.create(
        workspace=acme.workspace, key="refund_reason", label="Refund reason", field_type="text", required_on_solve=True
    )
    solved = default_status(acme.workspace.pk, StatusCategory.SOLVED)
    before = set(Ticket.objects.values_list("pk", "status_id", "version"))
    response = signed_in_client(acme.agent).post(
        reverse("tickets:bulk"),
        {"ticket": [queue["export"].pk, queue["refund"].pk], "action": "status", "status": solved.pk},
        headers=HTMX,
    )
    assert (
        f"Nothing was changed: ticket #{queue['export'].number} refused the change: "
        "Fill in Refund reason before solving this ticket."
    ) in response.content.decode()
    assert set(Ticket.objects.values_list("pk", "status_id", "version")) == before


@pytest.mark.parametrize("role", ["viewer", "light_agent"])
def test_roles_that_cannot_change_tickets_cannot_bulk_change(acme: Cast, role: str) -> None:
    response = signed_in_client(acme.by_role(role)).post(
        reverse("tickets:bulk"), {"ticket": [acme.ticket.pk], "action": "assign", "assignee": acme.agent.pk}
    )
    assert response.status_code == 403
    acme.ticket.refresh_from_db()
    assert acme.ticket.assignee_id is None


def test_bulk_needs_a_selection_and_an_action(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    response = client.post(reverse("tickets:bulk"), {"action": "assign", "assignee": acme.agent.pk}, headers=HTMX)
    assert "Select at least one ticket first." in response.content.decode()
    response = client.post(
        reverse("tickets:bulk"), {"ticket": [acme.ticket.pk], "action": "tag", "tag": " "}, headers=HTMX
    )
    assert "Choose what to change: an assignee, a status or a tag." in response.content.decode()


# ---- saved views --------------------------------------------------------------------------------------------


def test_an_agent_saves_a_personal_view_and_opens_it(acme: Cast, queue: dict[str, Ticket]) -> None:
    client = signed_in_client(acme.agent)
    response = client.post(
        reverse("tickets:save_view"),
        {"name": "  Billing   backlog ", "querystring": "view=all&tag=billing&sort=number"},
    )
    view = SavedView.objects.get()
    assert (view.name, view.owner_id, view.filters, view.sort) == (
        "Billing backlog",
        acme.agent.pk,
        {"view": "all", "tag_names": ["billing"]},
        "number",
    )
    assert response["Location"] == f"/?view=all&tag=billing&sort=number&saved={view.pk}"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert '<h1 id="inbox-title">Billing backlog</h1>' in html
    assert f'data-saved-view="{view.pk}" aria-current="page"' in html
    assert numbers(page) == [queue["refund"].number]
    # Another agent does not see Maria's personal view.
    assert "Billing backlog" not in signed_in_client(acme.other_team_agent).get("/").content.decode()


def test_only_admins_share_views(acme: Cast) -> None:
    response = signed_in_client(acme.agent).post(
        reverse("tickets:save_view"), {"name": "Team VIP", "querystring": "view=all&tag=vip", "shared": "on"}
    )
    assert SavedView.objects.count() == 0
    followed = signed_in_client(acme.agent).get(response["Location"])
    assert followed.status_code == 200
    signed_in_client(acme.admin).post(
        reverse("tickets:save_view"), {"name": "Team VIP", "querystring": "view=all&tag=vip", "shared": "on"}
    )
    shared = SavedView.objects.get()
    assert shared.owner_id is None
    for person in (acme.agent, acme.viewer, acme.other_team_agent):
        assert "Team VIP" in signed_in_client(person).get("/").content.decode()
    # Maria cannot delete a shared view; Adam can.
    signed_in_client(acme.agent).post(reverse("tickets:delete_view", args=[shared.pk]))
    assert SavedView.objects.count() == 1
    signed_in_client(acme.admin).post(reverse("tickets:delete_view", args=[shared.pk]))
    assert SavedView.objects.count() == 0


def test_saved_view_errors_are_explained(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    client.post(reverse("tickets:save_view"), {"name": "Mine", "querystring": "view=mine"})
    response = client.post(reverse("tickets:save_view"), {"name": "mine", "querystring": "view=all"}, follow=True)
    assert "You already have a view named “mine”." in response.content.decode()
    response = client.post(reverse("tickets:save_view"), {"name": "", "querystring": "view=all"}, follow=True)
    assert "Give the view a name." in response.content.decode()
    response = client.post(
        reverse("tickets:save_view"), {"name": "Shared", "querystring": "view=all", "shared": "on"}, follow=True
    )
    assert "Only admins and owners can share a view with the whole workspace." in response.content.decode()
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Mine"]


def test_saved_views_of_another_workspace_are_not_found(acme: Cast, umbrella: Cast) -> None:
    theirs = SavedView.objects.create(workspace=umbrella.workspace, name="Umbrella VIP", owner=None, filters={})
    client = signed_in_client(acme.admin)
    assert client.get(reverse("tickets:open_view", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("tickets:delete_view", args=[theirs.pk])).status_code == 404
    assert SavedView.objects.filter(pk=theirs.pk).exists()


# ---- search -------------------------------------------------------------------------------------------------


def test_search_shows_ranked_hits_with_highlighted_snippets(
    acme: Cast, umbrella: Cast, queue: dict[str, Ticket]
) -> None:
    open_ticket(workspace=umbrella.workspace, ticket=NewTicket(requester=umbrella.customer, subject="Export is broken"))
    response = signed_in_client(acme.agent).get(reverse("tickets:search"), {"q": "export"})
    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'<a class="ticket-link" href="/tickets/(\d+)/">', html) == [str(queue["export"].number)]
    assert "<mark>" in html
    assert 'value="export"' in html  # the top-bar box keeps the words


def test_search_combines_words_with_filters(acme: Cast, queue: dict[str, Ticket]) -> None:
    client = signed_in_client(acme.agent)
    found = client.get(reverse("tickets:search"), {"q": "charged", "team": acme.billing.pk}).content.decode()
    assert "Refund a duplicate charge" in found
    missing = client.get(reverse("tickets:search"), {"q": "charged", "team": acme.support.pk}).content.decode()
    assert "Nothing matches “charged”." in missing


def test_search_jumps_to_a_ticket_number_or_a_requester(acme: Cast, queue: dict[str, Ticket]) -> None:
    client = signed_in_client(acme.agent)
    assert client.get(reverse("tickets:search"), {"q": "#3"})["Location"] == "/tickets/3/"
    assert client.get(reverse("tickets:search"), {"q": "3"})["Location"] == "/tickets/3/"
    response = client.get(reverse("tickets:search"), {"q": "Dmitri@Initech.example"})
    assert response["Location"] == f"/?view=all&requester={queue['export'].requester_id}"
    html = client.get(response["Location"]).content.decode()
    assert '<span class="chip-label">Requester:</span> Dmitri Ivanov' in html


def test_search_without_words_explains_itself(acme: Cast) -> None:
    html = signed_in_client(acme.agent).get(reverse("tickets:search")).content.decode()
    assert "Type words to search subjects, conversations and requesters." in html


# ---- notifications ------------------------------------------------------------------------------------------


def test_notifications_list_and_mark_read(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # in-app notifications are an outbox consumer
        add_internal_note(ticket=acme.ticket, agent=acme.admin, body_text="@maria can you check the VAT number?")
        update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=acme.agent), agent=acme.admin)
    Notification.objects.create(workspace=acme.workspace, agent=acme.admin, kind="mention", text="for Adam only")
    client = signed_in_client(acme.agent)
    badge = client.get(reverse("tickets:badges")).content.decode()
    assert '>2<span class="visually-hidden"> unread notifications</span>' in badge
    html = client.get(reverse("tickets:notifications")).content.decode()
    assert "Adam Admin mentioned you on #1" in html
    assert "#1 was assigned to you" in html
    assert "for Adam only" not in html
    mention = Notification.objects.get(agent=acme.agent, kind="mention")
    adams = Notification.objects.get(agent=acme.admin)
    client.post(reverse("tickets:notifications_read"), {"notification": [mention.pk, adams.pk]})
    assert list(Notification.objects.filter(read_at__isnull=True).order_by("pk").values_list("kind", flat=True)) == [
        "assignment",
        "mention",
    ]  # Maria's assignment and Adam's own mention stay unread
    response = client.post(reverse("tickets:notifications_read"), {"next": "https://evil.example/"})
    assert response["Location"] == "/notifications/"
    assert Notification.objects.filter(agent=acme.agent, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(agent=acme.admin, read_at__isnull=True).count() == 1


# ---- the layout ---------------------------------------------------------------------------------------------


def test_layout_has_workspace_nav_search_bell_and_sign_out(acme: Cast) -> None:
    html = signed_in_client(acme.agent).get("/").content.decode()
    assert '<span class="brand-name">Acme</span>' in html
    assert '<a href="/" aria-current="page">Inbox</a>' in html
    assert 'action="/search/"' in html
    assert 'id="global-search"' in html
    assert 'hx-get="/badges/"' in html
    assert re.search(r'<form method="post" action="/logout/">\s*<input type="hidden" name="csrfmiddlewaretoken"', html)


def test_sign_in_page_has_no_agent_chrome(client: Client, db: None) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert 'class="topbar"' not in html


# ---- query counts -------------------------------------------------------------------------------------------


def _fill(acme: Cast, total: int) -> None:
    """``total`` tickets, each with its own requester, organization, two tags, an assignee and a team."""
    for i in range(total - 1):
        organization = create_organization(workspace=acme.workspace, name=f"Org {i}", domains=[f"org{i}.example"])
        requester = find_or_create_contact(workspace=acme.workspace, email=f"person@org{i}.example")
        assert requester.organization_id == organization.pk
        open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(
                requester=requester,
                subject=f"Question {i}",
                assignee=acme.agent if i % 2 else acme.other_team_agent,
                team=acme.support if i % 2 else acme.billing,
                tags=[f"tag-{i}", "common"],
            ),
        )


@pytest.mark.parametrize("total", [25, 50])
def test_inbox_query_count_does_not_grow_with_the_page(
    acme: Cast, total: int, django_assert_num_queries: Callable[..., object]
) -> None:
    _fill(acme, total)
    client = signed_in_client(acme.agent)
    client.get("/")  # warm the session and the content types
    # session, user, agent; the page of tickets + tags + requester emails; saved views; the filter options
    # (statuses, agents, teams, tags, areas; organizations only when filtered: the finder fetches them).
    # No view counts: the sidebar fetches them from /inbox/sidebar/ after load (counted below).
    with django_assert_num_queries(12):  # type: ignore[attr-defined]
        response = client.get("/")
    assert len(numbers(response)) == total


@pytest.mark.parametrize("total", [25, 50])
def test_spam_view_query_count_does_not_grow_with_the_reasons(
    acme: Cast, total: int, django_assert_num_queries: Callable[..., object]
) -> None:
    for i in range(total):
        verdict = {"source": "rspamd", "score": 16.4, "evidence": f"X-Spam: Yes; X-Rspamd-Score: 16.{i}"}
        open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(requester=acme.customer, subject=f"Offer {i}", spam_verdict=verdict),
        )
    client = signed_in_client(acme.agent)
    client.get("/", {"view": "spam"})  # warm the session and the content types
    # The inbox's 12, plus one read of the page's spam-filter verdicts (the rows' reasons), whatever the rows.
    with django_assert_num_queries(13):  # type: ignore[attr-defined]
        response = client.get("/", {"view": "spam"})
    assert len(numbers(response)) == total
    assert response.content.decode().count("data-spam-reason>") == total


@pytest.mark.parametrize("total", [25, 50])
def test_sidebar_query_count_does_not_grow_with_the_tickets(
    acme: Cast, total: int, django_assert_num_queries: Callable[..., object]
) -> None:
    _fill(acme, total)
    client = signed_in_client(acme.agent)
    client.get("/inbox/sidebar/")  # warm the session and the content types
    # session, user, agent; view counts (inbox.view_counts: one status lookup, the agent's teams and one
    # aggregate, plus trash and spam); saved views.
    with django_assert_num_queries(9):  # type: ignore[attr-defined]
        response = client.get("/inbox/sidebar/", headers={"HX-Request": "true"})
    assert count_of(response, "all") == total


def test_the_first_page_links_every_view_and_fetches_the_counts_after_load(
    acme: Cast, queue: dict[str, Ticket]
) -> None:
    html = signed_in_client(acme.agent).get(reverse("tickets:inbox"), {"view": "mine"}).content.decode()
    assert "data-count=" not in html  # the counts are a second request, made by htmx on load
    assert re.findall(r'<a class="view-link" href="(/\?view=\w+)" data-view="\w+"', html) == [
        "/?view=mine",
        "/?view=unassigned",
        "/?view=my_teams",
        "/?view=unsolved",
        "/?view=all",
        "/?view=pending",
        "/?view=solved",
        "/?view=trash",
        "/?view=spam",
    ]
    assert 'hx-get="/inbox/sidebar/?view=mine"' in html
    assert 'hx-trigger="load, every 15s, ticketsChanged from:body" hx-swap="outerHTML"' in html


@pytest.mark.parametrize("total", [25, 50])
def test_search_query_count_does_not_grow_with_the_hits(
    acme: Cast, total: int, django_assert_num_queries: Callable[..., object]
) -> None:
    _fill(acme, total)
    client = signed_in_client(acme.agent)
    # As the inbox, with search's own: 2 on SQLite, 5 on PostgreSQL (see test_search's fixed query count).
    with django_assert_num_queries(15 if connection.vendor == "postgresql" else 12):  # type: ignore[attr-defined]
        response = client.get("/search/", {"q": "question", "size": "50"})
    assert response.content.decode().count('class="hit"') == total - 1


# ---- stored XSS ---------------------------------------------------------------------------------------------

PAYLOADS = [
    '<script>alert("x")</script>',
    '<img src=x onerror="alert(1)">',
    "javascript:alert(1)",
    "<svg onload=alert(1)>",
]


def test_hostile_names_render_inert_in_the_inbox_and_search(acme: Cast) -> None:
    organization = create_organization(
        workspace=acme.workspace, name=f"Evil {PAYLOADS[1]} Corp", domains=["evil.example"]
    )
    requester = find_or_create_contact(workspace=acme.workspace, email="mallory@evil.example", name=PAYLOADS[0])
    assert requester.organization_id == organization.pk
    open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(
            requester=requester,
            subject=f"Evil {PAYLOADS[0]} {PAYLOADS[3]}",
            body_text=f"Evil body {PAYLOADS[1]} {PAYLOADS[2]}",
            tags=[PAYLOADS[2], "<b>bold</b>"],
        ),
    )
    client = signed_in_client(acme.agent)
    pages = {
        "inbox": client.get("/").content.decode(),
        "search": client.get("/search/", {"q": "evil"}).content.decode(),
        "filtered": client.get("/", {"tag": PAYLOADS[2], "org": organization.pk}).content.decode(),
    }
    for name, html in pages.items():
        assert "<script>alert" not in html, name
        assert "<img src=x" not in html, name
        assert "<svg onload" not in html, name
        assert "<b>bold</b>" not in html, name
        assert 'href="javascript:' not in html, name
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html, name
    assert 'href="/?view=all&amp;tag=javascript%3Aalert%281%29"' in pages["inbox"]
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in pages["inbox"]
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in pages["search"]


# ---- the organization filter's finder -----------------------------------------------------------------------


def _options(html: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of each <option> in ``html``."""
    return [
        (value, label, bool(selected))
        for value, selected, label in re.findall(
            r'<option value="(\d*)"( selected)?(?: disabled)?>([^<]*)</option>', html
        )
    ]


def test_the_organization_filter_offers_what_the_agent_types_and_keeps_the_chosen_one(
    acme: Cast, umbrella: Cast, queue: dict[str, Ticket]
) -> None:
    initech = queue["export"].organization
    assert initech is not None
    create_organization(workspace=acme.workspace, name="Initrode", domains=["initrode.example"])
    create_organization(workspace=umbrella.workspace, name="Initial Umbrella Co", domains=["iuc.example"])
    client = signed_in_client(acme.agent)
    finder = reverse("tickets:organization_filter_options")

    # Typing "init" offers Acme's two customers whose names contain it, alphabetically; never Umbrella's.
    typed = client.get(finder, {"find": " INIT "}, headers={"HX-Request": "true"})
    assert typed.status_code == 200
    initrode = Organization.objects.get(workspace=acme.workspace, name="Initrode")
    assert _options(typed.content.decode()) == [
        ("", "Any organization", False),
        (str(initech.pk), "Initech", False),
        (str(initrode.pk), "Initrode", False),
    ]

    # Focusing the empty finder lists the first ones by name; the chosen organization stays chosen and first.
    focused = client.get(finder, {"find": "", "org": str(initech.pk)})
    assert _options(focused.content.decode()) == [
        ("", "Any organization", False),
        (str(initech.pk), "Initech", True),
        (str(acme.organization.pk), acme.organization.name, False),
        (str(initrode.pk), "Initrode", False),
    ]

    # Another workspace's organization id is not shown even when sent as "chosen".
    foreign = Organization.objects.get(workspace=umbrella.workspace, name="Initial Umbrella Co")
    assert _options(client.get(finder, {"find": "zzz", "org": str(foreign.pk)}).content.decode()) == [
        ("", "Any organization", False),
        ("", "No organization matches “zzz”", False),
    ]


def test_the_inbox_names_the_chosen_organization_without_listing_every_customer(
    acme: Cast, queue: dict[str, Ticket]
) -> None:
    initech = queue["export"].organization
    assert initech is not None
    client = signed_in_client(acme.agent)
    plain = client.get("/").content.decode()
    # Without an organization filter the drop-down holds only "any": the finder fills it on focus.
    assert _options(plain.split('id="filter-org"')[1].split("</select>")[0]) == [("", "Any organization", False)]
    assert 'hx-get="/inbox/organizations/" hx-trigger="focus once, input changed delay:250ms"' in plain
    filtered = client.get("/", {"org": initech.pk}).content.decode()
    select = filtered.split('id="filter-org"')[1].split("</select>")[0]
    assert f'<option value="{initech.pk}" selected>Initech</option>' in select
    assert '<span class="chip-label">Organization:</span> Initech' in filtered
