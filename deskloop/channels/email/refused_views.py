"""Refused mail from the inbox side (admins): the list, "Deliver it anyway", and the allow list settings screen."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.refusals import refusal

from . import queries, refused_mail
from .decide import OVERRULABLE, Refusal
from .forms import SenderAllowanceForm
from .models import InboundState

PAGE_SIZE = 50
REASON_LABELS = {
    Refusal.LIST: gettext_lazy("List or bulk mail"),
    Refusal.AUTO_REPLY: gettext_lazy("Automatic reply"),
    Refusal.BOUNCE: gettext_lazy("Bounce"),
    Refusal.LOOP: gettext_lazy("Mail loop"),
    Refusal.BLOCKED_SENDER: gettext_lazy("Blocked sender"),
    Refusal.TOO_LARGE: gettext_lazy("Too large"),
    Refusal.NO_SENDER: gettext_lazy("No sender"),
}


@agent_view(roles=ADMIN_ROLES, description="Mail refused as list mail, automatic replies and the like")
@require_GET
def refused_list(request: AgentRequest) -> HttpResponse:
    reason = request.GET.get("reason", "")[:40]
    found = queries.quarantine_for_agent(request.agent, state=InboundState.REFUSED, reason=reason)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(inbound, REASON_LABELS.get(inbound.refusal_reason, inbound.refusal_reason)) for inbound in page]
    return render(
        request,
        "email_channel/refused_list.html",
        {
            "page": page,
            "rows": rows,
            "reason": reason,
            "reasons": list(REASON_LABELS.items()),
            "overrulable": OVERRULABLE,
        },
    )


@agent_view(roles=ADMIN_ROLES, description="Deliver a refused email anyway (list mail, automatic reply)")
@require_POST
def refused_deliver(request: AgentRequest, inbound_id: int) -> HttpResponse:
    inbound = queries.get_inbound_for_agent(request.agent, inbound_id)
    with refusal() as refused:
        result = refused_mail.deliver_refused_email(actor=request.agent, inbound=inbound)
        if result.state == InboundState.PROCESSED and result.ticket_number is not None:
            messages.success(request, _("Delivered: ticket #%(number)s.") % {"number": result.ticket_number})
        elif result.state == InboundState.QUARANTINED:
            messages.error(request, _("The email could not be delivered; it is in the quarantine with the error."))
        else:
            messages.success(request, _("Delivered."))
        return redirect("email_channel:refused_mail")
    return refused.redirect(request, "email_channel:refused_mail")


@agent_view(roles=ADMIN_ROLES, description="The allow list of senders never refused as list mail")
@require_http_methods(["GET", "POST"])
def allow_list(request: AgentRequest) -> HttpResponse:
    form = SenderAllowanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            allowance = refused_mail.add_sender_allowance(actor=request.agent, pattern=form.cleaned_data["pattern"])
            messages.success(request, _("%(pattern)s is on the allow list.") % {"pattern": allowance.pattern})
            if request.POST.get("back") == "refused":
                return redirect("email_channel:refused_mail")
            return redirect("email_channel:allow_list")
    return render(
        request,
        "email_channel/allow_list.html",
        {"form": form, "allowances": refused_mail.allowances_for_agent(request.agent)},
        status=422 if form.errors else 200,
    )


@agent_view(roles=ADMIN_ROLES, description="Remove a sender from the allow list")
@require_POST
def allow_list_remove(request: AgentRequest, allowance_id: int) -> HttpResponse:
    allowance = refused_mail.get_allowance_for_agent(request.agent, allowance_id)
    with refusal() as refused:
        refused_mail.remove_sender_allowance(actor=request.agent, allowance=allowance)
        messages.success(request, _("%(pattern)s is off the allow list.") % {"pattern": allowance.pattern})
        return redirect("email_channel:allow_list")
    return refused.redirect(request, "email_channel:allow_list")
