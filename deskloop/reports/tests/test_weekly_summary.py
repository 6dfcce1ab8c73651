"""The weekly summary: Monday 08:00 in the workspace's time zone, once per manager per week, not to those who turned
it off, with last week's figures as the reports count them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from deskloop.channels.email.models import OutboundEmail, OutboundKind
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast, signed_in_client
from deskloop.core.periodic import registered_jobs
from deskloop.reports.summary import send_weekly_summaries
from deskloop.reports.tests.story import NOW, build_story

# Monday 9 March 2026, 08:00 in Madrid (UTC+1): the summary of 2-8 March.
MONDAY_8 = dt.datetime(2026, 3, 9, 7, 0, tzinfo=dt.UTC)


def _summaries() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind=OutboundKind.WEEKLY_SUMMARY).order_by("recipient"))


@pytest.mark.django_db(transaction=True)
def test_managers_get_last_weeks_figures_once_on_monday_morning(acme: Cast, umbrella: Cast) -> None:
    with time_machine.travel(NOW, tick=False):
        story = build_story(acme)
    create_mailbox(
        actor=acme.admin, values=MailboxSettings(address="support@acme.example", display_name="Acme Support")
    )
    assert "reports_weekly_summary" in [job.name for job in registered_jobs()]
    with time_machine.travel(MONDAY_8 - dt.timedelta(minutes=1), tick=False):
        assert send_weekly_summaries() == 0
    umbrella.workspace.time_zone = "Asia/Tokyo"  # 16:00 there: its managers get theirs too
    umbrella.workspace.save(update_fields=["time_zone"])
    with time_machine.travel(MONDAY_8, tick=False):
        assert send_weekly_summaries() == 4
        assert send_weekly_summaries() == 0
    sent = [mail for mail in _summaries() if mail.workspace_id == acme.workspace.pk]
    assert [mail.recipient for mail in sent] == ["adam@acme.example", "olivia@acme.example"]
    mail = sent[1]
    assert mail.subject == "Acme: your support week (2026-03-02 – 2026-03-08)"
    assert (mail.state, mail.from_address, mail.auto_submitted) == ("sent", "support@acme.example", "auto-generated")
    # Umbrella has no mailbox and no usable default sender: its summaries are written, skipped with the reason.
    assert {m.skip_reason for m in _summaries() if m.workspace_id == umbrella.workspace.pk} == {"no_sender"}
    # T2 and T3: one solved (T2, 480 business minutes), first responses 30 and 90 (nearest-rank median 30).
    assert "Tickets created: 2\n" in mail.body_text
    assert "Solved (of those): 1\n" in mail.body_text
    assert "First response, median (business hours): 0.5 h\n" in mail.body_text
    assert "Resolution, median (business hours): 8.0 h\n" in mail.body_text
    assert "SLA First response · Standard: 50% (1/2)\n" in mail.body_text
    # Against 23 February - 1 March (T1, Billing > Invoices, 1 March in Madrid).
    assert "Top problems:\n- Billing: 1 (+0)\n- Login: 1 (+1)\n" in mail.body_text
    assert "/reports/?since=2026-03-02&until=2026-03-08" in mail.body_text
    assert story.t2.subject not in mail.body_text  # figures only, no customer's words


@pytest.mark.django_db(transaction=True)
def test_a_manager_who_turned_it_off_is_not_sent_it(acme: Cast) -> None:
    admin = signed_in_client(acme.admin)
    assert b"Stop the weekly summary" in admin.get("/reports/").content
    assert admin.post("/reports/weekly-summary/", {"receive": "0"}).status_code == 302
    assert b"Send me the weekly summary" in admin.get("/reports/").content
    assert signed_in_client(acme.viewer).post("/reports/weekly-summary/", {"receive": "0"}).status_code == 403
    # Acme works in UTC here: 08:00 UTC.
    with time_machine.travel(MONDAY_8 + dt.timedelta(hours=1), tick=False):
        assert send_weekly_summaries() == 1
    assert [mail.recipient for mail in _summaries()] == ["olivia@acme.example"]
    admin.post("/reports/weekly-summary/", {"receive": "1"})
    with time_machine.travel(MONDAY_8 + dt.timedelta(days=7, hours=1), tick=False):
        assert send_weekly_summaries() == 2
