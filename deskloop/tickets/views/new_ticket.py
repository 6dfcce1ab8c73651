""" "New ticket": an agent opens a ticket for a phone call, a conversation that came another way, or an email they
start. The requester is an existing contact (searched by name, email or organization) or a new one made inline."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import WRITER_ROLES
from deskloop.core.forms import AccessibleForm
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal
from deskloop.customers.models import Contact
from deskloop.customers.queries import contacts_for_agent
from deskloop.tickets.services.agent_opened import NewRequester, Opening, open_ticket_as_agent

TEMPLATE = "tickets/new_ticket.html"
MATCHES_SHOWN = 8


def _openings() -> list[tuple[str, Any]]:
    return [
        (Opening.PHONE, _("Phone call: log what the customer said")),
        (Opening.EMAIL, _("Email: write to the customer (sent as an email)")),
        (Opening.OTHER, _("Other: log a conversation that came another way")),
    ]


class NewTicketForm(AccessibleForm):
    # Field names are the ones the services' refusals name, so each error shows beside its input.
    requester = forms.IntegerField(required=False)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    opening = forms.ChoiceField(label=_("How did the conversation start?"), choices=_openings, widget=forms.RadioSelect)
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    body = forms.CharField(label=_("First message"), required=False, widget=forms.Textarea(attrs={"rows": 6}))


def _matches(request: AgentRequest, find: str) -> list[Contact]:
    find = find.strip()
    return list(contacts_for_agent(request.agent, query=find)[:MATCHES_SHOWN]) if find else []


def _chosen(request: AgentRequest, raw: Any) -> Contact | None:
    if not raw:
        return None
    return contacts_for_agent(request.agent).filter(pk=raw).first()


@agent_view(WRITER_ROLES, description="Open a ticket by hand: a phone call, another conversation, an outbound email")
@require_http_methods(["GET", "POST"])
def new_ticket(request: AgentRequest) -> HttpResponse:
    form = NewTicketForm(request.POST or None, initial={"opening": Opening.PHONE})
    chosen = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = _chosen(request, data["requester"])
        if data["requester"] and chosen is None:
            form.add_error("requester", _("The requester was not found."))
        else:
            with refusal(form):
                ticket = open_ticket_as_agent(
                    agent=request.agent,
                    requester=chosen or NewRequester(name=data["name"], email=data["email"], phone=data["phone"]),
                    subject=data["subject"],
                    body_text=data["body"],
                    opening=data["opening"],
                )
                return redirect("tickets:detail", number=ticket.number)
    find = request.GET.get("find", "")
    context = {"form": form, "find": find, "matches": _matches(request, find), "chosen": chosen}
    return render(request, TEMPLATE, context, status=400 if form.errors else 200)


@agent_view(WRITER_ROLES, description="Contacts matching what the agent types, for the New ticket requester (htmx)")
@require_GET
def requester_matches(request: AgentRequest) -> HttpResponse:
    find = request.GET.get("find", "")
    template = f"{TEMPLATE}#matches" if is_htmx(request) else TEMPLATE
    context = {"form": NewTicketForm(initial={"opening": Opening.PHONE}), "find": find}
    return render(request, template, {**context, "matches": _matches(request, find)})
