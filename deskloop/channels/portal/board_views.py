"""The public ideas board: /board/<workspace-slug>/ (the board, an idea, the roadmap, the changelog), and a signed-in
customer's writes (post an idea, vote and take it back, comment, follow).

Reading follows ``board_queries.readable_board``: anyone on a public board, only a contact signed in to the
workspace's portal on a private one. Writing always needs that contact (``contact_view``: the portal's magic-link
session), is a POST with Django's CSRF token, and counts in the public "vote" rate limit. No JavaScript: every
action is a form that redirects back (post/redirect/get), with the outcome as a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import public_view
from deskloop.accounts.models import Workspace
from deskloop.channels.portal import board_queries as queries
from deskloop.channels.portal import board_services
from deskloop.channels.portal.board_forms import BoardFilterForm, CommentForm, IdeaForm, VoteForm
from deskloop.channels.portal.identity import ContactRequest, contact_view, sign_in_url, signed_in_contact
from deskloop.channels.portal.queries import portal_workspace
from deskloop.channels.portal.services import safe_next_path
from deskloop.core.public_limits import seconds_over_limit, too_many_requests
from deskloop.core.refusals import refusal
from deskloop.customers.models import Contact
from deskloop.ideas.models import Idea, VoteSource
from deskloop.ideas.services.ideas import add_comment, subscribe, unsubscribe

BOARD_PAGE_SIZE = 30


def idea_url(slug: str, idea: Idea | int) -> str:
    return reverse("ideaboard:idea", kwargs={"slug": slug, "idea_id": idea if isinstance(idea, int) else idea.pk})


def _reader(request: HttpRequest, slug: str) -> tuple[Workspace, Contact | None]:
    workspace = portal_workspace(slug)
    contact = signed_in_contact(request, workspace)
    queries.readable_board(workspace, contact)
    return workspace, contact


def _context(workspace: Workspace, contact: Contact | None, request: HttpRequest, **extra: object) -> dict[str, object]:
    return {
        "workspace": workspace,
        "contact": contact,
        "board_contact": contact,
        "sign_in_here": sign_in_url(workspace, request.get_full_path()),
        **extra,
    }


@public_view
@require_GET
def board(request: HttpRequest, slug: str) -> HttpResponse:
    """The public ideas, most voted first (or trending, newest), by status, product area and words."""
    workspace, contact = _reader(request, slug)
    form = BoardFilterForm(request.GET)
    areas = queries.product_areas(workspace)
    context = _context(workspace, contact, request, form=form, areas=areas, rows=[], next_url="")
    if "segment" in request.GET:
        # Saved segments are the team's: counts per segment would tell outsiders which accounts asked.
        form.add_error(None, _("The public board cannot be filtered by segment."))
    if not form.is_valid():
        return render(request, "portal/board/board.html", context, status=400)
    filters = queries.BoardFilters(
        sort=form.cleaned_data["sort"],
        status=form.cleaned_data["status"],
        product_area=queries.product_area(workspace, form.cleaned_data["product_area"]),
        text=form.cleaned_data["q"],
        cursor=form.cleaned_data["cursor"],
    )
    with refusal(form) as refused:
        page = queries.board_rows(workspace, filters, limit=BOARD_PAGE_SIZE)
    if refused:
        return render(request, "portal/board/board.html", context, status=400)
    stake = queries.contact_stake(contact, [row.idea.pk for row in page.rows])
    next_url = ""
    if page.next_cursor:
        params = request.GET.copy()
        params["cursor"] = page.next_cursor
        next_url = f"?{params.urlencode()}"
    context.update(rows=page.rows, stake=stake, next_url=next_url, filters=filters, vote_form=VoteForm())
    return render(request, "portal/board/board.html", context)


def _idea_page(
    request: HttpRequest,
    workspace: Workspace,
    contact: Contact | None,
    found: Idea,
    *,
    comment_form: CommentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    stake = queries.contact_stake(contact, [found.pk])
    context = _context(
        workspace,
        contact,
        request,
        idea=found,
        comments=queries.public_comments(found),
        stake=stake,
        vote_form=VoteForm(),
        comment_form=comment_form or CommentForm(),
    )
    return render(request, "portal/board/idea.html", context, status=status)


@public_view
@require_GET
def idea(request: HttpRequest, slug: str, idea_id: int) -> HttpResponse:
    """One public idea: description, status, votes, public comments; a merged idea sends to where it went."""
    workspace, contact = _reader(request, slug)
    found = queries.public_idea(workspace, idea_id)
    if found.merged_into_id is not None:
        survivor = queries.surviving_idea(found)
        if survivor is None:
            raise Http404("No such idea")
        return redirect(idea_url(slug, survivor), permanent=True)
    return _idea_page(request, workspace, contact, found)


@public_view
@require_GET
def roadmap(request: HttpRequest, slug: str) -> HttpResponse:
    workspace, contact = _reader(request, slug)
    context = _context(workspace, contact, request, columns=queries.roadmap(workspace))
    return render(request, "portal/board/roadmap.html", context)


@public_view
@require_GET
def changelog(request: HttpRequest, slug: str) -> HttpResponse:
    workspace, contact = _reader(request, slug)
    context = _context(workspace, contact, request, page=queries.changelog(workspace, request.GET.get("page")))
    return render(request, "portal/board/changelog.html", context)


def _over_limit(request: ContactRequest) -> HttpResponse | None:
    wait = seconds_over_limit(request, workspace_id=request.portal_workspace.pk, bucket="vote")
    return too_many_requests(wait, as_json=False) if wait else None


@contact_view
@require_http_methods(["GET", "POST"])
def new_idea(request: ContactRequest, slug: str) -> HttpResponse:
    """Post an idea (the customer's vote comes with it)."""
    workspace, contact = request.portal_workspace, request.contact
    form = IdeaForm(request.POST or None)
    areas = queries.product_areas(workspace)
    if request.method == "POST":
        if limited := _over_limit(request):
            return limited
        area, listed = queries.listed_product_area(workspace, form.data.get("product_area", ""))
        if not listed:
            form.add_error("product_area", _("Choose a part of the product from the list."))
        if form.is_valid():
            with refusal(form):
                posted = board_services.post_idea(
                    workspace=workspace,
                    contact=contact,
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    product_area=area,
                    source=VoteSource.BOARD,
                )
                messages.success(request, _("Thank you: your idea is on the board, with your vote."))
                return redirect(idea_url(slug, posted))
    status = 422 if form.errors else 200
    context = _context(workspace, contact, request, form=form, areas=areas)
    return render(request, "portal/board/new_idea.html", context, status=status)


def _back(request: ContactRequest, slug: str, found: Idea) -> HttpResponse:
    return redirect(safe_next_path(request.POST.get("next", "")) or idea_url(slug, found))


@contact_view
@require_POST
def vote(request: ContactRequest, slug: str, idea_id: int) -> HttpResponse:
    found = queries.public_idea(request.portal_workspace, idea_id)
    if limited := _over_limit(request):
        return limited
    form = VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how important it is: nice to have, important or critical."))
        return _back(request, slug, found)
    with refusal() as refused:
        cast = board_services.vote_as_customer(
            idea=found,
            contact=request.contact,
            source=VoteSource.BOARD,
            importance=form.cleaned_data["importance"],
        )
        messages.success(request, _("Your vote is counted.") if cast.created else _("Your vote is updated."))
        return _back(request, slug, found)
    messages.error(request, refused.message)
    return _back(request, slug, found)


@contact_view
@require_POST
def unvote(request: ContactRequest, slug: str, idea_id: int) -> HttpResponse:
    found = queries.public_idea(request.portal_workspace, idea_id)
    if limited := _over_limit(request):
        return limited
    with refusal() as refused:
        if board_services.withdraw_customer_vote(idea=found, contact=request.contact):
            messages.success(request, _("Your vote is taken back."))
        return _back(request, slug, found)
    messages.error(request, refused.message)
    return _back(request, slug, found)


@contact_view
@require_POST
def comment(request: ContactRequest, slug: str, idea_id: int) -> HttpResponse:
    workspace = request.portal_workspace
    found = queries.public_idea(workspace, idea_id)
    if limited := _over_limit(request):
        return limited
    form = CommentForm(request.POST)
    if form.is_valid():
        with refusal(form):
            add_comment(idea=found, body=form.cleaned_data["body"], contact=request.contact)
            messages.success(request, _("Your comment is posted."))
            return redirect(idea_url(slug, found))
    if found.merged_into_id is not None:
        found = queries.surviving_idea(found) or found
    return _idea_page(request, workspace, request.contact, found, comment_form=form, status=422)


@contact_view
@require_POST
def follow(request: ContactRequest, slug: str, idea_id: int) -> HttpResponse:
    """Follow the idea: a message when its status changes and when it ships."""
    found = queries.public_idea(request.portal_workspace, idea_id)
    if limited := _over_limit(request):
        return limited
    subscribe(idea=found, contact=request.contact)
    messages.success(request, _("You will hear from us when this idea changes."))
    return _back(request, slug, found)


@contact_view
@require_POST
def unfollow(request: ContactRequest, slug: str, idea_id: int) -> HttpResponse:
    found = queries.public_idea(request.portal_workspace, idea_id)
    if limited := _over_limit(request):
        return limited
    unsubscribe(idea=found, contact=request.contact)
    messages.success(request, _("You no longer follow this idea."))
    return _back(request, slug, found)
