"""What agents do on an idea's page: change its status, merge it, vote for a customer, comment, follow.

Each is a POST with one service call; a refusal renders the idea's page again with the error on the form (and the
error's status), success redirects back to the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ALL_ROLES, NOTE_ROLES, WRITER_ROLES
from deskloop.core.forms import AccessibleForm
from deskloop.core.refusals import refusal
from deskloop.ideas import idea_queries
from deskloop.ideas.forms import AgentVoteForm, CommentForm, MergeForm, StatusForm
from deskloop.ideas.models import Idea, IdeaStatus, IdeaVote, VoteSource
from deskloop.ideas.services import ideas as services
from deskloop.ideas.services.votes import cast_vote, withdraw_vote
from deskloop.ideas.views.board import idea_page_context


def _page_again(request: AgentRequest, idea: Idea, status: int, **forms: object) -> HttpResponse:
    return render(request, "ideas/agents/idea.html", idea_page_context(request, idea, **forms), status=status)


def _status(form: AccessibleForm, refused_status: int) -> int:
    return refused_status if refused_status != 200 else 422


def _live(request: AgentRequest, idea_id: int) -> Idea:
    return idea_queries.get_idea_for_agent(request.agent, idea_id)


@agent_view(roles=WRITER_ROLES, description="Change an idea's status (shipped: what shipped; tells who asked)")
@require_POST
def idea_status(request: AgentRequest, idea_id: int) -> HttpResponse:
    idea = _live(request, idea_id)
    form = StatusForm(request.POST)
    status = 422
    if form.is_valid():
        with refusal(form) as refused:
            changed = services.change_status(
                idea=idea,
                status=form.cleaned_data["status"],
                agent=request.agent,
                shipped_note=form.cleaned_data["shipped_note"],
            )
            if changed.status == IdeaStatus.SHIPPED:
                messages.success(request, _("Marked shipped: everyone who asked for it will be told."))
            else:
                messages.success(request, _("Status changed to %(status)s.") % {"status": changed.get_status_display()})
            return redirect("ideas:detail", idea_id=idea.pk)
        status = _status(form, refused.status)
    return _page_again(request, idea, status, status_form=form)


@agent_view(roles=WRITER_ROLES, description="Merge a duplicate idea into another (search the survivor)")
@require_http_methods(["GET", "POST"])
def idea_merge(request: AgentRequest, idea_id: int) -> HttpResponse:
    idea = _live(request, idea_id)
    if request.method == "GET":
        words = request.GET.get("q", "")[:200]
        candidates = idea_queries.merge_candidates(idea, words)
        return _page_again(request, idea, 200, candidates=candidates, merge_search=words)
    form = MergeForm(request.POST)
    status = 422
    if form.is_valid():
        survivor = Idea.objects.filter(workspace_id=request.agent.workspace_id, pk=form.cleaned_data["into"]).first()
        if survivor is None:
            form.add_error("into", _("No such idea in this workspace."))
        else:
            with refusal(form) as refused:
                kept = services.merge_ideas(loser=idea, survivor=survivor, agent=request.agent)
                messages.success(request, _("Merged into “%(title)s”.") % {"title": kept.title})
                return redirect("ideas:detail", idea_id=kept.pk)
            status = _status(form, refused.status)
    return _page_again(request, idea, status, merge_form=form)


@agent_view(roles=WRITER_ROLES, description="Vote on an idea for a customer (contact email or organization)")
@require_POST
def idea_vote(request: AgentRequest, idea_id: int) -> HttpResponse:
    agent = request.agent
    idea = _live(request, idea_id)
    form = AgentVoteForm(request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        with refusal(form) as refused:
            voter = idea_queries.voter_for(
                agent.workspace_id, email=data["email"] or "", organization_id=data["organization"]
            )
            cast = cast_vote(
                idea=idea,
                voter=voter,
                source=VoteSource.AGENT,
                importance=data["importance"],
                ticket=idea_queries.ticket_for_vote(agent.workspace_id, data["ticket_number"]),
                agent=agent,
            )
            messages.success(request, _("Vote counted.") if cast.created else _("They had voted; importance kept."))
            return redirect("ideas:detail", idea_id=cast.vote.idea_id)
        status = _status(form, refused.status)
    return _page_again(request, idea, status, vote_form=form)


@agent_view(roles=WRITER_ROLES, description="Remove a vote from an idea")
@require_POST
def vote_withdraw(request: AgentRequest, idea_id: int, vote_id: int) -> HttpResponse:
    idea = _live(request, idea_id)
    vote = IdeaVote.objects.filter(idea=idea, pk=vote_id).first()
    if vote is None:
        messages.error(request, _("No such vote on this idea."))
        return redirect("ideas:detail", idea_id=idea.pk)
    with refusal() as refused:
        withdraw_vote(vote=vote, agent=request.agent)
        messages.success(request, _("Vote removed."))
        return redirect("ideas:detail", idea_id=idea.pk)
    return refused.redirect(request, "ideas:detail", idea_id=idea.pk)


@agent_view(roles=NOTE_ROLES, description="Comment on an idea (internal for light agents)")
@require_POST
def idea_comment(request: AgentRequest, idea_id: int) -> HttpResponse:
    idea = _live(request, idea_id)
    form = CommentForm(request.POST)
    status = 422
    if form.is_valid():
        with refusal(form) as refused:
            services.add_comment(
                idea=idea,
                body=form.cleaned_data["body"],
                agent=request.agent,
                is_internal=form.cleaned_data["is_internal"],
            )
            messages.success(request, _("Comment added."))
            return redirect("ideas:detail", idea_id=idea.pk)
        status = _status(form, refused.status)
    return _page_again(request, idea, status, comment_form=form)


@agent_view(roles=ALL_ROLES, description="Follow or stop following an idea")
@require_POST
def idea_subscription(request: AgentRequest, idea_id: int) -> HttpResponse:
    idea = _live(request, idea_id)
    with refusal() as refused:
        if request.POST.get("follow") == "0":
            services.unsubscribe(idea=idea, agent=request.agent)
            messages.success(request, _("You no longer follow this idea."))
        else:
            services.subscribe(idea=idea, agent=request.agent)
            messages.success(request, _("You follow this idea: you will hear when it ships."))
        return redirect("ideas:detail", idea_id=idea.pk)
    return refused.redirect(request, "ideas:detail", idea_id=idea.pk)
