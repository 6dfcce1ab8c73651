"""`manage.py seed_demo`: the demo workspace `make run` opens on, built once through the real services."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from typing import Any

import time_machine
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.utils.html import escape

from deskloop.accounts.models import Agent, Team, Workspace
from deskloop.channels.email.models import Mailbox, OutboundEmail
from deskloop.core.models import OutboxEvent
from deskloop.customers.models import Contact, Organization
from deskloop.demo.plan import plan_tickets
from deskloop.ideas.models import ProductTask
from deskloop.tickets.models import DONE_CATEGORIES, Message, MessageKind, ProductArea, Tag, Ticket, TicketEvent
from deskloop.tickets.search import search_tickets

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


def row_counts() -> dict[str, int]:
    """Every table the project has, so "changes nothing" covers tables this test does not know about."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", url="http://127.0.0.1:8765", stdout=out, stderr=io.StringIO())
    return out.getvalue()


SIGN_INS = (
    "\nThe public help center: http://127.0.0.1:8765/help/demo/\n"
    "\nOpen http://127.0.0.1:8765/ and sign in as (unless you changed these passwords):\n"
    "  hannah@acme.example  deskloop-demo  owner\n"
    "  amir@acme.example    deskloop-demo  admin\n"
    "  sam@acme.example     deskloop-demo  agent\n"
    "  lucia@acme.example   deskloop-demo  agent\n"
    "  dmitry@acme.example  deskloop-demo  agent\n"
    "  grace@acme.example   deskloop-demo  agent\n"
    "  priya@acme.example   deskloop-demo  light agent\n"
    "  tom@acme.example     deskloop-demo  viewer\n"
    "\nCustomer portal: http://127.0.0.1:8765/portal/demo/ — sign in as a customer, e.g. dana@northwind.example;"
    " the sign-in link is printed here by the console mail backend.\n"
)


