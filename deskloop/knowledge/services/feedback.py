"""Readers' "was this helpful?" on an article: the one write path, reached from the help center (and the widget).

A vote is stored only for a translation a visitor may read (published, public, of that workspace); anything else
is refused as not found, so the endpoint says nothing about drafts or internal articles.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.knowledge.models import (
    ArticleFeedback,
    ArticleState,
    ArticleTranslation,
    ArticleVisibility,
    RequestSession,
)

# A comment is a sentence or two for the article's author; a page of text is spam or a ticket.
COMMENT_MAX = 2000


@transaction.atomic
def record_article_feedback(
    *,
    translation: ArticleTranslation,
    helpful: bool,
    comment: str = "",
    request_session: RequestSession | None = None,
) -> ArticleFeedback:
    """Store one reader's vote on ``translation``, tied to their request session when they have one."""
    readable = (
        translation.state == ArticleState.PUBLISHED and translation.article.visibility == ArticleVisibility.PUBLIC
    )
    if not readable:
        raise NotFound(_("Article not found."))
    cleaned = (comment or "").strip()
    if len(cleaned) > COMMENT_MAX:
        raise ValidationFailed(
            _("A comment can be at most %(max)d characters.") % {"max": COMMENT_MAX}, field="comment"
        )
    if request_session is not None and request_session.workspace_id != translation.workspace_id:
        request_session = None
    return ArticleFeedback.objects.create(
        workspace_id=translation.workspace_id,
        translation=translation,
        helpful=helpful,
        comment=cleaned,
        request_session=request_session,
    )
