"""The widget's Ideas tab: the top open ideas (or those matching a search), vote for one or take the vote back, and
post a new one, as the contact the widget pass names (identified by the host application, or confirmed by the
mailed link, as for "My conversations").

What shows is the public board's rule (``portal.board_queries``): public ideas with their vote counts, never who
voted; an anonymous visitor sees them only when the workspace's board is public, and is asked to confirm their
email before voting or posting. The writes are the board's (``portal.board_services``), counted in the public
"vote" rate limit. Like every widget route, the pass in the request header is the credential, so the POST routes
need no CSRF cookie (see ``views``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from deskloop.accounts.access import public_view
from deskloop.accounts.models import Workspace
from deskloop.channels.portal import board_queries, board_services
from deskloop.channels.portal.board_forms import SEARCH_MAX, IdeaForm
from deskloop.channels.widget.forms import ConfirmEmailForm
from deskloop.channels.widget.identity import Unauthenticated
from deskloop.channels.widget.services import Visitor
from deskloop.channels.widget.views import with_visitor
from deskloop.core.errors import NotFound
from deskloop.core.public_limits import seconds_over_limit, too_many_requests
from deskloop.core.refusals import refusal
from deskloop.customers.models import Contact
from deskloop.ideas.models import Idea, IdeaStatus, VoteSource

IDEAS_SHOWN = 10
# What the tab offers to vote on: what is not decided yet or being built; shipped and declined ideas are the
# board's and the changelog's.
VOTABLE_STATUSES = (IdeaStatus.UNDER_REVIEW, IdeaStatus.PLANNED, IdeaStatus.IN_PROGRESS)


def _board_is_public(workspace: Workspace) -> bool:
    board = board_queries.board_settings(workspace)
    return board is not None and board.is_public


def _ideas(
    request: HttpRequest,
    workspace: Workspace,
    visitor: Visitor | None,
    *,
    query: str = "",
    notice: str = "",
    form: IdeaForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The tab's content: the list, and the post form (or the email confirmation for an anonymous visitor)."""
    contact = visitor.contact if visitor is not None else None
    slug = workspace.slug
    if contact is None and not _board_is_public(workspace):
        confirm = {"form": ConfirmEmailForm(), "slug": slug}
        return render(request, "widget/ideas/_confirm.html", confirm, status=401)
    filters = board_queries.BoardFilters(sort="votes", text=query, default_statuses=VOTABLE_STATUSES)
    rows = board_queries.board_rows(workspace, filters, limit=IDEAS_SHOWN).rows
    context: dict[str, Any] = {
        "slug": slug,
        "rows": rows,
        "query": query,
        "contact": contact,
        "stake": board_queries.contact_stake(contact, [row.idea.pk for row in rows]),
        "notice": notice,
        "form": form or IdeaForm(),
        "confirm_form": ConfirmEmailForm(),
    }
    return render(request, "widget/ideas/_tab.html", context, status=status)


def _query(request: HttpRequest) -> str:
    source = request.GET if request.method == "GET" else request.POST
    return " ".join(source.get("q", "").split())[:SEARCH_MAX]


def _signed_in(visitor: Visitor | None) -> Contact:
    if visitor is None or visitor.contact is None:
        raise Unauthenticated(_("Confirm your email to vote and post ideas."))
    return visitor.contact


def _open_idea(workspace: Workspace, contact: Contact, idea_id: int) -> Idea:
    """A public idea of the workspace the contact may act on (a refusal shown in the tab, not a 404 page)."""
    board_queries.readable_board(workspace, contact)
    found = board_queries.public_ideas(workspace.pk).filter(pk=idea_id).first()
    if found is None:
        raise NotFound(_("No such idea."))
    return found


def _over_limit(request: HttpRequest, workspace: Workspace) -> HttpResponse | None:
    wait = seconds_over_limit(request, workspace_id=workspace.pk, bucket="vote")
    return too_many_requests(wait, as_json=False) if wait else None


@public_view
@require_GET
def ideas(request: HttpRequest, slug: str) -> HttpResponse:
    """The Ideas tab: the most voted open ideas, or those matching ``q``."""

    def run(workspace: Workspace, visitor: Visitor | None) -> HttpResponse:
        wait = seconds_over_limit(request, workspace_id=workspace.pk, bucket="search")
        if wait:
            return too_many_requests(wait, as_json=False)
        return _ideas(request, workspace, visitor, query=_query(request))

    return with_visitor(request, slug, required=True, run=run)


def _vote_action(request: HttpRequest, slug: str, idea_id: int, *, withdraw: bool) -> HttpResponse:
    def run(workspace: Workspace, visitor: Visitor | None) -> HttpResponse:
        contact = _signed_in(visitor)
        found = _open_idea(workspace, contact, idea_id)
        if limited := _over_limit(request, workspace):
            return limited
        if withdraw:
            board_services.withdraw_customer_vote(idea=found, contact=contact)
            notice = _("Your vote is taken back.")
        else:
            board_services.vote_as_customer(idea=found, contact=contact, source=VoteSource.WIDGET)
            notice = _("Your vote is counted.")
        return _ideas(request, workspace, visitor, query=_query(request), notice=notice)

    return with_visitor(request, slug, required=True, run=run)


@public_view
@csrf_exempt
@require_POST
def vote(request: HttpRequest, slug: str, idea_id: int) -> HttpResponse:
    return _vote_action(request, slug, idea_id, withdraw=False)


@public_view
@csrf_exempt
@require_POST
def unvote(request: HttpRequest, slug: str, idea_id: int) -> HttpResponse:
    return _vote_action(request, slug, idea_id, withdraw=True)


@public_view
@csrf_exempt
@require_POST
def post_idea(request: HttpRequest, slug: str) -> HttpResponse:
    """A new idea from the tab, with the contact's vote on it."""

    def run(workspace: Workspace, visitor: Visitor | None) -> HttpResponse:
        contact = _signed_in(visitor)
        if limited := _over_limit(request, workspace):
            return limited
        form = IdeaForm(request.POST)
        if not form.is_valid():
            return _ideas(request, workspace, visitor, form=form, status=422)
        with refusal(form) as refused:
            posted = board_services.post_idea(
                workspace=workspace,
                contact=contact,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                source=VoteSource.WIDGET,
            )
            notice = _("Thank you: “%(title)s” is on the board, with your vote.") % {"title": posted.title}
            return _ideas(request, workspace, visitor, notice=notice)
        return _ideas(request, workspace, visitor, form=form, status=refused.status)

    return with_visitor(request, slug, required=True, run=run)
