"""Emails to agents about no particular ticket (an idea shipped, the weekly summary of the reports): one way to
write them, from the workspace's mailbox (or DEFAULT_FROM_EMAIL without one), automatic, rate-limited, and kept
with the reason when not sent, like every automatic email of the channel."""

from __future__ import annotations

import datetime as dt
import email.utils

from django.conf import settings
from django.utils import timezone

from deskloop.accounts.models import Agent, Workspace

from . import outbound
from .models import Mailbox, OutboundEmail, OutboundState
from .notifications import is_system_address
from .outbound import SkipReason

# One person hearing about many things at once gets them all; this only stops a runaway.
RATE_LIMIT = (20, dt.timedelta(hours=1))


def workspace_mailbox(workspace: Workspace) -> Mailbox | None:
    """Mail about no ticket goes out from the workspace's first active mailbox (replies come back to support)."""
    return Mailbox.objects.filter(workspace=workspace, is_active=True).order_by("id").first()


def rate_limited(workspace_id: int, address: str, kind: str, now: dt.datetime) -> bool:
    limit, window = RATE_LIMIT
    recent = (
        OutboundEmail.objects.filter(
            workspace_id=workspace_id, recipient=address, kind=kind, created_at__gte=now - window
        )
        .exclude(state=OutboundState.SKIPPED)
        .count()
    )
    return recent >= limit


def skip_reason(source_active: bool, workspace_id: int, address: str, kind: str) -> str:
    if not source_active:
        return SkipReason.DISABLED
    if is_system_address(address):
        return SkipReason.SYSTEM_ADDRESS
    if rate_limited(workspace_id, address, kind, timezone.now()):
        return SkipReason.RATE_LIMITED
    return ""


def queue_agent_notice(
    *,
    workspace: Workspace,
    agent: Agent,
    kind: str,
    subject: str,
    body_text: str,
    body_html: str,
    is_active: bool = True,
) -> OutboundEmail | None:
    """Write the notice to ``agent`` (sent after commit unless skipped); None when the agent has no address."""
    if not agent.user.email:
        return None
    mailbox = workspace_mailbox(workspace)
    if mailbox is not None:
        from_name, from_address = mailbox.display_name or workspace.name, mailbox.address
    else:
        from_name, from_address = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    return outbound.queue_outbound(
        ticket=None,
        workspace_id=workspace.pk,
        email=outbound.NewOutboundEmail(
            kind=kind,
            to=[[agent.name, agent.user.email]],
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            from_name=from_name or workspace.name,
            from_address=from_address,
            mailbox=mailbox,
            auto_submitted="auto-generated",
            skip_reason=skip_reason(is_active, workspace.pk, agent.user.email.lower(), kind),
        ),
    )
