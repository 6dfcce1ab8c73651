"""Event rules, told from the outside: an admin saves a rule, tickets arrive and change through the API, and the
ticket, its history page and the rule's run log show what the rule did (or why it did not)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deskloop.accounts.models import Role
from deskloop.automations.models import AutomationRun, RunOutcome
from deskloop.automations.services import RuleDraft, create_rule
from deskloop.conftest import Cast, api_client, signed_in_client
from deskloop.core.errors import ValidationFailed
from deskloop.tickets.models import EventKind, Ticket, TicketEvent


def _urgent_on_outage(cast: Cast, *, actor: Any = None) -> Any:
    draft = RuleDraft(
        name="Outage is urgent",
        events=["ticket.created"],
        conditions=[{"field": "subject", "operator": "contains", "value": "outage"}],
        actions=[{"type": "set_priority", "value": "urgent"}, {"type": "add_tag", "value": "incident"}],
    )
    return create_rule(actor=actor or cast.admin, draft=draft)


@pytest.fixture(autouse=True)
def _outbox_dispatched(django_capture_on_commit_callbacks: Any) -> Any:
    """Each test's transaction never commits: run what would run after each commit (the outbox dispatch, and so
    the rules, and the dispatch of what the rules publish) as the test goes."""
    global _after_commit
    _after_commit = django_capture_on_commit_callbacks
    return


_after_commit: Any = None


def _call(client: Any, method: str, url: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    """An API call, then what its commit sets off (as a server's real commit would)."""
    with _after_commit(execute=True):
        if method == "get":
            return client.get(url)
        return getattr(client, method)(
            url, data=json.dumps(body or {}), content_type="application/json", headers=headers
        )


def _create_ticket(cast: Cast, subject: str) -> dict[str, Any]:
    client = api_client(cast.agent)
    response = _call(
        client,
        "post",
        "/api/v1/tickets",
        {"subject": subject, "requester_email": "carmen@globex-acme.example", "body_text": "Nothing loads."},
    )
    assert response.status_code == 201, response.content
    # Read again: the rules ran after the request's commit.
    body: dict[str, Any] = json.loads(client.get(f"/api/v1/tickets/{response.json()['number']}").content)
    return body


def _patch_ticket(cast: Cast, changes: dict[str, Any]) -> None:
    client = api_client(cast.agent)
    number = cast.ticket.number
    etag = client.get(f"/api/v1/tickets/{number}")["ETag"]
    response = _call(client, "patch", f"/api/v1/tickets/{number}", changes, **{"if-match": etag})
    assert response.status_code == 200, response.content


def test_a_new_ticket_matching_the_rule_gets_its_actions_and_the_history_says_so(acme: Cast) -> None:
    rule = _urgent_on_outage(acme)

    created = _create_ticket(acme, "Total OUTAGE in the EU region")
    other = _create_ticket(acme, "How do I export invoices?")

    assert created["priority"] == "urgent"
    assert created["tags"] == ["incident"]
    assert other["priority"] == "normal"
    run = AutomationRun.objects.get(rule=rule)
    assert (run.ticket.number, run.event, run.outcome) == (created["number"], "ticket.created", RunOutcome.APPLIED)
    assert run.detail == "set priority to Urgent; added the tag “incident”"
    page = signed_in_client(acme.agent).get(f"/tickets/{created['number']}/")
    assert "Automation “Outage is urgent”: set priority to Urgent; added the tag “incident”" in page.content.decode()
    # The change itself is the admin's, made through the one write path, marked as the rule's.
    change = TicketEvent.objects.get(ticket__number=created["number"], field="priority")
    assert (change.actor_agent, change.via, change.new_value) == (acme.admin, f"automation:{rule.pk}", "urgent")


def test_two_rules_that_would_ping_pong_forever_stop_with_a_loop_entry(acme: Cast) -> None:
    up = create_rule(
        actor=acme.admin,
        draft=RuleDraft(
            name="High becomes urgent",
            events=["ticket.updated"],
            conditions=[{"field": "priority", "operator": "is", "value": "high"}],
            actions=[{"type": "set_priority", "value": "urgent"}],
        ),
    )
    down = create_rule(
        actor=acme.admin,
        draft=RuleDraft(
            name="Urgent becomes high",
            events=["ticket.updated"],
            conditions=[{"field": "priority", "operator": "is", "value": "urgent"}],
            actions=[{"type": "set_priority", "value": "high"}],
        ),
    )
    _patch_ticket(acme, {"priority": "high"})

    # The person's change -> "up" (urgent) -> "down" (high) -> "up" again would loop: cut, and logged.
    assert Ticket.objects.get(pk=acme.ticket.pk).priority == "high"
    log = [(run.rule.name, run.outcome) for run in AutomationRun.objects.order_by("id")]
    assert log == [
        ("High becomes urgent", RunOutcome.APPLIED),
        ("Urgent becomes high", RunOutcome.APPLIED),
        ("High becomes urgent", RunOutcome.LOOP_CUT),
    ]
    cut = AutomationRun.objects.get(outcome=RunOutcome.LOOP_CUT)
    assert cut.detail == (
        "Not run again: it already ran in this chain of changes (“High becomes urgent” → “Urgent becomes high”) "
        "and another rule changed the ticket back; running again would loop."
    )
    assert cut.rule == up
    assert down.runs.count() == 1
    history = TicketEvent.objects.filter(ticket=acme.ticket, kind=EventKind.AUTOMATION).order_by("id")
    assert [event.new_value["outcome"] for event in history] == ["applied", "applied", "loop_cut"]


def test_a_long_chain_of_different_rules_is_cut_at_five(acme: Cast) -> None:
    """Six rules each tagging the ticket when it has the previous one's tag: the sixth is cut."""
    for step in range(1, 7):
        create_rule(
            actor=acme.admin,
            draft=RuleDraft(
                name=f"step {step}",
                events=["ticket.updated"],
                conditions=[{"field": "tag", "operator": "contains", "value": f"t{step - 1}"}],
                actions=[{"type": "add_tag", "value": f"t{step}"}],
            ),
        )
    _patch_ticket(acme, {"add_tags": ["t0"]})

    tags = sorted(acme.ticket.tags.values_list("name", flat=True))
    assert tags == ["t0", "t1", "t2", "t3", "t4", "t5"]
    cut = AutomationRun.objects.get(outcome=RunOutcome.LOOP_CUT)
    assert cut.rule.name == "step 6"
    assert cut.detail.startswith("Not run: 5 rules already ran one after another (“step 1” → “step 2” → ")


def test_a_rule_of_an_admin_since_demoted_does_not_run_and_says_why(acme: Cast) -> None:
    rule = _urgent_on_outage(acme)
    acme.admin.role = Role.AGENT
    acme.admin.save(update_fields=["role"])

    created = _create_ticket(acme, "Outage again")

    assert created["priority"] == "normal"
    run = AutomationRun.objects.get(rule=rule)
    assert run.outcome == RunOutcome.SKIPPED
    assert run.detail == "Not run: Adam Admin, who saved this rule, is no longer an active admin."


def test_a_rule_cannot_name_another_workspaces_team(acme: Cast, umbrella: Cast) -> None:
    with pytest.raises(ValidationFailed) as refused:
        create_rule(
            actor=acme.admin,
            draft=RuleDraft(
                name="Move to their team",
                events=["ticket.created"],
                actions=[{"type": "set_team", "value": umbrella.support.pk}],
            ),
        )
    assert refused.value.message == f"“{umbrella.support.pk}” was not found in this workspace."
    assert not AutomationRun.objects.exists()


def test_an_agent_cannot_save_a_rule(acme: Cast) -> None:
    from deskloop.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        _urgent_on_outage(acme, actor=acme.agent)


def test_a_failing_action_is_logged_and_other_rules_still_run(acme: Cast) -> None:
    """A referenced status deleted after the save: the run fails with a reason, the next rule still applies."""
    from deskloop.tickets.models import Status

    spare = Status.objects.create(workspace=acme.workspace, name="Waiting on vendor", category="on_hold", position=99)
    broken = create_rule(
        actor=acme.admin,
        draft=RuleDraft(
            name="To vendor", events=["ticket.created"], actions=[{"type": "set_status", "value": spare.pk}]
        ),
    )
    spare.delete()
    _urgent_on_outage(acme)

    created = _create_ticket(acme, "Outage of the vendor")

    assert created["priority"] == "urgent"
    failed = AutomationRun.objects.get(rule=broken)
    assert (failed.outcome, failed.detail) == (
        RunOutcome.FAILED,
        "Something this rule refers to no longer exists; edit the rule.",
    )


def test_a_rule_assigns_new_tickets_in_turn_within_a_team(acme: Cast) -> None:
    """ "Assign in team" hands tickets round-robin to the team's available writers (the assignment app decides)."""
    create_rule(
        actor=acme.admin,
        draft=RuleDraft(
            name="Billing questions to Support",
            events=["ticket.created"],
            conditions=[{"field": "subject", "operator": "contains", "value": "invoice"}],
            actions=[{"type": "assign_in_team", "value": "Support"}],
        ),
    )

    first = _create_ticket(acme, "Invoice 1 is wrong")
    second = _create_ticket(acme, "Invoice 2 is wrong")
    third = _create_ticket(acme, "Invoice 3 is wrong")

    order = [first["assignee"]["id"], second["assignee"]["id"], third["assignee"]["id"]]
    assert order == [acme.admin.pk, acme.agent.pk, acme.admin.pk]
    runs = list(AutomationRun.objects.order_by("id").values_list("detail", flat=True))
    assert runs == [
        "assigned to Adam Admin in Support",
        "assigned to Maria Agent in Support",
        "assigned to Adam Admin in Support",
    ]
