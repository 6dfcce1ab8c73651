"""Help-center article page speed (issue #10): GET /help/<slug>/<locale>/articles/<id>-<slug>/ as an anonymous
visitor, through the whole Django stack (middleware, host routing, CSRF token, cache), against a primary-key lookup
of one article translation in the same run.

    DESKLOOP_VAR_DIR=/tmp/helpbench python bench/help_center.py [--iterations 400]   # SQLite under that folder
    DATABASE_URL=postgres://... python bench/help_center.py                           # or PostgreSQL

It writes a workspace "helpbench" (once) with the demo's 42 articles in English, Spanish and Russian
(deskloop/demo/data/help_center_articles.jsonl) through the article services, then measures two cases:
"served" (the page comes from Django's cache, which is what visitors get within a minute of the first one) and
"built" (the cache emptied before every request: the page rendered from the database). The cache is the one the
settings choose (the database cache by default, Redis with REDIS_URL).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Result, Timing, database_label, format_table, measure, setup_django

WORKSPACE = "helpbench"


def _prepare() -> list[tuple[int, str]]:
    """(translation id, page path) of every readable translation of the bench workspace, made once."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from deskloop.accounts.models import Workspace
    from deskloop.accounts.services import create_workspace
    from deskloop.demo.help_center import article_versions
    from deskloop.knowledge.models import Article, ArticleTranslation
    from deskloop.knowledge.services.articles import ArticleAbout, create_article, save_translation
    from deskloop.knowledge.services.categories import category_named

    workspace = Workspace.objects.filter(slug=WORKSPACE).first()
    if workspace is None:
        workspace = create_workspace(name="Help bench", slug=WORKSPACE)
        articles: dict[str, Article] = {}
        for version in article_versions():
            if version["id"] not in articles:
                articles[version["id"]] = create_article(
                    actor=None,
                    workspace=workspace,
                    locale=version["locale"],
                    title=version["title"],
                    body_html=version["body"],
                    publish=True,
                    about=ArticleAbout(
                        category=category_named(actor=None, workspace=workspace, name=version["category"]),
                        visibility=version.get("visibility", "public"),
                        external_id=version["id"],
                    ),
                )
            else:
                save_translation(
                    actor=None,
                    article=articles[version["id"]],
                    locale=version["locale"],
                    title=version["title"],
                    body_html=version["body"],
                    publish=True,
                )
    rows = ArticleTranslation.objects.filter(workspace=workspace, article__visibility="public").order_by("pk")
    return [
        (pk, f"/help/{WORKSPACE}/{locale}/articles/{article_id}-{slug}/")
        for pk, locale, article_id, slug in rows.values_list("pk", "locale", "article_id", "slug")
    ]


def run(*, iterations: int, max_seconds: float) -> list[Result]:
    from django.core.cache import cache
    from django.test import Client

    from deskloop.knowledge.models import ArticleTranslation

    pages = _prepare()
    client = Client()

    def pk_lookup(index: int) -> None:
        ArticleTranslation.objects.get(pk=pages[index % len(pages)][0])

    def get(index: int) -> None:
        response = client.get(pages[index % len(pages)][1])
        assert response.status_code == 200, response.status_code

    baseline = measure("translation by primary key", pk_lookup, iterations=iterations, max_seconds=max_seconds)
    for index in range(len(pages)):  # every page once, so "served" measures the cache
        get(index)
    served = measure("article page, served", get, iterations=iterations, max_seconds=max_seconds)
    samples: list[float] = []
    deadline = time.perf_counter() + max_seconds
    for index in range(iterations):
        cache.clear()
        started = time.perf_counter()
        get(index)
        samples.append((time.perf_counter() - started) * 1000)
        if time.perf_counter() > deadline:
            break
    built = Timing(name="article page, built", samples_ms=samples)
    return [
        Result("help-center article page from the cache, GET as a visitor", served, baseline),
        Result("help-center article page built (cache emptied first)", built, baseline),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    setup_django()
    results = run(iterations=args.iterations, max_seconds=args.max_seconds)
    print(f"Database: {database_label()}\n")
    print(format_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
