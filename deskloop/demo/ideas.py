"""The demo's ideas board: 25 ideas across Acme Cloud's product areas, voted for by the demo's customers (some by an
agent from the customer's ticket, linking it), at every status, some shipped with what shipped, one duplicate merged.

Written through the ideas services like agents and customers would, so the values (votes, organizations, MRR,
score) are the real ones; only the dates are moved into the past afterwards, so "newest" and "trending" have history.
"""

from __future__ import annotations

import datetime as dt
import random

from deskloop.accounts.models import Agent, Workspace
from deskloop.customers.models import Contact
from deskloop.ideas.models import Idea, IdeaStatus, IdeaVote, Importance, VoteSource
from deskloop.ideas.services.ideas import add_comment, change_status, create_idea, merge_ideas
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.tickets.models import ProductArea, Ticket

# (title, product area, status, voters, what shipped)
IDEAS: list[tuple[str, str, str, int, str]] = [
    (
        "Export invoices as CSV",
        "Billing/Invoices",
        IdeaStatus.SHIPPED,
        9,
        "Billing > Invoices > Export now offers CSV next to PDF, with one row per invoice line.",
    ),
    ("Single sign-on with Okta", "Account/Single sign-on (SSO)", IdeaStatus.IN_PROGRESS, 12, ""),
    ("SAML for Azure AD", "Account/Single sign-on (SSO)", IdeaStatus.PLANNED, 7, ""),
    ("Pay invoices by SEPA direct debit", "Billing/Payments", IdeaStatus.UNDER_REVIEW, 6, ""),
    (
        "Dark mode in the mobile app",
        "Mobile app/iOS",
        IdeaStatus.SHIPPED,
        8,
        "Settings > Appearance > Dark on iOS 17 and later; Android follows.",
    ),
    ("Offline mode for field technicians", "Mobile app/Android", IdeaStatus.PLANNED, 10, ""),
    ("Recurring tasks", "Projects/Tasks", IdeaStatus.IN_PROGRESS, 11, ""),
    ("Task dependencies (finish-to-start)", "Projects/Tasks", IdeaStatus.UNDER_REVIEW, 5, ""),
    (
        "Approve timesheets in bulk",
        "Projects/Time tracking",
        IdeaStatus.SHIPPED,
        4,
        "Time tracking > Approvals: select many weeks and approve them at once.",
    ),
    ("Timer in the browser tab title", "Projects/Time tracking", IdeaStatus.DECLINED, 2, ""),
    ("Scheduled exports to S3", "Data/Exports", IdeaStatus.PLANNED, 6, ""),
    ("Import projects from Asana", "Data/Imports", IdeaStatus.UNDER_REVIEW, 5, ""),
    (
        "Post task updates to a Slack channel",
        "Integrations/Slack",
        IdeaStatus.SHIPPED,
        7,
        "Integrations > Slack: pick a channel per project; updates arrive as threads.",
    ),
    ("Sync accounts with Salesforce", "Integrations/Salesforce", IdeaStatus.UNDER_REVIEW, 8, ""),
    ("Webhook for overdue tasks", "Integrations/API & webhooks", IdeaStatus.UNDER_REVIEW, 3, ""),
    (
        "API rate limit headers",
        "Integrations/API & webhooks",
        IdeaStatus.SHIPPED,
        3,
        "Every API answer carries RateLimit-Remaining and RateLimit-Reset.",
    ),
    ("Custom dashboards per team", "Reports/Dashboards", IdeaStatus.PLANNED, 9, ""),
    ("Share a dashboard by public link", "Reports/Dashboards", IdeaStatus.UNDER_REVIEW, 4, ""),
    ("Daily digest email instead of one email per change", "Notifications/Email", IdeaStatus.IN_PROGRESS, 7, ""),
    (
        "Two-factor authentication with hardware keys",
        "Account/Two-factor authentication",
        IdeaStatus.UNDER_REVIEW,
        5,
        "",
    ),
    ("Custom roles with fine-grained permissions", "Account/Users & permissions", IdeaStatus.UNDER_REVIEW, 8, ""),
    ("Annual billing with a discount", "Billing/Plans & upgrades", IdeaStatus.DECLINED, 3, ""),
    ("Sign in with a magic link", "Account/Sign-in", IdeaStatus.UNDER_REVIEW, 2, ""),
    ("Gantt chart view", "Projects/Tasks", IdeaStatus.UNDER_REVIEW, 6, ""),
    ("Okta SSO", "Account/Single sign-on (SSO)", IdeaStatus.UNDER_REVIEW, 3, ""),  # a duplicate, merged below
]
IMPORTANCES = [Importance.NICE_TO_HAVE] * 5 + [Importance.IMPORTANT] * 3 + [Importance.CRITICAL] * 2
SOURCES = [VoteSource.PORTAL, VoteSource.WIDGET, VoteSource.BOARD]


