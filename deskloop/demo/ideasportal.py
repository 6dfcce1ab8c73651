"""The demo's ideas as customers and the ticket page see them: the public board switched on, ideas customers posted
from the portal and the widget with their colleagues' votes and comments, planned / in progress / shipped ones for
the roadmap and the changelog, and votes agents recorded from conversations (so ticket pages show their Ideas panel).

Every row goes through the same services the product uses (``post_idea``, ``cast_vote``, ``add_comment``,
``change_status``, ``vote_from_ticket``), deterministically (no randomness: the same demo every time).
"""

from __future__ import annotations

from django.db.models import Count

from deskloop.accounts.models import Agent, Workspace
from deskloop.channels.portal.board_services import post_idea
from deskloop.customers.models import Contact
from deskloop.ideas.models import Idea, IdeaBoard, IdeaStatus, Importance, VoteSource
from deskloop.ideas.services.from_ticket import TicketVote, vote_from_ticket
from deskloop.ideas.services.ideas import add_comment, change_status
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.tickets.models import ProductArea, Ticket

# (product area, title, description, status, what shipped)
CUSTOMER_IDEAS = [
    (
        "Billing > Invoices",
        "Send invoices to a second billing address",
        "Our accounts payable team needs every invoice, not only the account owner.",
        IdeaStatus.SHIPPED,
        "Add billing contacts under Settings > Billing: every invoice now goes to each of them.",
    ),
    (
        "Data > Exports",
        "Schedule a CSV export every Monday",
        "We download the same export by hand every week for our board report.",
        IdeaStatus.PLANNED,
        "",
    ),
    (
        "Mobile app > iOS",
        "Offline mode in the iOS app",
        "Our technicians work in basements without signal and lose what they typed.",
        IdeaStatus.IN_PROGRESS,
        "",
    ),
    (
        "Reports > Dashboards",
        "Share a dashboard with a read-only link",
        "Our customers' managers should see the dashboard without an account.",
        IdeaStatus.UNDER_REVIEW,
        "",
    ),
    (
        "Integrations > Slack",
        "Reply to customers from Slack",
        "Half of the team lives in Slack; switching windows slows every answer.",
        IdeaStatus.UNDER_REVIEW,
        "",
    ),
    (
        "Projects > Time tracking",
        "Round tracked time to 15 minutes",
        "Our contracts bill in quarter hours.",
        IdeaStatus.DECLINED,
        "",
    ),
]
CUSTOMER_COMMENTS = [
    "We need this too: the current workaround costs us an hour a week.",
    "Would this also work for the Android app?",
]
IMPORTANCES = (Importance.NICE_TO_HAVE, Importance.IMPORTANT, Importance.CRITICAL)
VOICE_SOURCES = (VoteSource.BOARD, VoteSource.WIDGET, VoteSource.PORTAL)
TICKET_VOTES = 8


def _area(workspace: Workspace, path: str) -> ProductArea | None:
    return ProductArea.objects.filter(workspace=workspace, path=path).first()


def seed_ideas_portal(*, workspace: Workspace, product_manager: Agent) -> int:
    """Open the public board and give it customers' ideas, votes and comments; returns how many ideas were posted."""
    IdeaBoard.objects.update_or_create(workspace=workspace, defaults={"is_public": True})
    customers = list(
        Contact.objects.filter(workspace=workspace, organization__isnull=False, is_blocked=False).order_by("pk")[:40]
    )
    if len(customers) < len(CUSTOMER_IDEAS):
        return 0
    posted: list[Idea] = []
    for index, (area, title, description, status, shipped_note) in enumerate(CUSTOMER_IDEAS):
        idea = post_idea(
            workspace=workspace,
            contact=customers[index],
            title=title,
            description=description,
            product_area=_area(workspace, area),
            source=VOICE_SOURCES[index % 2],
        )
        # Colleagues of other organizations agree, more for the earlier (more wanted) ideas.
        for step in range(1, 12 - index):
            voter = customers[(index * 7 + step * 3) % len(customers)]
            cast_vote(
                idea=idea,
                voter=Voter(contact=voter),
                source=VOICE_SOURCES[step % len(VOICE_SOURCES)],
                importance=IMPORTANCES[(index + step) % len(IMPORTANCES)],
            )
        if index < len(CUSTOMER_COMMENTS):
            add_comment(idea=idea, body=CUSTOMER_COMMENTS[index], contact=customers[index + 1])
        if status != IdeaStatus.UNDER_REVIEW:
            idea = change_status(idea=idea, status=status, agent=product_manager, shipped_note=shipped_note)
        posted.append(idea)
    add_comment(
        idea=posted[2], body="We are testing offline mode with two customers this month.", agent=product_manager
    )
    _votes_from_conversations(workspace, product_manager, posted)
    return len(posted)


def _votes_from_conversations(workspace: Workspace, agent: Agent, ideas: list[Idea]) -> None:
    """Agents voted for the requesters of some conversations ("Vote for this customer" on the ticket page)."""
    open_ideas = [idea for idea in ideas if idea.status != IdeaStatus.DECLINED]
    tickets = (
        Ticket.objects.filter(workspace=workspace, requester__organization__isnull=False, deleted_at__isnull=True)
        .annotate(replies=Count("messages"))
        .order_by("-replies", "number")[:TICKET_VOTES]
    )
    for index, ticket in enumerate(tickets):
        vote_from_ticket(
            ticket=ticket,
            agent=agent,
            choice=TicketVote(
                contact_id=ticket.requester_id,
                importance=IMPORTANCES[index % len(IMPORTANCES)],
                idea=open_ideas[index % len(open_ideas)],
            ),
        )
