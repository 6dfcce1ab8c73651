"""The agents' ideas board: the list (ranked, filtered, paged), an idea with its evidence, new and edit.

Everyone in the workspace reads; writers (Capability.WRITE) post and change, which the services check again.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ALL_ROLES, WRITER_ROLES
from deskloop.core.errors import ValidationFailed
from deskloop.core.refusals import refusal
from deskloop.customers.models import Segment
from deskloop.ideas import idea_queries
from deskloop.ideas.forms import (
    AgentVoteForm,
    BoardFilterForm,
    CommentForm,
    IdeaForm,
    MergeForm,
    StatusForm,
)
from deskloop.ideas.models import Idea, IdeaStatus
from deskloop.ideas.queries import BoardQuery, board_page
from deskloop.ideas.services import ideas as services
from deskloop.tickets.models import ProductArea

PAGE_SIZE = 30


def _board_query(request: AgentRequest, form: BoardFilterForm) -> BoardQuery:
    wid = request.agent.workspace_id
    data = form.cleaned_data if form.is_valid() else {}
    segment = None
    if data.get("segment"):
        segment = Segment.objects.filter(workspace_id=wid, pk=data["segment"]).first()
        if segment is None:
            raise ValidationFailed(_("No such segment in this workspace."), field="segment")
    area = data.get("product_area")
    return BoardQuery(
        workspace_id=wid,
        statuses=tuple(data.get("status") or ()),
        # An area of another workspace matches nothing (board_page finds no such area), never that area's ideas.
        product_area_ids=(area,) if area else (),
        segment=segment,
        sort=data.get("sort") or "score",
        text=data.get("q") or "",
    )


@agent_view(roles=ALL_ROLES, description="The ideas board: ranked by value, filtered by status, area, segment, text")
@require_GET
def board(request: AgentRequest) -> HttpResponse:
    form = BoardFilterForm(request.GET or None)
    wid = request.agent.workspace_id
    page = None
    with refusal() as refused:
        query = _board_query(request, form)
        page = board_page(query, cursor=form.cleaned_data.get("cursor") if form.is_valid() else None, limit=PAGE_SIZE)
        # Each row shows its area's path: one query for the page, not one per row.
        prefetch_related_objects([row.idea for row in page.rows], "product_area")
    bad_filters = bool(form.errors) or bool(refused)
    return render(
        request,
        "ideas/agents/board.html",
        {
            "form": form,
            "query": query if not refused else BoardQuery(workspace_id=wid),
            "page": page,
            "refused": refused,
            "areas": ProductArea.objects.filter(workspace_id=wid),
            "segments": Segment.objects.filter(workspace_id=wid),
            "statuses": IdeaStatus.choices,
            "can_write": request.agent.can_write,
            "next_url": _next_url(request, page.next_cursor) if page and page.next_cursor else "",
        },
        status=(refused.status if refused else 422) if bad_filters else 200,
    )


def _next_url(request: AgentRequest, cursor: str) -> str:
    params = request.GET.copy()
    params["cursor"] = cursor
    return f"?{params.urlencode()}"


def idea_page_context(request: AgentRequest, idea: Idea, **forms: Any) -> dict[str, Any]:
    agent = request.agent
    return {
        "idea": idea,
        "evidence": idea_queries.idea_evidence(idea),
        "subscribed": idea_queries.is_subscribed(idea, agent),
        "can_write": agent.can_write,
        "status_form": forms.get("status_form")
        or StatusForm(initial={"status": idea.status, "shipped_note": idea.shipped_note}),
        "merge_form": forms.get("merge_form") or MergeForm(),
        "vote_form": forms.get("vote_form") or AgentVoteForm(),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "candidates": forms.get("candidates"),
        "merge_search": forms.get("merge_search", ""),
    }


@agent_view(roles=ALL_ROLES, description="An idea with its evidence: votes, organizations, tickets, comments")
@require_GET
def idea_detail(request: AgentRequest, idea_id: int) -> HttpResponse:
    idea = idea_queries.get_idea_for_agent(request.agent, idea_id)
    if idea.merged_into_id is not None:
        messages.info(request, _("This idea was merged into “%(title)s”.") % {"title": idea.merged_into})
        return redirect("ideas:detail", idea_id=idea.merged_into_id)
    return render(request, "ideas/agents/idea.html", idea_page_context(request, idea))


@agent_view(roles=WRITER_ROLES, description="Post a new idea")
@require_http_methods(["GET", "POST"])
def idea_new(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    form = IdeaForm(request.POST or None, workspace_id=agent.workspace_id)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal(form) as refused:
            idea = services.create_idea(
                workspace=agent.workspace,
                title=data["title"],
                description=data["description"],
                product_area=data["product_area"],
                author_agent=agent,
                is_public=data["is_public"],
            )
            messages.success(request, _("Idea posted."))
            return redirect("ideas:detail", idea_id=idea.pk)
        status = refused.status
    return render(
        request,
        "ideas/agents/idea_form.html",
        {"form": form, "idea": None},
        status=422 if form.errors and status == 200 else status,
    )


@agent_view(roles=WRITER_ROLES, description="Edit an idea's title, description, product area, visibility")
@require_http_methods(["GET", "POST"])
def idea_edit(request: AgentRequest, idea_id: int) -> HttpResponse:
    agent = request.agent
    idea = idea_queries.get_idea_for_agent(agent, idea_id)
    initial = {
        "title": idea.title,
        "description": idea.description,
        "product_area": idea.product_area_id,
        "is_public": idea.is_public,
    }
    form = IdeaForm(request.POST or None, initial=initial, workspace_id=agent.workspace_id)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal(form) as refused:
            services.edit_idea(
                idea=idea,
                agent=agent,
                changes=services.IdeaChanges(
                    title=data["title"],
                    description=data["description"],
                    product_area=data["product_area"],
                    is_public=data["is_public"],
                ),
            )
            messages.success(request, _("Idea saved."))
            return redirect("ideas:detail", idea_id=idea.pk)
        status = refused.status
    return render(
        request,
        "ideas/agents/idea_form.html",
        {"form": form, "idea": idea},
        status=422 if form.errors and status == 200 else status,
    )
