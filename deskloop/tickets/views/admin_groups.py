"""Settings screens for how tickets are grouped: tags (rename, merge, delete), product areas (tree: create,
rename, move, delete when unused) and deleting a team (its tickets move with a history entry each)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES, Agent
from deskloop.accounts.queries import active_agent_choices
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal
from deskloop.tickets.forms_admin import ProductAreaForm, TagMergeForm, TagRenameForm, TeamDeleteForm
from deskloop.tickets.models import ProductArea, Tag
from deskloop.tickets.services import configuration_groups as groups


# ---- tags --------------------------------------------------------------------------------------------------------
@agent_view(ADMIN_ROLES, description="The workspace's tags with how many tickets carry each")
@require_GET
def tags(request: AgentRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    template = "tickets/admin/tags.html#tag-table" if is_htmx(request) else "tickets/admin/tags.html"
    return render(request, template, {"tags": groups.tags_for_admin(request.agent, query=query), "query": query})


def _render_tag(
    request: AgentRequest,
    tag: Tag,
    *,
    rename_form: TagRenameForm | None = None,
    merge_form: TagMergeForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    targets = [(t.pk, t.name) for t in groups.tags_for_admin(request.agent) if t.pk != tag.pk]
    return render(
        request,
        "tickets/admin/tag_detail.html",
        {
            "tag": tag,
            "ticket_count": groups.tag_ticket_count(tag),
            "rename_form": rename_form or TagRenameForm(initial={"name": tag.name}),
            "merge_form": merge_form or TagMergeForm(targets=targets),
            "error": error,
        },
        status=status,
    )


@agent_view(ADMIN_ROLES, description="Rename a tag")
@require_http_methods(["GET", "POST"])
def tag_detail(request: AgentRequest, tag_id: int) -> HttpResponse:
    tag = groups.get_tag_for_admin(request.agent, tag_id)
    if request.method == "GET":
        return _render_tag(request, tag)
    form = TagRenameForm(request.POST)
    if form.is_valid():
        old_name = tag.name
        with refusal(form):
            groups.rename_tag(actor=request.agent, tag=tag, name=form.cleaned_data["name"])
            messages.success(request, _("Tag “%(old)s” renamed to “%(new)s”.") % {"old": old_name, "new": tag.name})
            return redirect("admin_settings:tag", tag_id=tag.pk)
        tag.refresh_from_db()
    return _render_tag(request, tag, rename_form=form, status=422)


@agent_view(ADMIN_ROLES, description="Merge a tag into another one")
@require_POST
def tag_merge(request: AgentRequest, tag_id: int) -> HttpResponse:
    tag = groups.get_tag_for_admin(request.agent, tag_id)
    targets = [(t.pk, t.name) for t in groups.tags_for_admin(request.agent) if t.pk != tag.pk]
    form = TagMergeForm(request.POST, targets=targets)
    if not form.is_valid():
        return _render_tag(request, tag, merge_form=form, status=422)
    target = groups.get_tag_for_admin(request.agent, form.cleaned_data["target"])
    with refusal() as refused:
        count = groups.merge_tags(actor=request.agent, source=tag, target=target)
        messages.success(
            request,
            ngettext(
                "“%(source)s” was merged into “%(target)s” on %(count)d ticket.",
                "“%(source)s” was merged into “%(target)s” on %(count)d tickets.",
                count,
            )
            % {"source": tag.name, "target": target.name, "count": count},
        )
        return redirect("admin_settings:tags")
    return _render_tag(request, tag, error=refused.message, status=refused.status)


@agent_view(ADMIN_ROLES, description="Delete a tag (it is taken off every ticket)")
@require_POST
def tag_delete(request: AgentRequest, tag_id: int) -> HttpResponse:
    tag = groups.get_tag_for_admin(request.agent, tag_id)
    with refusal() as refused:
        count = groups.delete_tag(actor=request.agent, tag=tag)
        messages.success(
            request,
            ngettext(
                "Tag “%(name)s” deleted from %(count)d ticket.", "Tag “%(name)s” deleted from %(count)d tickets.", count
            )
            % {"name": tag.name, "count": count},
        )
        return redirect("admin_settings:tags")
    return _render_tag(request, tag, error=refused.message, status=refused.status)


# ---- product areas -----------------------------------------------------------------------------------------------
def _parent_choices(areas: list[ProductArea], moving: ProductArea | None = None) -> list[tuple[int, str]]:
    """Areas an area can be put under: not itself, not one of its descendants."""
    if moving is None:
        return [(a.pk, a.path) for a in areas]
    own_prefix = moving.path + groups.AREA_SEPARATOR
    return [(a.pk, a.path) for a in areas if a.pk != moving.pk and not a.path.startswith(own_prefix)]


@agent_view(ADMIN_ROLES, description="Product areas as a tree; create one")
@require_http_methods(["GET", "POST"])
def areas(request: AgentRequest) -> HttpResponse:
    tree = groups.product_areas_for_admin(request.agent)
    form = ProductAreaForm(request.POST or None, parents=_parent_choices(tree))
    if request.method == "POST" and form.is_valid():
        parent_id = form.cleaned_data["parent"]
        with refusal(form):
            parent = groups.get_area_for_admin(request.agent, parent_id) if parent_id else None
            created = groups.create_product_area(actor=request.agent, name=form.cleaned_data["name"], parent=parent)
            messages.success(request, _("Product area “%(path)s” created.") % {"path": created.path})
            return redirect("admin_settings:areas")
    return render(
        request, "tickets/admin/areas.html", {"areas": tree, "form": form}, status=422 if form.errors else 200
    )


def _render_area(
    request: AgentRequest, area: ProductArea, form: ProductAreaForm | None = None, *, error: str = "", status: int = 200
) -> HttpResponse:
    choices = _parent_choices(groups.product_areas_for_admin(request.agent), moving=area)
    initial = {"name": area.name, "parent": area.parent_id, "owner": area.owner_id}
    return render(
        request,
        "tickets/admin/area_form.html",
        {
            "area": area,
            "form": form
            or ProductAreaForm(
                initial=initial, parents=choices, owners=active_agent_choices(request.agent.workspace_id)
            ),
            "error": error,
        },
        status=status,
    )


@agent_view(ADMIN_ROLES, description="Rename a product area or move it under another one")
@require_http_methods(["GET", "POST"])
def area_detail(request: AgentRequest, area_id: int) -> HttpResponse:
    area = groups.get_area_for_admin(request.agent, area_id)
    if request.method == "GET":
        return _render_area(request, area)
    choices = _parent_choices(groups.product_areas_for_admin(request.agent), moving=area)
    form = ProductAreaForm(request.POST, parents=choices, owners=active_agent_choices(request.agent.workspace_id))
    if form.is_valid():
        parent_id, owner_id = form.cleaned_data["parent"], form.cleaned_data["owner"]
        with refusal(form), transaction.atomic():
            parent = groups.get_area_for_admin(request.agent, parent_id) if parent_id else None
            owner = Agent.objects.filter(workspace_id=request.agent.workspace_id, pk=owner_id).first()
            groups.update_product_area(actor=request.agent, area=area, name=form.cleaned_data["name"], parent=parent)
            groups.set_product_area_owner(actor=request.agent, area=area, owner=owner)
            messages.success(request, _("Product area saved."))
            return redirect("admin_settings:areas")
        area.refresh_from_db()
    return _render_area(request, area, form, status=422)


@agent_view(ADMIN_ROLES, description="Delete a product area no ticket uses")
@require_POST
def area_delete(request: AgentRequest, area_id: int) -> HttpResponse:
    area = groups.get_area_for_admin(request.agent, area_id)
    with refusal() as refused:
        groups.delete_product_area(actor=request.agent, area=area)
        messages.success(request, _("Product area “%(path)s” deleted.") % {"path": area.path})
        return redirect("admin_settings:areas")
    return _render_area(request, area, error=refused.message, status=refused.status)


# ---- teams -------------------------------------------------------------------------------------------------------
@agent_view(ADMIN_ROLES, description="Delete a team, moving its tickets to another team or none")
@require_POST
def team_delete(request: AgentRequest, team_id: int) -> HttpResponse:
    team = groups.get_team_for_admin(request.agent, team_id)
    others = [(t.pk, t.name) for t in groups.teams_for_admin(request.agent) if t.pk != team.pk]
    form = TeamDeleteForm(request.POST, teams=others)
    if not form.is_valid():
        messages.error(request, _("Choose a team from the list to move the tickets to."))
        return redirect("settings:team", team_id=team.pk)
    move_to_id = form.cleaned_data["move_to"]
    with refusal() as refused:
        move_to = groups.get_team_for_admin(request.agent, move_to_id) if move_to_id else None
        moved = groups.delete_team(actor=request.agent, team=team, move_to=move_to)
        messages.success(
            request,
            ngettext(
                "Team “%(name)s” deleted; %(count)d ticket moved.",
                "Team “%(name)s” deleted; %(count)d tickets moved.",
                moved,
            )
            % {"name": team.name, "count": moved},
        )
        return redirect("settings:teams")
    return refused.redirect(request, "settings:team", team_id=team.pk)
