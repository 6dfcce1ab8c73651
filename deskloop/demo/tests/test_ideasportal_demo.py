"""The demo workspace's ideas as customers and agents meet them after `make run`: the public board with customers'
ideas and counts, the roadmap and the changelog, and tickets whose Ideas panel shows what their customer voted for."""

from __future__ import annotations

from django.test import Client

from deskloop.accounts.models import Agent
from deskloop.conftest import signed_in_client
from deskloop.core.models import OutboxEvent
from deskloop.demo.seed import seed_demo
from deskloop.ideas.models import IdeaBoard, IdeaTicket, IdeaVote, VoteSource


def test_the_demo_board_is_public_with_customers_ideas_and_ticket_votes(db: None) -> None:
    report = seed_demo(tickets=12)
    workspace = report.workspace
    assert IdeaBoard.objects.get(workspace=workspace).is_public

    board = Client().get("/board/demo/").content.decode()
    assert "Send invoices to a second billing address" in board
    assert "Round tracked time to 15 minutes" not in board  # declined: shown only when asked for
    roadmap = Client().get("/board/demo/roadmap/").content.decode()
    assert "Schedule a CSV export every Monday" in roadmap
    assert "Offline mode in the iOS app" in roadmap
    changelog = Client().get("/board/demo/changelog/").content.decode()
    assert "every invoice now goes to each of them" in changelog

    linked = IdeaTicket.objects.filter(workspace=workspace).select_related("ticket", "idea").first()
    assert linked is not None
    # Recorded by an agent from the conversation (a customer who had voted already keeps one vote, now linked).
    assert IdeaVote.objects.filter(workspace=workspace, ticket=linked.ticket, cast_by__isnull=False).exists()
    assert IdeaVote.objects.filter(workspace=workspace, source=VoteSource.AGENT).exists()
    agent = Agent.objects.filter(workspace=workspace, role="agent").first()
    assert agent is not None
    page = signed_in_client(agent).get(f"/tickets/{linked.ticket.number}/").content.decode()
    assert linked.idea.title in page.split('id="ticket-ideas"')[1].split("</section>")[0]
    # Its history is over: no shipped-idea mail or webhook waits for the worker.
    assert not OutboxEvent.objects.filter(workspace=workspace, dispatched_at__isnull=True).exists()
