"""Suggestion quality on real data (issue #10, quality bar 1 and 2), through the same paths a workspace uses:
kb-stackfaq's 125 articles go in through ``manage.py import_articles`` and ``manage.py embed_articles``, and its
624 real paraphrased questions and CLINC150's 100 out-of-scope validation questions go through
``suggest_articles``. The counts are exact: any change to the model, the passages, the score or the threshold
shows here, and BENCHMARKS.md ("Knowledge suggestions (issue #10)") has to be updated with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from deskloop.knowledge.models import Article
from deskloop.knowledge.suggestions import suggest_articles

pytestmark = pytest.mark.django_db

TEXT = Path(settings.BASE_DIR) / "testdata" / "text"
KB = TEXT / "kb-stackfaq"


def _questions() -> list[dict[str, str]]:
    return [json.loads(line) for line in (KB / "queries_dev.jsonl").read_text().splitlines() if line.strip()]


def _out_of_scope() -> list[str]:
    return [text for text, _label in json.loads((TEXT / "intents-clinc150" / "data_dev.json").read_text())["oos_val"]]


def test_kb_stackfaq_questions_find_their_article_and_out_of_scope_ones_get_nothing(acme, capsys):
    call_command("import_articles", str(KB / "articles.jsonl"), workspace=acme.workspace.slug)
    assert "125 created, 0 updated, 0 unchanged, 0 failed" in capsys.readouterr().out
    call_command("embed_articles", workspace=acme.workspace.slug)
    article_of = dict(Article.objects.filter(workspace=acme.workspace).values_list("pk", "external_id"))

    hits_at_1 = hits_at_3 = 0
    reciprocal_ranks = 0.0
    questions = _questions()
    for question in questions:
        found = suggest_articles(workspace_id=acme.workspace.pk, query=question["query"], locale="en", limit=10)
        ids = [article_of[s.article_id] for s in found]
        if question["article_id"] in ids:
            rank = ids.index(question["article_id"]) + 1
            hits_at_1 += rank == 1
            hits_at_3 += rank <= 3
            reciprocal_ranks += 1 / rank
    assert len(questions) == 624
    assert (hits_at_1, hits_at_3) == (595, 621)
    assert round(reciprocal_ranks / len(questions), 3) == 0.974

    silent = sum(
        not suggest_articles(workspace_id=acme.workspace.pk, query=text, locale="en") for text in _out_of_scope()
    )
    assert silent == 98
