"""What every benchmark needs from the generated workspace: an agent, a signed-in client, an API token."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any


@dataclass
class BenchContext:
    workspace: Any
    agent: Any
    ticket_ids: list[int]
    ticket_numbers: list[int]
    contact_emails: list[str]
    rng: random.Random

    @classmethod
    def load(cls, workspace_slug: str, *, seed: int = 11) -> BenchContext:
        from django.db.models import Count

        from deskloop.accounts.models import Agent, Workspace
        from deskloop.customers.models import ContactEmail
        from deskloop.tickets.models import Ticket

        workspace = Workspace.objects.get(slug=workspace_slug)
        # The busiest agent: their "mine" view and the inbox are the heaviest to render.
        agent = (
            Agent.objects.filter(workspace=workspace, role__in=["agent", "admin"])
            .annotate(assigned=Count("assigned_tickets"))
            .order_by("-assigned", "pk")
            .select_related("user")
            .first()
        )
        rng = random.Random(seed)
        last = workspace.last_ticket_number
        sample = sorted(rng.sample(range(1, last + 1), k=min(500, last)))
        tickets = list(Ticket.objects.filter(workspace=workspace, number__in=sample).values_list("pk", "number"))
        emails = list(
            ContactEmail.objects.filter(workspace=workspace).order_by("pk").values_list("email", flat=True)[:500]
        )
        return cls(
            workspace=workspace,
            agent=agent,
            ticket_ids=[pk for pk, _ in tickets],
            ticket_numbers=[number for _, number in tickets],
            contact_emails=emails,
            rng=rng,
        )

    def client(self) -> Any:
        from django.test import Client

        from deskloop.accounts.access import SESSION_WORKSPACE_KEY

        client = Client()
        client.force_login(self.agent.user)
        session = client.session
        session[SESSION_WORKSPACE_KEY] = self.workspace.pk
        session.save()
        return client

    def pk_lookup(self, index: int) -> object:
        """Baseline: one ticket by primary key through the ORM (the cheapest real query the app makes)."""
        from deskloop.tickets.models import Ticket

        return Ticket.objects.get(pk=self.ticket_ids[index % len(self.ticket_ids)])
