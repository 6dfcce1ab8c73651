"""manage.py import_articles from the operator's side: a JSON Lines file in, a summary and per-line errors out."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from deskloop.knowledge.models import Article, ArticleRevision, ArticleState, ArticleTranslation, KnowledgeCategory
from deskloop.knowledge.services.imports import detect_format

pytestmark = pytest.mark.django_db


def _write(tmp_path, rows: list[object]) -> str:
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return str(path)


def _run(path: str, slug: str = "acme") -> tuple[str, str, int]:
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_articles", path, workspace=slug, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return out.getvalue(), err.getvalue(), code


GOOD = [
    {"id": "kb-1", "title": "Reset your password", "body": "Open **Settings**.\n\n- one\n- two", "locale": "en",
     "category": "Account", "product_area": "Security/Sign-in", "tags": ["password", "login"]},
    {"id": "kb-1", "title": "Restablecer la contraseña", "body": "<p>Abra <b>Ajustes</b>.</p><script>x()</script>",
     "locale": "es", "category": "Account", "product_area": "Security/Sign-in", "tags": ["password", "login"]},
    {"id": "kb-2", "title": "Refunds", "body": "Plain text <del>not a tag</del>\n\nSecond paragraph", "category": "Billing"},
]


def test_import_creates_then_a_rerun_updates_nothing_and_changes_only_what_changed(acme, tmp_path):
    out, err, code = _run(_write(tmp_path, GOOD))
    assert (code, err) == (0, "")
    assert "2 created, 1 updated, 0 unchanged, 0 failed" in out
    article = Article.objects.get(workspace=acme.workspace, external_id="kb-1")
    assert sorted(article.translations.values_list("locale", flat=True)) == ["en", "es"]
    assert article.category.name == "Account"
    assert article.product_area.path == "Security > Sign-in"
    assert sorted(article.tags.values_list("name", flat=True)) == ["login", "password"]
    english = article.translations.get(locale="en")
    assert "<strong>Settings</strong>" in english.body_html and "<li>one</li>" in english.body_html
    assert "<script" not in article.translations.get(locale="es").body_html
    refunds = ArticleTranslation.objects.get(article__external_id="kb-2")
    assert "&lt;del&gt;not a tag&lt;/del&gt;" in refunds.body_html
    assert refunds.state == ArticleState.PUBLISHED and refunds.locale == "en"
    assert KnowledgeCategory.objects.filter(workspace=acme.workspace).count() == 2

    out, err, code = _run(_write(tmp_path, GOOD))
    assert "0 created, 0 updated, 3 unchanged, 0 failed" in out
    revisions = ArticleRevision.objects.filter(workspace=acme.workspace).count()

    changed = [dict(GOOD[0], title="Reset your password now"), *GOOD[1:]]
    out, err, code = _run(_write(tmp_path, changed))
    assert "0 created, 1 updated, 2 unchanged, 0 failed" in out
    assert Article.objects.filter(workspace=acme.workspace).count() == 2
    assert ArticleRevision.objects.filter(workspace=acme.workspace).count() == revisions + 1


def test_bad_lines_are_reported_with_their_number_and_the_rest_is_imported(acme, tmp_path):
    rows = [
        GOOD[2],
        "{not json",
        {"id": "kb-3", "body": "no title"},
        {"id": "kb-4", "title": "Bad language", "body": "x", "locale": "de", "category": "Never created"},
        {"id": "kb-5", "title": "Bad tags", "body": "x", "tags": "ok,fine", "visibility": "secret"},
        ["not", "an", "object"],
        {"id": "kb-6", "title": "Fine", "body": "x"},
    ]
    out, err, code = _run(_write(tmp_path, rows))
    assert code == 1
    assert "2 created, 0 updated, 0 unchanged, 5 failed" in out
    assert "line 2: Not valid JSON" in err
    assert "line 3 (kb-3): “title” is missing." in err
    assert "line 4 (kb-4): Unknown language “de”" in err
    assert "line 5 (kb-5): Choose public or internal." in err
    assert "line 6: A line must be a JSON object." in err
    # Nothing of a failed line is left behind: not its article, not the category it named.
    assert sorted(Article.objects.filter(workspace=acme.workspace).values_list("external_id", flat=True)) == [
        "kb-2",
        "kb-6",
    ]
    assert not KnowledgeCategory.objects.filter(name="Never created").exists()


def test_an_unknown_workspace_or_an_unreadable_file_is_refused(acme, tmp_path):
    with pytest.raises(CommandError, match="No workspace"):
        call_command("import_articles", _write(tmp_path, GOOD), workspace="nobody")
    with pytest.raises(CommandError):
        call_command("import_articles", str(tmp_path / "missing.jsonl"), workspace="acme")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Just words. <del>quoted</del> and ~~tildes~~", "text"),
        ("<p>Hello</p>", "html"),
        ('See <a href="https://example.com">this</a>', "html"),
        ("# Heading\n\nText", "markdown"),
        ("Use [the docs](https://example.com).", "markdown"),
        ("1. first\n2. second", "markdown"),
    ],
)
def test_the_body_format_is_detected(body, expected):
    assert detect_format(body) == expected
