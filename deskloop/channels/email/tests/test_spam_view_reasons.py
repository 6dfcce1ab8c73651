"""The Spam view says on each row why the ticket is there: the reason the spam filter recorded, as the ticket page's
banner says it, in the reader's language (issue #9)."""

from __future__ import annotations

import html
import re

from django.test import Client
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks as Capture

from deskloop.accounts.services import update_profile
from deskloop.channels.email.models import Mailbox
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.lifecycle import mark_spam, unmark_spam

from .corpus import BASIC, real

SPAMASSASSIN_YES = "Yes, score=14.2 required=5.0 tests=BAYES_99,HTML_MESSAGE,URIBL_BLACK autolearn=no"


def _trusting_mailbox(cast: Cast) -> Mailbox:
    return create_mailbox(
        actor=cast.admin, values=MailboxSettings(address="support@acme.example", trust_spam_headers=True)
    )


def _filed_by_spamassassin(cast: Cast, capture: Capture) -> Ticket:
    raw = real(BASIC, X_Spam_Flag="YES", X_Spam_Status=SPAMASSASSIN_YES)
    with capture(execute=True):
        result = ingest_raw(mailbox=_trusting_mailbox(cast), raw=raw, via="smtp")
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.is_spam
    return ticket


def _row_reasons(client: Client) -> dict[int, str]:
    """Ticket number -> the reason its row in the Spam view shows ("" for none)."""
    page = client.get("/", {"view": "spam"})
    assert page.status_code == 200
    rows = re.findall(r'data-ticket-number="(\d+)">(.*?)</tr>', page.content.decode(), flags=re.S)
    reasons = {}
    for number, row in rows:
        found = re.search(r"<p class=\"spam-reason\" data-spam-reason>(.*?)</p>", row, flags=re.S)
        reasons[int(number)] = html.unescape(found.group(1)) if found else ""
    return reasons


def test_a_spam_view_row_says_which_filter_put_it_there_and_why(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = _filed_by_spamassassin(acme, django_capture_on_commit_callbacks)
    mark_spam(ticket=acme.ticket, agent=acme.agent)  # an agent's mark: no filter's reason to give
    assert _row_reasons(signed_in_client(acme.agent)) == {
        ticket.number: f"In Spam because the mail server's SpamAssassin said spam (X-Spam-Status: {SPAMASSASSIN_YES})",
        acme.ticket.number: "",
    }
    # In the reader's language.
    update_profile(user=acme.admin.user, name=acme.admin.user.name, language="es", time_zone="Europe/Madrid")
    assert _row_reasons(signed_in_client(acme.admin))[ticket.number] == (
        f"En Spam porque SpamAssassin del servidor de correo lo calificó de spam (X-Spam-Status: {SPAMASSASSIN_YES})"
    )


def test_an_agents_later_spam_mark_replaces_the_filters_reason(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    ticket = _filed_by_spamassassin(acme, django_capture_on_commit_callbacks)
    unmark_spam(ticket=ticket, agent=acme.agent)
    ticket.refresh_from_db()
    mark_spam(ticket=ticket, agent=acme.agent)
    # The agent put it back in Spam themselves: the mail server's old verdict is not why it is there now.
    assert _row_reasons(signed_in_client(acme.agent)) == {ticket.number: ""}
