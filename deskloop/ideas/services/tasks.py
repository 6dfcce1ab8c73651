"""Product tasks are opened by the system (a deal lost for missing functionality, in revenue); a product manager
closes them from their page."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent
from deskloop.core.errors import NotFound
from deskloop.ideas.models import ProductTask

TASK_WRITERS_ONLY = gettext_noop("Your role cannot close product tasks.")


def complete_task(*, task: ProductTask, agent: Agent) -> ProductTask:
    """Mark ``task`` done (once: a second call keeps the first time). Any agent who can write may, not only the
    assignee: product managers stand in for each other."""
    require_role(agent, Capability.WRITE, TASK_WRITERS_ONLY)
    if task.workspace_id != agent.workspace_id:
        raise NotFound(_("No such task in this workspace."))
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at"])
    return task
