"""The widget's cast: Acme's help center with a widget secret and two public articles (one internal, one draft
that must never show), and a client that opens the panel like the loader's iframe does."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from deskloop.channels.widget.identity import PASS_HEADER, sign_identity
from deskloop.conftest import Cast
from deskloop.knowledge.models import Article, HelpCenter
from deskloop.knowledge.services.articles import ArticleAbout, create_article

ACME_SECRET = "acme-widget-secret-0123456789"
UMBRELLA_SECRET = "umbrella-widget-secret-9876543210"


@dataclass
class Shelf:
    export: Article
    invoices: Article
    internal: Article
    draft: Article


def give_help_center(cast: Cast, secret: str, holdout_percent: int = 0) -> HelpCenter:
    return HelpCenter.objects.create(workspace=cast.workspace, widget_secret=secret, holdout_percent=holdout_percent)


@pytest.fixture
def shelf(acme: Cast) -> Shelf:
    give_help_center(acme, ACME_SECRET)

    def article(title: str, body: str, **options: Any) -> Article:
        about = ArticleAbout(
            **{key: options.pop(key) for key in list(options) if key in ArticleAbout.__dataclass_fields__}
        )
        return create_article(
            actor=acme.agent, workspace=acme.workspace, locale="en", title=title, body_html=body, about=about, **options
        )

    return Shelf(
        export=article("Export your data as CSV", "<p>Open Reports and press <b>Export CSV</b>.</p>", publish=True),
        invoices=article(
            "Change the VAT number on invoices", "<p>Billing settings hold the VAT number.</p>", publish=True
        ),
        internal=article(
            "Export refunds by hand", "<p>Internal export steps.</p>", publish=True, visibility="internal"
        ),
        draft=article("Export to Excel (coming)", "<p>Draft export notes.</p>"),
    )


class Panel:
    """The panel as its iframe sees it: the page, then every request with the widget pass in its header."""

    def __init__(self, slug: str, locale: str = "en") -> None:
        self.slug = slug
        self.client = Client(enforce_csrf_checks=True)
        self.page = self.client.get(f"/widget/{slug}/panel/?locale={locale}&origin=https://app.example")
        found = re.search(r'data-widget-pass="([^"]+)"', self.page.content.decode())
        assert found is not None, self.page.content[:300]
        self.widget_pass = found.group(1)

    def get(self, path: str, **params: str):  # type: ignore[no-untyped-def]
        return self.client.get(f"/widget/{self.slug}/{path}", params, headers={PASS_HEADER: self.widget_pass})

    def post(self, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
        return self.client.post(f"/widget/{self.slug}/{path}", data, headers={PASS_HEADER: self.widget_pass})

    def identify(self, claims: dict[str, str]):  # type: ignore[no-untyped-def]
        response = self.client.post(
            f"/widget/{self.slug}/identify/",
            claims,
            content_type="application/json",
            headers={PASS_HEADER: self.widget_pass},
        )
        if response.status_code == 200:
            self.widget_pass = response.json()["pass"]
        return response


def signed_claims(slug: str, secret: str, *, at: float | None = None, **claims: str) -> dict[str, str]:
    values = {"timestamp": str(int(time.time() if at is None else at)), **claims}
    return {**values, "signature": sign_identity(secret=secret, workspace_slug=slug, claims=values)}
