"""The demo's help center: Acme Cloud's categories and 42 articles (40 public, 2 internal for agents), each in English,
Spanish and Russian, written through the knowledge base's services like an admin and a writer would.

The articles are data (``data/help_center_articles.jsonl``, one language version per line, in the shape
``import_articles`` reads: id, locale, title, body, category, optional product_area and tags; plus the section and
the visibility); the categories and their sections, named in the three languages, are ``data/help_center_categories.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deskloop.accounts.models import Agent, Workspace
from deskloop.knowledge.models import Article, ArticleVisibility, KnowledgeCategory
from deskloop.knowledge.services.articles import ArticleAbout, create_article, save_translation
from deskloop.knowledge.services.categories import create_category
from deskloop.tickets.models import ProductArea

DATA = Path(__file__).resolve().parent / "data"


def article_versions() -> list[dict[str, Any]]:
    with (DATA / "help_center_articles.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _categories(workspace: Workspace, admin: Agent) -> dict[tuple[str, str], KnowledgeCategory]:
    """(category, section) English names -> the section; set up by an admin, as the service requires."""
    spec = json.loads((DATA / "help_center_categories.json").read_text(encoding="utf-8"))
    sections: dict[tuple[str, str], KnowledgeCategory] = {}
    for entry in spec["categories"]:
        names, descriptions = entry["names"], entry["descriptions"]
        category = create_category(
            actor=admin,
            workspace=workspace,
            name=names["en"],
            description=descriptions["en"],
            name_translations={k: v for k, v in names.items() if k != "en"},
            description_translations={k: v for k, v in descriptions.items() if k != "en"},
        )
        for section in entry["sections"]:
            sections[(names["en"], section["names"]["en"])] = create_category(
                actor=admin,
                workspace=workspace,
                name=section["names"]["en"],
                parent=category,
                name_translations={k: v for k, v in section["names"].items() if k != "en"},
            )
    return sections


def seed_help_center(*, workspace: Workspace, admin: Agent, writer: Agent, areas: dict[str, ProductArea]) -> int:
    """Write the demo's categories (as ``admin``) and articles (as ``writer``), every version published; returns the
    number of articles."""
    sections = _categories(workspace, admin)
    articles: dict[str, Article] = {}
    for version in article_versions():
        article = articles.get(version["id"])
        if article is None:
            articles[version["id"]] = create_article(
                actor=writer,
                workspace=workspace,
                locale=version["locale"],
                title=version["title"],
                body_html=version["body"],
                publish=True,
                note="demo",
                about=ArticleAbout(
                    category=sections[(version["category"], version["section"])],
                    visibility=version.get("visibility", ArticleVisibility.PUBLIC),
                    product_area=areas[version["product_area"]] if version.get("product_area") else None,
                    tags=tuple(version.get("tags", [])),
                    external_id=version["id"],
                ),
            )
        else:
            save_translation(
                actor=writer,
                article=article,
                locale=version["locale"],
                title=version["title"],
                body_html=version["body"],
                publish=True,
                note="demo",
            )
    return len(articles)
