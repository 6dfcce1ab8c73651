from __future__ import annotations

from django.http import HttpRequest


def current_agent(request: HttpRequest) -> dict[str, object]:
    agent = getattr(request, "agent", None)
    return {"agent": agent, "workspace": agent.workspace if agent is not None else None}
