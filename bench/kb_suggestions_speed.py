"""Speed of ``suggest_articles`` at 10,000 articles, and the memory the model adds (run by kb_suggestions.py speed).

The database is the one the settings choose (DATABASE_URL for PostgreSQL, else SQLite under DESKLOOP_VAR_DIR);
migrations run first and the workspace "kbbench" is made anew. Articles are generated from real text: each title
is a real customer question (banking77, then CLINC150), each body the text of a kb-stackfaq answer. Rows are
written with bulk_create (as bench/generate.py does; the product's write path is measured by its own tests), then
given vectors by the real model: the title's own vector and its body's kb-stackfaq article vector (title + body
start), so the index has two real passages per article, as a real one has. Embedding 20,000 full passages would
take this machine's two cores most of an hour and changes nothing at question time, where only the matrix's
size matters.
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import time
from pathlib import Path

from bench.common import REPO, database_label, measure, setup_django

WORKSPACE = "kbbench"
DATA = REPO / "testdata" / "text"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def model_memory() -> tuple[float, float, float]:
    """RSS of this process (Django set up, every view imported, as a web process) before the model, after loading
    it and after one question. Run before anything else here touches the model."""
    import deskloop.config.urls  # noqa: F401
    from deskloop.knowledge import embedding

    before = _rss_mb()
    embedding.get_encoder()
    loaded = _rss_mb()
    embedding.encode(["how do I reset my password"], max_tokens=64)
    return before, loaded, _rss_mb()


def _titles(count: int) -> list[str]:
    with (DATA / "intents-banking77" / "train.csv").open(encoding="utf-8") as handle:
        titles = [row[0].strip() for row in csv.reader(handle)][1:]
    clinc = json.loads((DATA / "intents-clinc150" / "data_dev.json").read_text())
    titles += [text for text, _label in clinc["train"]]
    unique = list(dict.fromkeys(t for t in titles if t))
    return [unique[i % len(unique)] for i in range(count)]


def _generate(count: int) -> tuple[int, float, float]:
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from deskloop.accounts.models import Workspace
    from deskloop.knowledge import embedding, ranking
    from deskloop.knowledge.models import Article, ArticleState, ArticleTranslation

    call_command("migrate", verbosity=0)
    Workspace.objects.filter(slug=WORKSPACE).delete()
    workspace = Workspace.objects.create(name="KB bench", slug=WORKSPACE)
    kb = [json.loads(line) for line in (DATA / "kb-stackfaq" / "articles.jsonl").read_text().splitlines() if line]
    titles = _titles(count)
    started = time.perf_counter()
    body_vectors = embedding.encode([ranking.article_text(a["title"], a["body"]) for a in kb])
    title_vectors = embedding.encode(titles)
    embed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        articles = Article.objects.bulk_create(
            [Article(workspace=workspace, external_id=f"gen-{i}") for i in range(count)], batch_size=1000
        )
        translations = []
        for i, article in enumerate(articles):
            source = kb[i % len(kb)]
            vectors = [title_vectors[i], body_vectors[i % len(kb)]]
            translations.append(
                ArticleTranslation(
                    workspace=workspace,
                    article=article,
                    locale="en",
                    title=titles[i][:255],
                    slug=f"article-{i}",
                    body_html=f"<p>{source['body'][:2000]}</p>",
                    body_text=source["body"][:2000],
                    state=ArticleState.PUBLISHED,
                    published_at=now,
                    updated_at=now,
                    embedding=embedding.to_bytes(vectors),  # type: ignore[arg-type]
                    embedding_version=embedding.EMBEDDING_VERSION,
                )
            )
        ArticleTranslation.objects.bulk_create(translations, batch_size=500)
    return workspace.pk, embed_seconds, time.perf_counter() - started


def speed(*, articles: int, queries: int) -> list[str]:
    os.environ.setdefault("TASKS_BACKEND", "django_tasks.backends.dummy.DummyBackend")
    setup_django()
    from deskloop.knowledge import suggestions
    from deskloop.knowledge.models import ArticleTranslation

    before, loaded, asked = model_memory()
    workspace_id, embed_seconds, write_seconds = _generate(articles)
    questions = [
        json.loads(line)["query"] for line in (DATA / "kb-stackfaq" / "queries_dev.jsonl").read_text().splitlines()
    ]
    rng = random.Random(10)
    rng.shuffle(questions)
    ids = list(ArticleTranslation.objects.filter(workspace_id=workspace_id).values_list("pk", flat=True))

    suggestions.forget_indexes()
    started = time.perf_counter()
    suggestions.suggest_articles(workspace_id=workspace_id, query="warm up", locale="en")
    first_seconds = time.perf_counter() - started

    def suggest(i: int) -> object:
        return suggestions.suggest_articles(workspace_id=workspace_id, query=questions[i % len(questions)], locale="en")

    def suggest_spanish(i: int) -> object:
        # No Spanish article: the fallback to English, BM25 and model as in English (the worst case of a locale).
        return suggestions.suggest_articles(workspace_id=workspace_id, query=questions[i % len(questions)], locale="es")

    def primary_key(i: int) -> object:
        return ArticleTranslation.objects.only("pk", "title").get(pk=ids[i % len(ids)])

    baseline = measure("PK lookup of one translation", primary_key, iterations=queries, max_seconds=60)
    timed = measure("suggest_articles (en)", suggest, iterations=queries, max_seconds=120)
    fallback = measure("suggest_articles (es -> en fallback)", suggest_spanish, iterations=queries, max_seconds=120)
    lines = [
        f"Database: {database_label()}; {articles} published articles, 2 passages each; {timed.n} questions "
        f"(kb-stackfaq dev, shuffled).",
        "",
        "| operation | n | p50 ms | p95 ms | ratio to PK lookup p50 | ratio p95 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for timing in (baseline, timed, fallback):
        lines.append(
            f"| {timing.name} | {timing.n} | {timing.p50:.2f} | {timing.p95:.2f} | {timing.p50 / baseline.p50:.1f}x "
            f"| {timing.p95 / baseline.p95:.1f}x |"
        )
    lines += [
        "",
        f"First question after a change (index rebuilt: {articles} rows read, BM25 built, vectors stacked): "
        f"{first_seconds:.2f} s. Generating: model {embed_seconds:.0f} s for {articles + 125} texts, rows "
        f"{write_seconds:.0f} s.",
        f"Web process memory (RSS): {before:.0f} MB with Django and every view imported, {loaded:.0f} MB with the "
        f"model loaded (+{loaded - before:.0f} MB), {asked:.0f} MB after the first question "
        f"(+{asked - before:.0f} MB in all).",
    ]
    return lines
