"""Ticket page actions that change what the ticket is: merge, spam, trash and restore."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import WRITER_ROLES
from deskloop.core.errors import ValidationFailed
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal
from deskloop.tickets.models import Ticket
from deskloop.tickets.services import lifecycle
from deskloop.tickets.views.ticket import domain_error, find_ticket


def _go(request: AgentRequest, url: str) -> HttpResponse:
    """A full navigation: these actions change which page is the right one to show."""
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _target(request: AgentRequest, raw: str) -> Ticket:
    try:
        number = int(raw.strip().lstrip("#"))
    except ValueError as exc:
        raise ValidationFailed(_("Enter the number of the ticket to merge into."), field="target") from exc
    target = (
        Ticket.objects.select_related("status")
        .filter(workspace_id=request.agent.workspace_id, number=number, deleted_at__isnull=True)
        .first()
    )
    if target is None:
        raise ValidationFailed(_("Ticket #%(number)s was not found.") % {"number": number}, field="target")
    return target


@agent_view(roles=WRITER_ROLES, description="Merge this ticket into another one (the survivor)")
@require_POST
def ticket_merge(request: AgentRequest, number: int) -> HttpResponse:
    source = find_ticket(request, number)
    with refusal() as refused:
        survivor = lifecycle.merge_tickets(
            source=source, target=_target(request, request.POST.get("target", "")), agent=request.agent
        )
        flash.success(
            request,
            _("Ticket #%(source)s was merged into this ticket.") % {"source": source.number},
        )
        return _go(request, reverse("tickets:detail", kwargs={"number": survivor.number}))
    return domain_error(request, source, refused, region="merge")


@agent_view(roles=WRITER_ROLES, description="Mark as spam (blocks the requester) or undo it")
@require_POST
def ticket_spam(request: AgentRequest, number: int) -> HttpResponse:
    ticket = find_ticket(request, number)
    with refusal() as refused:
        if request.POST.get("undo") == "1":
            lifecycle.unmark_spam(ticket=ticket, agent=request.agent)
            flash.success(request, _("The ticket is no longer marked as spam; the requester is unblocked."))
        else:
            lifecycle.mark_spam(ticket=ticket, agent=request.agent)
            flash.success(request, _("Marked as spam; the requester is blocked."))
        return _go(request, reverse("tickets:detail", kwargs={"number": ticket.number}))
    return domain_error(request, ticket, refused, region="actions")


@agent_view(roles=WRITER_ROLES, description="Move the ticket to the trash (restorable for 30 days)")
@require_POST
def ticket_delete(request: AgentRequest, number: int) -> HttpResponse:
    ticket = find_ticket(request, number)
    with refusal() as refused:
        lifecycle.soft_delete_ticket(ticket=ticket, agent=request.agent)
        flash.success(request, _("Ticket #%(number)s was moved to the trash.") % {"number": ticket.number})
        return _go(request, reverse("tickets:detail", kwargs={"number": ticket.number}))
    return domain_error(request, ticket, refused, region="actions")


@agent_view(roles=WRITER_ROLES, description="Restore a ticket from the trash")
@require_POST
def ticket_restore(request: AgentRequest, number: int) -> HttpResponse:
    ticket = find_ticket(request, number)
    with refusal() as refused:
        lifecycle.restore_ticket(ticket=ticket, agent=request.agent)
        flash.success(request, _("Ticket #%(number)s was restored.") % {"number": ticket.number})
        return _go(request, reverse("tickets:detail", kwargs={"number": ticket.number}))
    return domain_error(request, ticket, refused, region="actions")
