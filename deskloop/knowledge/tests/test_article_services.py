"""The one write path of article text: revisions, publishing, refusals, and the holdout's stability."""

from __future__ import annotations

import pytest

from deskloop.core.errors import PermissionDenied, ValidationFailed
from deskloop.knowledge.models import Article, ArticleRevision, ArticleState, RequestChannel
from deskloop.knowledge.services.articles import create_article, save_translation
from deskloop.knowledge.services.categories import category_named
from deskloop.knowledge.services.request_sessions import in_holdout, start_request_session

pytestmark = pytest.mark.django_db


def test_saving_text_leaves_a_revision_and_the_body_is_sanitized(acme):
    article = create_article(
        actor=acme.agent,
        workspace=acme.workspace,
        locale="en",
        title="Reset your password",
        body_html='<p>Open <b>Settings</b></p><script>alert(1)</script><img src=x onerror="alert(2)">',
    )
    translation = article.translations.get()
    assert "<script" not in translation.body_html
    assert "onerror" not in translation.body_html
    assert translation.body_text == "Open Settings"
    assert translation.state == ArticleState.DRAFT
    assert translation.slug == "reset-your-password"

    unchanged = save_translation(
        actor=acme.agent, article=article, locale="en", title="Reset your password", body_html=translation.body_html
    )
    assert unchanged.changed is False
    save_translation(actor=acme.agent, article=article, locale="en", title="Reset a password", body_html="<p>x</p>")
    save_translation(actor=acme.agent, article=article, locale="es", title="Restablecer", body_html="y", publish=True)
    numbers = list(ArticleRevision.objects.filter(translation=translation).values_list("number", flat=True))
    assert sorted(numbers) == [1, 2]
    assert article.translations.get(locale="es").state == ArticleState.PUBLISHED


def test_refusals_change_nothing(acme):
    with pytest.raises(ValidationFailed):
        create_article(actor=acme.agent, workspace=acme.workspace, locale="fr", title="Bonjour", body_html="")
    with pytest.raises(ValidationFailed):
        create_article(actor=acme.agent, workspace=acme.workspace, locale="en", title="  ", body_html="")
    with pytest.raises(PermissionDenied):
        create_article(actor=acme.viewer, workspace=acme.workspace, locale="en", title="Hi", body_html="")
    assert not Article.objects.filter(workspace=acme.workspace).exists()


def test_import_categories_are_found_by_name(acme):
    first = category_named(actor=None, workspace=acme.workspace, name="Billing")
    assert category_named(actor=None, workspace=acme.workspace, name="  billing ") == first


def test_a_visitor_stays_on_one_side_of_the_holdout(acme):
    sides = [in_holdout(workspace=acme.workspace, visitor=f"visitor:{n}", percent=10) for n in range(2000)]
    assert sides == [in_holdout(workspace=acme.workspace, visitor=f"visitor:{n}", percent=10) for n in range(2000)]
    # A 10% holdout of 2,000 visitors: the hash is uniform, so 200 +- a few standard deviations (13).
    assert 160 <= sum(sides) <= 240
    session = start_request_session(
        workspace=acme.workspace, channel=RequestChannel.PORTAL, locale="en", contact=acme.customer
    )
    again = start_request_session(
        workspace=acme.workspace, channel=RequestChannel.WIDGET, locale="en", contact=acme.customer
    )
    assert session.in_holdout == again.in_holdout
