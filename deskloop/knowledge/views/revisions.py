"""An article's revision history in one language: the list, a diff of any revision against the current text, and
restoring one (saved again as a new revision, so nothing is lost)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ALL_ROLES, WRITER_ROLES
from deskloop.core.refusals import refusal
from deskloop.knowledge import queries
from deskloop.knowledge.diff import article_lines, diff_lines
from deskloop.knowledge.models import ArticleLocale
from deskloop.knowledge.services.articles import restore_revision

HISTORY_SHOWN = 200


@agent_view(roles=ALL_ROLES, description="An article's revisions in one language")
@require_GET
def revision_list(request: AgentRequest, article_id: int, locale: str) -> HttpResponse:
    translation = queries.get_translation_for_agent(request.agent, article_id, locale)
    return render(
        request,
        "knowledge/agents/revisions.html",
        {
            "translation": translation,
            "article": translation.article,
            "locale_label": dict(ArticleLocale.choices).get(locale, locale),
            "revisions": list(queries.revisions_of(translation)[:HISTORY_SHOWN]),
            "can_write": request.agent.can_write,
        },
    )


@agent_view(roles=ALL_ROLES, description="One revision of an article against its current text")
@require_GET
def revision_diff(request: AgentRequest, article_id: int, locale: str, revision_number: int) -> HttpResponse:
    revision = queries.get_revision_for_agent(request.agent, article_id, locale, revision_number)
    translation = revision.translation
    lines = diff_lines(
        article_lines(revision.title, revision.body_html), article_lines(translation.title, translation.body_html)
    )
    return render(
        request,
        "knowledge/agents/revision_diff.html",
        {
            "revision": revision,
            "translation": translation,
            "article": translation.article,
            "locale_label": dict(ArticleLocale.choices).get(locale, locale),
            "lines": lines,
            "unchanged": all(line.kind == "same" for line in lines),
            "can_write": request.agent.can_write,
        },
    )


@agent_view(roles=WRITER_ROLES, description="Restore a revision of an article (saved as a new revision)")
@require_POST
def revision_restore(request: AgentRequest, article_id: int, locale: str, revision_number: int) -> HttpResponse:
    revision = queries.get_revision_for_agent(request.agent, article_id, locale, revision_number)
    with refusal() as refused:
        restore_revision(actor=request.agent, revision=revision)
        messages.success(request, _("Revision %(number)d restored.") % {"number": revision.number})
        return redirect("knowledge:article_locale", article_id=article_id, locale=locale)
    return refused.redirect(request, "knowledge:revisions", article_id=article_id, locale=locale)
