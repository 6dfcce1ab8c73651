"""The knowledge base on the ticket page: the composer's article finder (link or text in the customer's language)
and "create an article from this answer"."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from deskloop.conftest import Cast, signed_in_client
from deskloop.knowledge.services.articles import ArticleAbout, create_article, save_translation
from deskloop.knowledge.services.help_center import update_help_center
from deskloop.tickets.services.messages import add_agent_reply

pytestmark = pytest.mark.django_db


def _hits(cast: Cast, query: str, agent: object = None) -> list[dict[str, str]]:
    client = signed_in_client(agent or cast.agent)  # type: ignore[arg-type]
    response = client.get(f"/knowledge/finder/{cast.ticket.number}/", {"q": query})
    assert response.status_code == 200
    page = response.content.decode()
    hits = []
    for block in re.findall(r'<li class="article-finder-hit"(.*?)</li>', page, re.S):
        link = re.search(r'data-insert-link="([^"]*)"', block)
        text = re.search(r'data-insert-text="([^"]*)"', block)
        hits.append(
            {
                "title": re.search(r"<strong>([^<]*)</strong>", block).group(1),  # type: ignore[union-attr]
                "link": html_lib.unescape(link.group(1)) if link else "",
                "text": html_lib.unescape(text.group(1)) if text else "",
            }
        )
    return hits


def _vat_article(cast: Cast) -> int:
    article = create_article(
        actor=cast.agent,
        workspace=cast.workspace,
        locale="en",
        title="Change the VAT number on invoices",
        body_html="<p>Open Billing and edit the VAT number.</p>",
        publish=True,
    )
    save_translation(
        actor=cast.agent,
        article=article,
        locale="es",
        title="Cambiar el NIF de las facturas",
        body_html="<p>Abra Facturación y edite el VAT.</p>",
        publish=True,
    )
    return article.pk


def test_the_finder_offers_the_article_in_the_customers_language(acme: Cast) -> None:
    article_id = _vat_article(acme)
    acme.customer.locale = "es"
    acme.customer.save()

    assert _hits(acme, "VAT") == [
        {
            "title": "Cambiar el NIF de las facturas",
            "link": f"http://127.0.0.1:8000/help/acme/es/articles/{article_id}-cambiar-el-nif-de-las-facturas/",
            "text": "Abra Facturación y edite el VAT.",
        }
    ]


def test_without_the_customers_language_the_finder_uses_the_workspace_default_and_its_host_name(acme: Cast) -> None:
    article_id = _vat_article(acme)
    acme.customer.locale = "ru"
    acme.customer.save()
    update_help_center(actor=acme.admin, workspace=acme.workspace, host_name="help.acme.example", holdout_percent=10)

    (hit,) = _hits(acme, "vat number")

    assert hit["link"] == f"https://help.acme.example/en/articles/{article_id}-change-the-vat-number-on-invoices/"


def test_internal_articles_can_be_inserted_as_text_but_not_linked_and_drafts_are_not_offered(acme: Cast) -> None:
    create_article(
        actor=acme.agent,
        workspace=acme.workspace,
        locale="en",
        title="Refund VAT by hand",
        body_html="<p>Internal steps.</p>",
        publish=True,
        about=ArticleAbout(visibility="internal"),
    )
    create_article(actor=acme.agent, workspace=acme.workspace, locale="en", title="VAT draft", body_html="<p>Soon.</p>")

    hits = _hits(acme, "VAT")

    assert [(h["title"], h["link"], h["text"]) for h in hits] == [("Refund VAT by hand", "", "Internal steps.")]


def test_the_finder_is_on_the_ticket_page_for_those_who_write_there(acme: Cast) -> None:
    url = f"/tickets/{acme.ticket.number}/"

    page = signed_in_client(acme.light_agent).get(url).content.decode()
    assert "data-article-finder" in page
    assert '<script src="/static/knowledge/finder.js" defer></script>' in page.split("</head>")[0]
    assert "data-article-finder" not in signed_in_client(acme.viewer).get(url).content.decode()
    assert signed_in_client(acme.viewer).get(f"/knowledge/finder/{acme.ticket.number}/?q=vat").status_code == 403


def test_another_workspaces_ticket_and_articles_stay_out_of_the_finder(acme: Cast, umbrella: Cast) -> None:
    _vat_article(umbrella)

    assert _hits(acme, "VAT") == []
    foreign = signed_in_client(acme.agent).get(f"/knowledge/finder/{umbrella.ticket.number + 50}/?q=VAT")
    assert foreign.status_code == 404


def test_create_an_article_from_an_agents_answer(acme: Cast) -> None:
    acme.customer.locale = "es"
    acme.customer.save()
    reply = add_agent_reply(
        ticket=acme.ticket, agent=acme.agent, body_html="<p>Go to <b>Billing</b>, then edit the VAT number.</p>"
    )
    client = signed_in_client(acme.agent)

    ticket_page = client.get(f"/tickets/{acme.ticket.number}/").content.decode()
    form = client.get(f"/knowledge/articles/new/?from_message={reply.pk}").content.decode()

    assert f'href="/knowledge/articles/new/?from_message={reply.pk}"' in ticket_page
    assert 'value="Invoice shows the wrong VAT number"' in form
    assert "&lt;p&gt;Go to &lt;b&gt;Billing&lt;/b&gt;, then edit the VAT number.&lt;/p&gt;" in form
    assert re.search(r'<option value="es" selected>', form)
    assert re.search(r'<option value="draft" selected>', form)
    customer_message = acme.ticket.messages.exclude(pk=reply.pk).first()
    assert customer_message is not None
    assert client.get(f"/knowledge/articles/new/?from_message={customer_message.pk}").status_code == 404
    assert (
        "data-article-from-answer"
        not in signed_in_client(acme.light_agent).get(f"/tickets/{acme.ticket.number}/").content.decode()
    )