def seed_ideas(*, workspace: Workspace, areas: dict[str, ProductArea], now: dt.datetime) -> int:
    """Write the board; returns how many ideas. Deterministic (a fixed random seed)."""
    pick = random.Random(11)
    agents = {
        a.user.email.partition("@")[0]: a for a in Agent.objects.filter(workspace=workspace).select_related("user")
    }
    product_manager, agent = agents["grace"], agents["sam"]
    customers = list(Contact.objects.filter(workspace=workspace, organization__isnull=False).order_by("pk"))
    ideas: list[Idea] = []
    for position, (title, area, status, voters, shipped_note) in enumerate(IDEAS):
        author = customers[position % len(customers)] if position % 3 else None
        idea = create_idea(
            workspace=workspace,
            title=title,
            product_area=areas[area],
            author_contact=author,
            author_agent=None if author else product_manager,
        )
        for contact in pick.sample(customers, min(voters, len(customers))):
            _vote(idea, contact, pick, agent)
        if status != IdeaStatus.UNDER_REVIEW:
            change_status(idea=idea, status=status, agent=product_manager, shipped_note=shipped_note)
        ideas.append(idea)
        _into_the_past(idea, days_ago=pick.randint(10, 200), now=now, pick=pick)
    add_comment(
        idea=ideas[1],
        body="Enterprise customers ask for this in every renewal call.",
        agent=product_manager,
        is_internal=True,
    )
    add_comment(
        idea=ideas[1],
        body="We use Okta for everything else; this would save us a lot of passwords.",
        contact=customers[0],
    )
    add_comment(idea=ideas[5], body="Our technicians lose signal in basements every day.", contact=customers[3])
    merge_ideas(loser=ideas[-1], survivor=ideas[1], agent=product_manager)
    return len(ideas)


def _vote(idea: Idea, contact: Contact, pick: random.Random, agent: Agent) -> None:
    importance = pick.choice(IMPORTANCES)
    ticket = None
    if pick.random() < 0.3:
        # An agent voting for the customer from one of their conversations, which gets linked.
        ticket = Ticket.objects.filter(workspace_id=idea.workspace_id, requester=contact).order_by("pk").first()
    if ticket is not None:
        cast_vote(
            idea=idea,
            voter=Voter(contact=contact),
            source=VoteSource.AGENT,
            importance=importance,
            ticket=ticket,
            agent=agent,
        )
    else:
        cast_vote(idea=idea, voter=Voter(contact=contact), source=pick.choice(SOURCES), importance=importance)


def _into_the_past(idea: Idea, *, days_ago: int, now: dt.datetime, pick: random.Random) -> None:
    """Demo history: the idea posted ``days_ago``, its votes since then (some in the last 30 days: trending)."""
    created = now - dt.timedelta(days=days_ago, hours=pick.randint(0, 23))
    changed = {"created_at": created, "updated_at": created}
    if idea.status != IdeaStatus.UNDER_REVIEW:
        moved = created + dt.timedelta(days=max(1, days_ago // 2))
        changed["status_changed_at"] = moved
        idea.refresh_from_db()
        if idea.status == IdeaStatus.SHIPPED:
            changed["shipped_at"] = moved
    Idea.objects.filter(pk=idea.pk).update(**changed)
    for vote_id in IdeaVote.objects.filter(idea=idea).values_list("pk", flat=True):
        voted = created + dt.timedelta(days=pick.randint(0, days_ago), hours=pick.randint(0, 23))
        IdeaVote.objects.filter(pk=vote_id).update(created_at=min(voted, now))
