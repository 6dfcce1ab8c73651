"""The agents' knowledge base: the article list, the editor (one language at a time), review and delete.

Everyone in the workspace reads (internal articles too); writers (Capability.WRITE) change, which the services
check again. The forms work without JavaScript; knowledge/editor.js adds the toolbar, the live preview and image
upload into the text.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ALL_ROLES, WRITER_ROLES
from deskloop.core.refusals import refusal
from deskloop.knowledge import queries
from deskloop.knowledge.forms import ArticleFilterForm, ArticleForm, NewArticleForm, split_tags
from deskloop.knowledge.models import ARTICLE_LOCALES, Article, ArticleLocale, ArticleState
from deskloop.knowledge.services import articles as services
from deskloop.knowledge.services.images import IMAGE_MAX_BYTES
from deskloop.tickets.models import Message, MessageKind, ProductArea
from deskloop.tickets.queries import get_ticket_for_agent

LIST_LIMIT = 200


def _article_context(article: Article) -> dict[str, Any]:
    translations = {t.locale: t for t in article.translations.all()}
    first = next((translations[code] for code in ARTICLE_LOCALES if code in translations), None)
    return {
        "article": article,
        "title": first.title if first else str(article),
        "first_locale": first.locale if first else ARTICLE_LOCALES[0],
        "languages": [(code, label, translations.get(code)) for code, label in ArticleLocale.choices],
    }


@agent_view(roles=ALL_ROLES, description="The knowledge base's articles, filtered")
@require_GET
def article_list(request: AgentRequest) -> HttpResponse:
    form = ArticleFilterForm(request.GET or None)
    wid = request.agent.workspace_id
    filters = queries.ArticleFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = queries.ArticleFilters(
            category_id=data["category"],
            locale=data["locale"],
            state=data["state"],
            visibility=data["visibility"],
            product_area_id=data["product_area"],
            tag=data["tag"],
            text=data["q"],
        )
    rows = list(queries.filter_articles(wid, filters)[: LIST_LIMIT + 1])
    return render(
        request,
        "knowledge/agents/articles.html",
        {
            "form": form,
            "rows": [_article_context(a) for a in rows[:LIST_LIMIT]],
            "more": len(rows) > LIST_LIMIT,
            "categories": queries.categories_of(wid),
            "areas": ProductArea.objects.filter(workspace_id=wid),
            "filters": filters,
            "can_write": request.agent.can_write,
        },
        status=200 if form.is_valid() or not request.GET else 422,
    )


def _from_answer(request: AgentRequest) -> dict[str, Any]:
    """ "Create an article from this answer": the ticket's subject and the agent's reply, in the requester's
    language when it is one articles are written in."""
    message_id = request.GET.get("from_message", "")
    if not message_id.isdigit():
        return {}
    message = (
        Message.objects.select_related("ticket__requester")
        .filter(pk=int(message_id), workspace_id=request.agent.workspace_id, kind=MessageKind.REPLY)
        .exclude(author_agent=None)
        .first()
    )
    if message is None:
        raise Http404("No such reply")
    ticket = get_ticket_for_agent(request.agent, message.ticket.number)
    language = (ticket.requester.locale or "")[:2].lower()
    if language not in ARTICLE_LOCALES:
        language = request.agent.workspace.default_language[:2]
    return {
        "title": ticket.subject,
        "body": message.body_html,
        "locale": language if language in ARTICLE_LOCALES else ARTICLE_LOCALES[0],
        "state": ArticleState.DRAFT,
    }


@agent_view(roles=WRITER_ROLES, description="Write a new article (also from an agent's reply on a ticket)")
@require_http_methods(["GET", "POST"])
def article_new(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    form = NewArticleForm(request.POST or None, initial=_from_answer(request), workspace_id=agent.workspace_id)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal(form) as refused:
            article = services.create_article(
                actor=agent,
                workspace=agent.workspace,
                locale=data["locale"],
                title=data["title"],
                body_html=data["body"],
                publish=data["state"] == ArticleState.PUBLISHED,
                note=data["note"],
                about=services.ArticleAbout(
                    category=data["category"],
                    visibility=data["visibility"],
                    product_area=data["product_area"],
                    tags=tuple(split_tags(data["tags"])),
                ),
            )
            messages.success(request, _("Article saved."))
            return redirect("knowledge:article_locale", article_id=article.pk, locale=data["locale"])
        status = refused.status
    return render(
        request,
        "knowledge/agents/article_new.html",
        {"form": form, "image_max_bytes": IMAGE_MAX_BYTES},
        status=422 if form.errors and status == 200 else status,
    )


@agent_view(roles=ALL_ROLES, description="An article: to its first language's editor")
@require_GET
def article_detail(request: AgentRequest, article_id: int) -> HttpResponse:
    article = queries.get_article_for_agent(request.agent, article_id)
    first = next(iter(article.translations.all()), None)
    return redirect("knowledge:article_locale", article_id=article.pk, locale=first.locale if first else "en")


@agent_view(roles=ALL_ROLES, description="An article in one language: the editor (readers see it read-only)")
@require_http_methods(["GET", "POST"])
def article_locale(request: AgentRequest, article_id: int, locale: str) -> HttpResponse:
    agent = request.agent
    if locale not in ARTICLE_LOCALES:
        raise Http404("No such language")
    article = queries.get_article_for_agent(agent, article_id)
    translation = next((t for t in article.translations.all() if t.locale == locale), None)
    initial = {
        "visibility": article.visibility,
        "category": article.category_id,
        "product_area": article.product_area_id,
        "tags": ", ".join(t.name for t in article.tags.all()),
        "state": translation.state if translation else ArticleState.DRAFT,
        "title": translation.title if translation else "",
        "body": translation.body_html if translation else "",
    }
    form = ArticleForm(request.POST or None, initial=initial, workspace_id=agent.workspace_id)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal(form) as refused:
            saved = services.edit_article(
                actor=agent,
                article=article,
                locale=locale,
                title=data["title"],
                body_html=data["body"],
                publish=data["state"] == ArticleState.PUBLISHED,
                note=data["note"],
                about=services.ArticleAbout(
                    category=data["category"],
                    visibility=data["visibility"],
                    product_area=data["product_area"],
                    tags=tuple(split_tags(data["tags"])),
                ),
            )
            messages.success(request, _("Article saved.") if saved.changed else _("Nothing changed."))
            return redirect("knowledge:article_locale", article_id=article.pk, locale=locale)
        status = refused.status
    url = ""
    if translation is not None:
        url = queries.article_url(agent.workspace, translation)
    return render(
        request,
        "knowledge/agents/article_edit.html",
        {
            **_article_context(article),
            "form": form,
            "locale": locale,
            "locale_label": dict(ArticleLocale.choices)[locale],
            "translation": translation,
            "public_url": url,
            "can_write": agent.can_write,
            "image_max_bytes": IMAGE_MAX_BYTES,
            "images": list(article.images.order_by("-created_at")),
        },
        status=422 if form.errors and status == 200 else status,
    )


@agent_view(roles=WRITER_ROLES, description="Confirm an article is still right (it leaves the stale list)")
@require_POST
def article_reviewed(request: AgentRequest, article_id: int) -> HttpResponse:
    article = queries.get_article_for_agent(request.agent, article_id)
    with refusal() as refused:
        services.mark_reviewed(actor=request.agent, article=article)
        messages.success(request, _("Marked as reviewed."))
    if refused:
        return refused.redirect(request, "knowledge:article", article_id=article.pk)
    back = request.POST.get("back", "")
    if back == "stale":
        return redirect("knowledge:stale")
    return redirect("knowledge:article", article_id=article.pk)


@agent_view(roles=WRITER_ROLES, description="Delete an article with all its languages")
@require_POST
def article_delete(request: AgentRequest, article_id: int) -> HttpResponse:
    article = queries.get_article_for_agent(request.agent, article_id)
    with refusal() as refused:
        services.delete_article(actor=request.agent, article=article)
        messages.success(request, _("Article deleted."))
        return redirect("knowledge:articles")
    return refused.redirect(request, "knowledge:article", article_id=article.pk)


@agent_view(roles=WRITER_ROLES, description="The editor's preview: the body as it will be saved")
@require_POST
def article_preview(request: AgentRequest) -> HttpResponse:
    with refusal() as refused:
        cleaned = services.preview_body(request.POST.get("body", ""))
        return render(request, "knowledge/agents/_preview.html", {"body_html": cleaned})
    return HttpResponse(refused.message, status=refused.status, content_type="text/plain; charset=utf-8")


@agent_view(roles=ALL_ROLES, description="Articles nobody reviewed for a number of days, oldest first")
@require_GET
def stale_list(request: AgentRequest) -> HttpResponse:
    raw = request.GET.get("days", "")
    days = int(raw) if raw.isdigit() and 0 < int(raw) <= 36500 else queries.STALE_AFTER_DAYS
    if raw and str(days) != raw:
        messages.error(request, _("Days is a whole number from 1 to 36500; showing %(days)d.") % {"days": days})
    rows = list(queries.stale_articles(request.agent.workspace_id, days=days)[:LIST_LIMIT])
    return render(
        request,
        "knowledge/agents/stale.html",
        {"rows": [_article_context(a) for a in rows], "days": days, "can_write": request.agent.can_write},
    )
