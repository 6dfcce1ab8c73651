"""Tickets and messages over the API, told with the Acme cast (and Umbrella as the other tenant)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from deskloop.accounts.services import create_api_token, set_agent_active
from deskloop.conftest import Cast
from deskloop.core.models import IdempotencyRecord
from deskloop.customers.services import find_or_create_contact
from deskloop.tickets.models import EventKind, Message, MessageKind, StatusCategory, Tag, Ticket, TicketEvent
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket


def api(agent: Any) -> Client:
    _token, secret = create_api_token(agent=agent, name="tests")
    return Client(headers={"authorization": f"Bearer {secret}"})


def post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def patch(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json", headers=headers)


def problem(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response.content)
    return body


def more_tickets(cast: Cast, count: int) -> list[Ticket]:
    return [
        open_ticket(
            workspace=cast.workspace,
            ticket=NewTicket(
                requester=find_or_create_contact(
                    workspace=cast.workspace, email=f"buyer{i}@shop{i % 3}.example", name=f"Buyer {i}"
                ),
                subject=f"Question {i}",
                body_text=f"Question number {i}",
                tags=[f"batch{i % 2}"],
            ),
        )[0]
        for i in range(count)
    ]


# ----------------------------------------------------------------------------------------------------------
# Roles


@pytest.mark.parametrize("role", ["owner", "admin", "agent"])
def test_writers_open_tickets_for_a_requester_by_email(acme: Cast, role: str) -> None:
    response = post(
        api(acme.by_role(role)),
        "/api/v1/tickets",
        {
            "subject": "Cannot export invoices",
            "requester_email": "Dan@Globex-Acme.example",
            "requester_name": "Dan",
            "body_text": "The export button does nothing.",
            "priority": "high",
            "tags": ["billing", "export"],
            "team_id": acme.billing.pk,
            "assignee_id": acme.other_team_agent.pk,
        },
    )
    assert response.status_code == 201
    body = json.loads(response.content)
    assert response["Location"] == "/api/v1/tickets/2"
    assert response["ETag"] == body["etag"]
    assert (body["number"], body["subject"], body["priority"], body["channel"]) == (
        2,
        "Cannot export invoices",
        "high",
        "api",
    )
    assert body["requester"]["email"] == "dan@globex-acme.example"
    assert body["organization"] == {"id": acme.organization.pk, "name": "Globex of Acme"}
    assert body["assignee"] == {"id": acme.other_team_agent.pk, "name": "Boris Billing"}
    assert body["team"] == {"id": acme.billing.pk, "name": "Billing", "names": {"default": "Billing"}}
    assert body["tags"] == ["billing", "export"]
    assert body["status"]["category"] == "new"
    created = TicketEvent.objects.get(ticket__number=2, ticket__workspace=acme.workspace, kind=EventKind.CREATED)
    assert (created.actor_agent_id, created.via) == (acme.by_role(role).pk, "api")


@pytest.mark.parametrize("role", ["viewer", "light_agent"])
def test_viewers_and_light_agents_cannot_open_or_change_tickets(acme: Cast, role: str) -> None:
    client = api(acme.by_role(role))
    refused = post(client, "/api/v1/tickets", {"subject": "x", "requester_id": acme.customer.pk})
    assert refused.status_code == 403
    assert problem(refused)["detail"] == "Your role does not allow this."
    etag = client.get("/api/v1/tickets/1")["ETag"]
    changed = patch(client, "/api/v1/tickets/1", {"priority": "urgent"}, **{"If-Match": etag})
    assert changed.status_code == 403
    assert Ticket.objects.filter(workspace=acme.workspace).count() == 1
    assert Ticket.objects.get(pk=acme.ticket.pk).priority == "normal"


def test_viewer_cannot_write_messages_of_any_kind(acme: Cast) -> None:
    client = api(acme.viewer)
    for kind in ("reply", "note"):
        response = post(client, "/api/v1/tickets/1/messages", {"kind": kind, "body_text": "hi"})
        assert response.status_code == 403
    assert acme.ticket.messages.count() == 1


def test_light_agent_adds_notes_but_cannot_reply(acme: Cast) -> None:
    client = api(acme.light_agent)
    note = post(client, "/api/v1/tickets/1/messages", {"kind": "note", "body_text": "@maria please check VAT"})
    assert note.status_code == 201
    assert json.loads(note.content)["kind"] == "note"
    reply = post(client, "/api/v1/tickets/1/messages", {"kind": "reply", "body_text": "Dear customer"})
    assert reply.status_code == 403
    assert problem(reply)["detail"] == "Your role cannot reply to customers. You can add an internal note."
    assert list(acme.ticket.messages.order_by("id").values_list("kind", flat=True)) == ["reply", "note"]


def test_agent_reply_can_set_the_status(acme: Cast) -> None:
    pending = default_status(acme.workspace.pk, StatusCategory.PENDING)
    response = post(
        api(acme.agent),
        "/api/v1/tickets/1/messages",
        {"body_html": "<p>Fixed, <b>see</b> the new invoice.</p>", "status_id": pending.pk},
    )
    assert response.status_code == 201
    body = json.loads(response.content)
    assert (body["kind"], body["body_text"], body["body_html"]) == (
        "reply",
        "Fixed, see the new invoice.",
        "<p>Fixed, <b>see</b> the new invoice.</p>",
    )
    assert body["author"] == {"type": "agent", "id": acme.agent.pk, "name": "Maria Agent"}
    ticket = Ticket.objects.select_related("status").get(pk=acme.ticket.pk)
    assert ticket.status.category == StatusCategory.PENDING
    assert ticket.first_response_at is not None


def test_messages_are_listed_oldest_first_page_by_page(acme: Cast) -> None:
    client = api(acme.agent)
    for i in range(4):
        post(client, "/api/v1/tickets/1/messages", {"kind": "note", "body_text": f"note {i}"})
    first = json.loads(client.get("/api/v1/tickets/1/messages?limit=3").content)
    second = json.loads(client.get(f"/api/v1/tickets/1/messages?limit=3&cursor={first['next_cursor']}").content)
    texts = [m["body_text"] for m in first["items"] + second["items"]]
    assert texts == [
        "Hello, our invoice for March shows our old VAT number. Can you fix it?",
        "note 0",
        "note 1",
        "note 2",
        "note 3",
    ]
    assert second["next_cursor"] is None
    assert first["items"][0]["author"] == {"type": "contact", "id": acme.customer.pk, "name": "Carmen Customer"}


# ----------------------------------------------------------------------------------------------------------
# Tenancy


def test_another_workspaces_objects_are_not_found(acme: Cast, umbrella: Cast) -> None:
    more_tickets(umbrella, 2)  # Umbrella #3 exists; Acme has no #3
    client = api(acme.admin)
    for url in ("/api/v1/tickets/3", "/api/v1/tickets/3/messages"):
        response = client.get(url)
        assert (response.status_code, problem(response)["code"]) == (404, "not_found")
    assert patch(client, "/api/v1/tickets/3", {"subject": "mine now"}, **{"If-Match": '"0-0"'}).status_code == 404
    assert post(client, "/api/v1/tickets/3/messages", {"body_text": "hello"}).status_code == 404
    refused = post(
        client,
        "/api/v1/tickets",
        {"subject": "Borrowed", "requester_id": umbrella.customer.pk, "body_text": "x"},
    )
    assert refused.status_code == 422
    assert problem(refused)["errors"] == [{"field": "requester_id", "message": "No such contact in this workspace."}]
    refused = post(
        client,
        "/api/v1/tickets",
        {"subject": "Borrowed", "requester_id": acme.customer.pk, "assignee_id": umbrella.agent.pk},
    )
    assert problem(refused)["errors"] == [{"field": "assignee_id", "message": "No such agent in this workspace."}]
    listed = json.loads(client.get("/api/v1/tickets").content)
    assert [t["number"] for t in listed["items"]] == [1]
    assert Ticket.objects.filter(workspace=umbrella.workspace).count() == 3
    assert Ticket.objects.filter(workspace=acme.workspace).count() == 1


# ----------------------------------------------------------------------------------------------------------
# Filters and pagination


def test_filters_mirror_the_inbox(acme: Cast) -> None:
    tickets = more_tickets(acme, 4)
    update_ticket(
        ticket=tickets[0],
        changes=TicketChanges(assignee=acme.agent, team=acme.billing),
        agent=acme.admin,
    )
    solved = default_status(acme.workspace.pk, StatusCategory.SOLVED)
    update_ticket(ticket=tickets[1], changes=TicketChanges(status=solved, priority="urgent"), agent=acme.admin)
    client = api(acme.agent)

    def numbers(query: str) -> list[int]:
        response = client.get(f"/api/v1/tickets?sort=number&{query}")
        assert response.status_code == 200, response.content
        return [t["number"] for t in json.loads(response.content)["items"]]

    assert numbers("") == [1, 2, 3, 4, 5]
    assert numbers("view=mine") == [2]
    assert numbers("assignee_id=" + str(acme.agent.pk)) == [2]
    assert numbers("unassigned=true") == [1, 3, 4, 5]
    assert numbers(f"team_id={acme.billing.pk}&team_id={acme.support.pk}") == [1, 2]
    assert numbers("status_category=solved") == [3]
    assert numbers("view=solved") == [3]
    assert numbers("priority=urgent&priority=high") == [3]
    assert numbers("tag=batch1") == [3, 5]
    assert numbers("tag=batch1&tag=BATCH0") == []
    assert numbers("channel=email") == [1]
    assert numbers(f"organization_id={acme.organization.pk}") == [1]
    assert numbers("sort=-number&limit=2") == [5, 4]


def test_cursor_pages_walk_every_ticket_once_even_with_equal_timestamps(acme: Cast) -> None:
    same_moment = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
    with time_machine.travel(same_moment, tick=False):
        more_tickets(acme, 11)
    client = api(acme.viewer)
    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        body = json.loads(client.get(f"/api/v1/tickets?limit=4&cursor={cursor}").content)
        seen += [t["number"] for t in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    # Newest activity first; the ticket from the cast is newer; the eleven ties are ordered by id, descending.
    assert seen == [1, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2]
    assert pages == 3


def test_bad_cursor_and_page_size_are_explained(acme: Cast) -> None:
    client = api(acme.agent)
    bad_cursor = problem(client.get("/api/v1/tickets?cursor=not-a-cursor"))
    assert bad_cursor["errors"] == [
        {"field": "cursor", "message": "The page cursor is not valid; start from the first page."}
    ]
    too_big = problem(client.get("/api/v1/tickets?limit=500"))
    assert too_big["errors"] == [{"field": "limit", "message": "Ensure this value is at most 100."}]
    bad_view = problem(client.get("/api/v1/tickets?view=everything"))
    assert bad_view["status"] == 422
    assert bad_view["errors"][0]["field"] == "view"


def test_ticket_list_costs_the_same_queries_for_10_and_40_tickets(
    acme: Cast, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client = api(acme.agent)
    client.get("/api/v1/me")  # records the token's last use, so the measured calls only read

    def full_page_with(count: int) -> None:
        existing = Ticket.objects.filter(workspace=acme.workspace).count()
        more_tickets(acme, count - existing)
        tickets = Ticket.objects.filter(workspace=acme.workspace)
        for ticket in tickets[:5]:
            update_ticket(ticket=ticket, changes=TicketChanges(assignee=acme.agent), agent=acme.admin)
        # token, rate count (one upsert; production's database cache took 11), the page, its tags, its requesters'
        # addresses
        with django_assert_num_queries(5):
            response = client.get("/api/v1/tickets?limit=100")
        assert len(json.loads(response.content)["items"]) == count

    full_page_with(10)
    full_page_with(40)


# ----------------------------------------------------------------------------------------------------------
# ETag / If-Match


def test_update_needs_the_current_etag(acme: Cast) -> None:
    maria, adam = api(acme.agent), api(acme.admin)
    read = maria.get("/api/v1/tickets/1")
    etag = read["ETag"]
    assert etag == f'"{acme.ticket.pk}-{acme.ticket.version}"'

    missing = patch(maria, "/api/v1/tickets/1", {"priority": "high"})
    assert (missing.status_code, problem(missing)["code"]) == (428, "if_match_required")

    first = patch(adam, "/api/v1/tickets/1", {"assignee_id": acme.admin.pk}, **{"If-Match": etag})
    assert first.status_code == 200
    assert first["ETag"] != etag
    assert json.loads(first.content)["assignee"] == {"id": acme.admin.pk, "name": "Adam Admin"}

    stale = patch(maria, "/api/v1/tickets/1", {"assignee_id": acme.agent.pk}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert problem(stale)["detail"] == (
        "The ticket was changed since you read it. GET it again, reapply your change and retry."
    )
    assert stale["ETag"] == first["ETag"]
    assert Ticket.objects.get(pk=acme.ticket.pk).assignee_id == acme.admin.pk

    solved = default_status(acme.workspace.pk, StatusCategory.SOLVED)
    retried = patch(
        maria,
        "/api/v1/tickets/1",
        {"status_id": solved.pk, "team_id": None, "add_tags": ["vat"], "due_at": "2025-03-03T12:00:00Z"},
        **{"If-Match": first["ETag"]},
    )
    assert retried.status_code == 200
    body = json.loads(retried.content)
    assert (body["status"]["category"], body["team"], body["tags"], body["due_at"]) == (
        "solved",
        None,
        ["vat"],
        "2025-03-03T12:00:00Z",
    )
    changes = TicketEvent.objects.filter(ticket=acme.ticket, kind=EventKind.FIELD_CHANGED, via="api")
    assert sorted(changes.values_list("field", flat=True)) == ["assignee", "due_at", "status", "team"]


# ----------------------------------------------------------------------------------------------------------
# Idempotency


def test_idempotent_create_replays_the_first_response(acme: Cast) -> None:
    client = api(acme.agent)
    body = {"subject": "Refund please", "requester_id": acme.customer.pk, "body_text": "Charged twice.", "tags": ["a"]}
    first = post(client, "/api/v1/tickets", body, **{"Idempotency-Key": "order-77"})
    reordered = dict(reversed(list(body.items())))
    again = post(client, "/api/v1/tickets", reordered, **{"Idempotency-Key": "order-77"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert (again["ETag"], again["Location"], again["Idempotent-Replayed"]) == (
        first["ETag"],
        first["Location"],
        "true",
    )
    assert Ticket.objects.filter(workspace=acme.workspace, subject="Refund please").count() == 1

    other = post(client, "/api/v1/tickets", {**body, "subject": "Another"}, **{"Idempotency-Key": "order-77"})
    assert other.status_code == 422
    assert problem(other)["code"] == "idempotency_key_reused"
    # Another token has its own keys.
    foreign_key_space = post(api(acme.admin), "/api/v1/tickets", body, **{"Idempotency-Key": "order-77"})
    assert foreign_key_space.status_code == 201
    assert Ticket.objects.filter(workspace=acme.workspace, subject="Refund please").count() == 2


def test_refused_create_does_not_burn_the_key(acme: Cast) -> None:
    client = api(acme.agent)
    refused = post(
        client, "/api/v1/tickets", {"subject": "", "requester_id": acme.customer.pk}, **{"Idempotency-Key": "k1"}
    )
    assert refused.status_code == 422
    assert problem(refused)["errors"] == [{"field": "subject", "message": "A ticket needs a subject."}]
    fixed = post(
        client,
        "/api/v1/tickets",
        {"subject": "Now right", "requester_id": acme.customer.pk},
        **{"Idempotency-Key": "k1"},
    )
    assert fixed.status_code == 201
    assert IdempotencyRecord.objects.get(key="k1").status_code == 201


def test_a_key_still_in_progress_gets_409(acme: Cast) -> None:
    token, secret = create_api_token(agent=acme.agent, name="retrying client")
    client = Client(headers={"authorization": f"Bearer {secret}"})
    body = {"subject": "Slow", "requester_id": acme.customer.pk}
    first = post(client, "/api/v1/tickets", body, **{"Idempotency-Key": "slow-1"})
    assert first.status_code == 201
    # A concurrent twin of the request: its row exists, but its response is not recorded yet.
    IdempotencyRecord.objects.filter(token=token, key="slow-1").update(status_code=None, response_body="")
    twin = post(client, "/api/v1/tickets", body, **{"Idempotency-Key": "slow-1"})
    assert (twin.status_code, twin["Retry-After"], problem(twin)["code"]) == (409, "1", "idempotency_in_progress")


def test_idempotency_also_covers_messages(acme: Cast) -> None:
    client = api(acme.agent)
    for _ in range(2):
        response = post(client, "/api/v1/tickets/1/messages", {"body_text": "Thanks!"}, **{"Idempotency-Key": "m-1"})
        assert response.status_code == 201
    assert acme.ticket.messages.filter(kind=MessageKind.REPLY, author_agent=acme.agent).count() == 1


# ----------------------------------------------------------------------------------------------------------
# Validation and stored XSS


def test_validation_problems_name_each_field(acme: Cast) -> None:
    client = api(acme.agent)
    response = post(client, "/api/v1/tickets", {"priority": "asap", "tags": "billing", "team_id": "two"})
    assert response.status_code == 422
    body = problem(response)
    assert body["errors"] == [
        {"field": "subject", "message": "This field is required."},
        {"field": "priority", "message": "Choose one of: 'low', 'normal', 'high' or 'urgent'."},
        {"field": "tags", "message": "Send a list."},
        {"field": "team_id", "message": "Enter a whole number."},
    ]
    assert body["detail"] == "subject: This field is required. (and 3 more problems)"
    unknown_field = post(
        client,
        "/api/v1/tickets",
        {"subject": "x", "requester_id": acme.customer.pk, "custom_fields": {"plan_code": "X"}},
    )
    assert problem(unknown_field)["errors"] == [
        {"field": "custom_fields.plan_code", "message": "Unknown custom field “plan_code”."}
    ]
    no_requester = post(client, "/api/v1/tickets", {"subject": "x"})
    assert problem(no_requester)["detail"] == "Give the requester as requester_id or requester_email."
    not_json = client.post("/api/v1/tickets", data="{oops", content_type="application/json")
    assert (not_json.status_code, problem(not_json)["detail"]) == (400, "The request body is not valid JSON.")


def test_script_payloads_come_back_inert(acme: Cast) -> None:
    client = api(acme.agent)
    payload = "<script>alert(1)</script>"
    created = post(
        client,
        "/api/v1/tickets",
        {
            "subject": f"Help {payload}",
            "requester_email": "mallory@evil.example",
            "requester_name": '<img src=x onerror="alert(2)">',
            "body_html": (
                f'<p>Hi</p>{payload}<img src="x" onerror="alert(3)"><a href="javascript:alert(4)">link</a>'
                '<svg onload="alert(5)"><circle/></svg>'
            ),
            "tags": ['<svg onload="alert(6)">'],
        },
    )
    assert created.status_code == 201
    assert created["Content-Type"] == "application/json; charset=utf-8"
    assert created["X-Content-Type-Options"] == "nosniff"
    ticket = json.loads(created.content)
    # Plain-text fields are data: returned as written, for the client to escape.
    assert ticket["subject"] == "Help <script>alert(1)</script>"
    assert ticket["tags"] == ['<svg onload="alert(6)">']
    messages = json.loads(client.get(f"/api/v1/tickets/{ticket['number']}/messages").content)["items"]
    html = messages[0]["body_html"]
    assert html == '<p>Hi</p><img><a rel="noopener noreferrer nofollow">link</a>'  # relative src dropped too
    note = post(client, f"/api/v1/tickets/{ticket['number']}/messages", {"kind": "note", "body_html": payload + "ok"})
    assert json.loads(note.content)["body_html"] == "ok"
    assert Tag.objects.get(workspace=acme.workspace, name__startswith="<svg").name == '<svg onload="alert(6)">'
    assert Message.objects.filter(body_html__icontains="<script").count() == 0


def test_a_new_ticket_is_never_assigned_to_a_deactivated_agent(acme: Cast) -> None:
    # The same rule as changing the assignee: opening a ticket and editing it share their checks.
    set_agent_active(actor=acme.admin, agent=acme.other_team_agent, active=False)
    refused = post(
        api(acme.agent),
        "/api/v1/tickets",
        {"subject": "Phone call", "requester_id": acme.customer.pk, "assignee_id": acme.other_team_agent.pk},
    )
    assert refused.status_code == 422
    assert problem(refused)["errors"] == [{"field": "assignee", "message": "This agent is deactivated."}]
    assert not Ticket.objects.filter(subject="Phone call").exists()


def test_request_type_is_set_cleared_and_refused_when_unknown(acme: Cast) -> None:
    client = api(acme.agent)
    url = f"/api/v1/tickets/{acme.ticket.number}"
    etag = client.get(url)["ETag"]
    changed = patch(client, url, {"request_type": "feature_request"}, **{"If-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["request_type"] == "feature_request"
    refused = patch(client, url, {"request_type": "wish"}, **{"If-Match": changed["ETag"]})
    assert refused.status_code == 422
    cleared = patch(client, url, {"request_type": ""}, **{"If-Match": changed["ETag"]})
    assert cleared.json()["request_type"] == ""
    assert TicketEvent.objects.filter(ticket=acme.ticket, field="request_type").count() == 2
