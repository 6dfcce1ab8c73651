"""Saved segments for agents: list (with how many organizations each holds), create, edit, delete."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import WRITER_ROLES, Agent
from deskloop.accounts.queries import active_agent_choices
from deskloop.core.refusals import refusal
from deskloop.customers import queries
from deskloop.customers.forms import SegmentForm
from deskloop.customers.models import Segment
from deskloop.customers.segments import SegmentRules, delete_segment, save_segment


def _rules(form: SegmentForm, agent: Agent) -> SegmentRules:
    data = form.cleaned_data
    owner_id = data["owner"]
    owner = Agent.objects.filter(workspace_id=agent.workspace_id, pk=owner_id).first() if owner_id else None
    return SegmentRules(
        name=data["name"],
        mrr_above=data["mrr_above"],
        min_customer_months=data["min_customer_months"],
        industry=data["industry"],
        plan=data["plan"],
        lifecycle_stage=data["lifecycle_stage"],
        owner=owner,
    )


def _segment(agent: Agent, segment_id: int) -> Segment:
    segment = queries.segments_of(agent.workspace_id).filter(pk=segment_id).first()
    if segment is None:
        raise Http404("No such segment")
    return segment


@agent_view()
@require_GET
def segment_list(request: AgentRequest) -> HttpResponse:
    return render(
        request, "customers/segment_list.html", {"rows": queries.segments_with_counts(request.agent.workspace_id)}
    )


@agent_view(roles=WRITER_ROLES)
@require_http_methods(["GET", "POST"])
def segment_create(request: AgentRequest) -> HttpResponse:
    form = SegmentForm(request.POST or None, owner_choices=active_agent_choices(request.agent.workspace_id))
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            save_segment(agent=request.agent, rules=_rules(form, request.agent))
            return redirect("customers:segments")
    return render(
        request, "customers/segment_form.html", {"form": form, "segment": None}, status=400 if form.errors else 200
    )


@agent_view()
@require_http_methods(["GET", "POST"])
def segment_detail(request: AgentRequest, segment_id: int) -> HttpResponse:
    segment = _segment(request.agent, segment_id)
    initial = {
        "name": segment.name,
        "mrr_above": segment.mrr_above,
        "min_customer_months": segment.min_customer_months,
        "industry": segment.industry,
        "plan": segment.plan,
        "lifecycle_stage": segment.lifecycle_stage,
        "owner": segment.owner_id,
    }
    form = SegmentForm(
        request.POST or None, initial=initial, owner_choices=active_agent_choices(request.agent.workspace_id)
    )
    if request.method == "POST":
        if not request.agent.can_write:
            return HttpResponse(status=403)
        if form.is_valid():
            with refusal(form):
                save_segment(agent=request.agent, rules=_rules(form, request.agent), segment=segment)
                return redirect("customers:segments")
    return render(
        request,
        "customers/segment_form.html",
        {"form": form, "segment": segment},
        status=400 if form.errors else 200,
    )


@agent_view(roles=WRITER_ROLES)
@require_POST
def segment_delete(request: AgentRequest, segment_id: int) -> HttpResponse:
    segment = _segment(request.agent, segment_id)
    with refusal() as refused:
        delete_segment(agent=request.agent, segment=segment)
    if refused:
        return HttpResponse(refused.message, status=refused.status)
    return redirect("customers:segments")
