"""Merge, spam, trash and restore from the ticket page, and the purge_trash command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import time_machine
from django.core.management import call_command
from django.utils import timezone

from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.models import Contact
from deskloop.tickets.models import Message, Ticket
from deskloop.tickets.services.lifecycle import soft_delete_ticket
from deskloop.tickets.services.tickets import NewTicket, open_ticket

HTMX = {"hx-request": "true"}


def _second_ticket(cast: Cast) -> Ticket:
    return open_ticket(
        workspace=cast.workspace,
        ticket=NewTicket(
            requester=cast.customer, subject="VAT number still wrong", body_text="Following up on the VAT number."
        ),
    )[0]


def test_merge_moves_the_conversation_and_the_merged_page_points_to_the_survivor(acme: Cast) -> None:
    duplicate = _second_ticket(acme)
    client = signed_in_client(acme.agent)
    response = client.post(f"/tickets/{duplicate.number}/merge/", {"target": f"#{acme.ticket.number}"}, headers=HTMX)
    assert (response.status_code, response["HX-Redirect"]) == (204, f"/tickets/{acme.ticket.number}/")
    assert Message.objects.filter(ticket=acme.ticket, kind="reply").count() == 2
    survivor_html = client.get(f"/tickets/{acme.ticket.number}/").content.decode()
    assert f"Ticket #{duplicate.number} (VAT number still wrong) was merged into this ticket." in survivor_html
    merged_html = client.get(f"/tickets/{duplicate.number}/").content.decode()
    assert "This ticket was merged into" in merged_html
    assert f'<a href="/tickets/{acme.ticket.number}/">#{acme.ticket.number} Invoice shows the wrong VAT number</a>' in (
        merged_html
    )
    assert 'id="composer-form"' not in merged_html


def test_merging_into_an_unknown_or_foreign_number_is_refused(acme: Cast, umbrella: Cast) -> None:
    extra = _second_ticket(umbrella)
    client = signed_in_client(acme.agent)
    response = client.post(f"/tickets/{acme.ticket.number}/merge/", {"target": str(extra.number)}, headers=HTMX)
    assert response.status_code == 422
    assert f"Ticket #{extra.number} was not found." in response.content.decode()
    itself = client.post(f"/tickets/{acme.ticket.number}/merge/", {"target": str(acme.ticket.number)}, headers=HTMX)
    assert "A ticket cannot be merged into itself." in itself.content.decode()
    assert Ticket.objects.filter(merged_into__isnull=False).count() == 0


def test_light_agents_and_viewers_cannot_merge_spam_or_delete(acme: Cast) -> None:
    duplicate = _second_ticket(acme)
    for role in ("light_agent", "viewer"):
        client = signed_in_client(acme.by_role(role))
        number = acme.ticket.number
        assert client.post(f"/tickets/{duplicate.number}/merge/", {"target": number}).status_code == 403
        assert client.post(f"/tickets/{number}/spam/").status_code == 403
        assert client.post(f"/tickets/{number}/delete/").status_code == 403
        assert client.post(f"/tickets/{number}/restore/").status_code == 403
    ticket = Ticket.objects.get(pk=acme.ticket.pk)
    assert (ticket.is_spam, ticket.deleted_at, ticket.merged_into_id) == (False, None, None)


def test_mark_as_spam_blocks_the_sender_and_undo_unblocks(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    client.post(f"/tickets/{acme.ticket.number}/spam/", headers=HTMX)
    assert Contact.objects.get(pk=acme.customer.pk).is_blocked is True
    html = client.get(f"/tickets/{acme.ticket.number}/").content.decode()
    assert "This ticket is marked as spam and its requester is blocked." in html
    client.post(f"/tickets/{acme.ticket.number}/spam/", {"undo": "1"}, headers=HTMX)
    assert (Ticket.objects.get(pk=acme.ticket.pk).is_spam, Contact.objects.get(pk=acme.customer.pk).is_blocked) == (
        False,
        False,
    )


def test_delete_then_restore_from_the_trash(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    response = client.post(f"/tickets/{acme.ticket.number}/delete/")
    assert (response.status_code, response["Location"]) == (302, f"/tickets/{acme.ticket.number}/")
    html = client.get(f"/tickets/{acme.ticket.number}/").content.decode()
    assert "This ticket is in the trash since" in html
    assert 'id="composer-form"' not in html
    # Readers do not see the trash at all.
    assert signed_in_client(acme.viewer).get(f"/tickets/{acme.ticket.number}/").status_code == 404
    client.post(f"/tickets/{acme.ticket.number}/restore/")
    assert Ticket.objects.get(pk=acme.ticket.pk).deleted_at is None
    assert signed_in_client(acme.viewer).get(f"/tickets/{acme.ticket.number}/").status_code == 200


def test_purge_trash_command_deletes_after_thirty_days(acme: Cast) -> None:
    recent = _second_ticket(acme)
    soft_delete_ticket(ticket=acme.ticket, agent=acme.agent)
    with time_machine.travel(timezone.now() + dt.timedelta(days=20)):
        soft_delete_ticket(ticket=recent, agent=acme.agent)
    out = StringIO()
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        call_command("purge_trash", stdout=out)
    assert out.getvalue() == "Purged 1 ticket(s) from the trash.\n"
    assert list(Ticket.objects.filter(workspace=acme.workspace).values_list("pk", flat=True)) == [recent.pk]