def test_the_demo_is_built_once_and_a_second_run_changes_nothing(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks() as after_commit:
        first = seed()
    # Its history is over: nothing of it is queued for the worker (it used to get a no-op task per outbox event). The
    # worker's only work is the help center's sentence vectors, one per article translation (42 articles x 3).
    assert Counter(callback.__qualname__ for callback in after_commit) == {"schedule_embedding.<locals>.<lambda>": 126}

    workspace = Workspace.objects.get(slug="demo")
    messages = Message.objects.filter(workspace=workspace)
    assert first == (
        "Created the demo workspace “Acme Support” (demo): 200 tickets with 813 messages, "
        "43 contacts in 22 organizations, 42 help-center articles in English, Spanish and Russian.\n" + SIGN_INS
    )
    assert (workspace.name, workspace.ticket_prefix) == ("Acme Support", "ACME")
    assert Counter(Agent.objects.filter(workspace=workspace).values_list("role", flat=True)) == {
        "owner": 1,
        "admin": 1,
        "agent": 4,
        "light_agent": 1,
        "viewer": 1,
    }
    assert {team.name: sorted(a.user.email for a in team.members.all()) for team in Team.objects.all()} == {
        "Tier 1": ["dmitry@acme.example", "lucia@acme.example", "sam@acme.example"],
        "Billing": ["dmitry@acme.example", "grace@acme.example", "lucia@acme.example"],
    }
    assert ProductArea.objects.filter(workspace=workspace, parent__isnull=True).count() == 8
    assert ProductArea.objects.filter(workspace=workspace, parent__isnull=False).count() == 18
    assert Mailbox.objects.get(workspace=workspace).address == "support@acme.example"
    hooli = Organization.objects.get(workspace=workspace, name="Hooli")
    assert (hooli.plan, hooli.mrr, hooli.customer_since, hooli.industry, hooli.lifecycle_stage) == (
        "Enterprise",
        12000,
        dt.date(2020, 11, 2),
        "Technology",
        "customer",
    )
    assert hooli.owner is not None
    assert hooli.owner.user.email == "hannah@acme.example"
    assert list(hooli.domains.values_list("domain", flat=True)) == ["hooli.example"]
    # Revenue: deals won, lost and open; churn for every reason over twelve months, one organization won back.
    from deskloop.revenue.models import ChurnRecord, Deal

    assert Counter(Deal.objects.filter(workspace=workspace).values_list("status", flat=True)) == {
        "lost": 5,
        "won": 3,
        "open": 2,
    }
    assert ChurnRecord.objects.filter(workspace=workspace).count() == 7
    assert sorted(
        ChurnRecord.objects.filter(workspace=workspace, won_back_on__isnull=False).values_list(
            "organization__name", flat=True
        )
    ) == ["Summit Plumbing Co", "Vandelay Industries"]
    assert ProductTask.objects.filter(workspace=workspace, source_kind="deal").count() == 2
    tickets = Ticket.objects.filter(workspace=workspace).select_related("status")
    assert Counter(t.status.name for t in tickets) == {
        "New": 10,
        "Open": 26,
        "Pending": 13,
        "On hold": 1,
        "Solved": 45,
        "Closed": 105,
    }
    assert Counter(messages.values_list("kind", flat=True)) == {"reply": 709, "note": 104}
    assert Counter(Contact.objects.filter(tickets__workspace=workspace).values_list("locale", flat=True)) == {
        "en": 120,
        "es": 44,
        "ru": 36,
    }
    assert Tag.objects.get(workspace=workspace, name="vip").tickets.count() == 33
    # The history is over: no email or webhook goes out for it.
    assert OutboxEvent.objects.filter(workspace_id=workspace.pk, dispatched_at__isnull=True).count() == 0
    assert OutboundEmail.objects.filter(workspace=workspace).count() == 0

    tickets = list(Ticket.objects.filter(workspace=workspace).select_related("status").order_by("number"))

    problems = []
    for ticket in tickets:
        conversation = list(ticket.messages.order_by("created_at", "id"))
        events = list(TicketEvent.objects.filter(ticket=ticket).order_by("created_at", "id"))
        agent_replies = [m.created_at for m in conversation if m.kind == MessageKind.REPLY and m.author_agent_id]
        customer = [m.created_at for m in conversation if m.kind == MessageKind.REPLY and m.author_contact_id]
        checks = {
            "first message is the ticket's creation": conversation[0].created_at == ticket.created_at,
            "nothing in the future": max(m.created_at for m in conversation) < NOW,
            "no event before the ticket": events[0].created_at == ticket.created_at,
            "updated at the last change": ticket.updated_at == max(e.created_at for e in events),
            "first response": ticket.first_response_at == min(agent_replies, default=None),
            "last customer message": ticket.last_customer_message_at == max(customer),
            "solved iff done": (ticket.solved_at is not None) == (ticket.status.category in DONE_CATEGORIES),
            "closed after solved": ticket.closed_at is None or (ticket.solved_at or NOW) < ticket.closed_at,
            "message count": ticket.message_count == len(conversation),
            "an assignee once answered": ticket.status.category == "new" or ticket.assignee_id is not None,
        }
        problems += [f"#{ticket.number}: {name}" for name, ok in checks.items() if not ok]
    assert problems == []
    # Numbers grow with time, as they would have in a real inbox.
    assert [t.created_at for t in tickets] == sorted(t.created_at for t in tickets)

    owner = Agent.objects.get(workspace=workspace, role="owner")
    hits = search_tickets(agent=owner, query="кракозябры")
    assert {hit.ticket.subject for hit in hits.hits} == {"Экспорт в CSV: вместо русских букв кракозябры"}

    client = Client()
    assert client.login(username="sam@acme.example", password="deskloop-demo")
    inbox = client.get("/")
    assert inbox.status_code == 200
    newest = tickets[-1]
    assert escape(newest.subject) in inbox.content.decode()

    counts = row_counts()
    ticket_state = list(Ticket.objects.order_by("pk").values_list("pk", "version", "updated_at", "status_id"))
    with time_machine.travel(NOW + dt.timedelta(days=3), tick=False):
        second = seed()

    assert second == "The demo workspace “Acme Support” (demo) exists already; nothing changed.\n" + SIGN_INS
    assert row_counts() == counts
    assert list(Ticket.objects.order_by("pk").values_list("pk", "version", "updated_at", "status_id")) == ticket_state


def test_the_plan_fits_every_day_of_the_year() -> None:
    """Whatever day `make run` first runs on, every step lies between its ticket's creation and now."""
    for day in range(0, 365, 7):
        now = NOW + dt.timedelta(days=day, hours=day % 24)
        for plan in plan_tickets(now=now):
            times = [plan.created_at] + [step.at for step in plan.steps]
            assert times == sorted(times), plan.conversation
            assert len(set(times)) == len(times), plan.conversation
            assert now - dt.timedelta(days=91) < plan.created_at
            assert times[-1] < now


def test_the_demo_customer_named_by_make_run_signs_in(db: None, django_capture_on_commit_callbacks: Any) -> None:
    from django.test import Client

    from deskloop.channels.portal.tests.helpers import signed_in
    from deskloop.customers.models import Contact
    from deskloop.demo.seed import seed_demo

    workspace = seed_demo(tickets=5).workspace
    # A customer of the demo already (with requests of their own once the demo has enough tickets).
    assert Contact.objects.filter(workspace=workspace, emails__email="dana@northwind.example").count() == 1
    client = signed_in(Client(), workspace, "dana@northwind.example", django_capture_on_commit_callbacks)
    assert client.get(f"/portal/{workspace.slug}/").status_code == 200


def test_the_demo_help_center_has_forty_public_articles_in_three_languages(db: None) -> None:
    """Every demo article is published in English, Spanish and Russian, in a section, and readable by a visitor
    (two internal ones for agents stay out); the help center answers in each language."""
    from deskloop.knowledge.models import ArticleTranslation, ArticleVisibility

    seed()
    workspace = Workspace.objects.get(slug="demo")
    translations = ArticleTranslation.objects.filter(workspace=workspace).select_related("article__category")
    by_visibility = Counter((t.article.visibility, t.locale, t.state) for t in translations)
    assert by_visibility == {
        **{(ArticleVisibility.PUBLIC, locale, "published"): 40 for locale in ("en", "es", "ru")},
        **{(ArticleVisibility.INTERNAL, locale, "published"): 2 for locale in ("en", "es", "ru")},
    }
    assert all(t.article.category is not None and t.article.category.parent_id for t in translations)
    words = sorted(len(t.body_text.split()) for t in translations)
    assert words[0] >= 80
    assert words[-1] <= 200
    client = Client()
    for locale, heading in (("en", "Getting started"), ("es", "Primeros pasos"), ("ru", "Начало работы")):
        page = client.get(f"/help/demo/{locale}/")
        assert page.status_code == 200
        assert heading in page.content.decode()
    found = client.get("/help/demo/ru/search", {"q": "пароль"}).content.decode()
    assert "Как восстановить забытый пароль" in found
    assert "Внутреннее" not in found


def test_the_demo_ideas_board_shows_ranked_ideas_with_votes_and_shipped_ones(db: None) -> None:
    """25 ideas across product areas (one merged away), voted for by the demo's customers, some shipped with what
    shipped; the agents' board ranks them by score."""
    from deskloop.conftest import signed_in_client
    from deskloop.ideas.models import Idea, IdeaStatus

    seed()
    workspace = Workspace.objects.get(slug="demo")
    # The customers' own ideas (demo/ideasportal.py, posted from the portal and the widget) are counted elsewhere.
    from deskloop.demo.ideasportal import CUSTOMER_IDEAS

    ideas = Idea.objects.filter(workspace=workspace).exclude(title__in=[row[1] for row in CUSTOMER_IDEAS])
    assert ideas.count() == 25
    assert ideas.filter(merged_into__isnull=False).count() == 1
    shipped = ideas.filter(status=IdeaStatus.SHIPPED)
    assert shipped.count() == 5
    assert all(idea.shipped_note and idea.shipped_at for idea in shipped)
    assert ideas.filter(merged_into__isnull=True, vote_count=0).count() == 0
    manager = Agent.objects.get(workspace=workspace, user__email="grace@acme.example")
    board = signed_in_client(manager).get("/ideas/")
    top = ideas.filter(merged_into__isnull=True).order_by("-score", "-id").first()
    assert top is not None
    assert board.status_code == 200
    assert top.title in board.content.decode()
