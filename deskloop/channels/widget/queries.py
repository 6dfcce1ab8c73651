"""Reads of the in-app widget, each scoped to the workspace the URL names and the contact the widget pass names:
the workspace and its help center, the request session, public articles, and the identified contact's own
conversations (public replies only: an internal note never reaches the widget)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from deskloop.accounts.models import Workspace
from deskloop.customers.models import Contact
from deskloop.knowledge.models import (
    ARTICLE_LOCALES,
    ArticleState,
    ArticleTranslation,
    ArticleVisibility,
    HelpCenter,
    RequestSession,
)
from deskloop.tickets.models import Message, MessageKind, Ticket
from deskloop.tickets.queries import live_tickets

CONVERSATIONS_SHOWN = 50


def workspace_by_slug(slug: str) -> Workspace:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise Http404
    return workspace


def widget_secret(workspace: Workspace) -> str:
    found = HelpCenter.objects.filter(workspace=workspace).values_list("widget_secret", flat=True).first()
    return found or ""


def request_session(workspace: Workspace, key: str) -> RequestSession | None:
    try:
        return RequestSession.objects.filter(workspace=workspace, key=key).first()
    except ValueError:  # not a UUID: a pass from before a reset, never a crash
        return None


def contact_in_workspace(workspace: Workspace, contact_id: int | None) -> Contact | None:
    if contact_id is None:
        return None
    return Contact.objects.filter(workspace=workspace, pk=contact_id).first()


def public_translation(workspace: Workspace, article_id: int, locale: str) -> ArticleTranslation:
    """A published translation of a public article, in ``locale`` when it exists, else in another language the
    article is published in (English first); 404 for drafts, internal articles and other workspaces."""
    readable = ArticleTranslation.objects.select_related("article").filter(
        workspace=workspace,
        article_id=article_id,
        state=ArticleState.PUBLISHED,
        article__visibility=ArticleVisibility.PUBLIC,
    )
    by_locale = {t.locale: t for t in readable}
    for candidate in (locale, *ARTICLE_LOCALES):
        if candidate in by_locale:
            return by_locale[candidate]
    raise Http404


def conversations_of(contact: Contact) -> QuerySet[Ticket]:
    """The tickets the contact asked, newest activity first."""
    return (
        live_tickets(contact.workspace_id)
        .filter(requester=contact)
        .select_related("status")
        .order_by("-updated_at", "-id")[:CONVERSATIONS_SHOWN]
    )


def conversation_of(contact: Contact, number: int) -> Ticket:
    """One of the contact's own tickets, or 404 (another contact's, another workspace's, deleted or spam)."""
    ticket = (
        live_tickets(contact.workspace_id).filter(requester=contact, number=number).select_related("status").first()
    )
    if ticket is None:
        raise Http404
    return ticket


def public_messages(ticket: Ticket) -> QuerySet[Message]:
    """What the customer may read of a conversation: replies, never internal notes or system lines."""
    return (
        Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY)
        .select_related("author_agent__user", "author_contact")
        .order_by("created_at", "id")
    )
