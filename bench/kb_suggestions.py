"""Knowledge-base suggestions: quality on real data and speed at 10,000 articles (issue #10).

    python bench/kb_suggestions.py quality
    python bench/kb_suggestions.py speed [--articles 10000] [--queries 200]     # DATABASE_URL picks the database

quality: kb-stackfaq (testdata/text/kb-stackfaq: 125 articles, 624 questions) ranked by BM25 alone and by what
ships (deskloop/knowledge/ranking.py), recall@1, recall@3 and MRR; then CLINC150's oos_val (100 questions about
nothing in that help center) with and without the abstention threshold. The shipped rows come from the same
functions ``suggest_articles`` calls; the other rows vary one choice at a time, for the record in BENCHMARKS.md.

speed: generates a workspace of 10,000 published articles from real text (kb-stackfaq bodies and CLINC150 /
banking77 sentences), embeds them, and times ``suggest_articles`` (p50/p95) against a primary-key lookup of one
article translation in the same run; plus the resident memory the model adds to the process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO

KB = REPO / "testdata" / "text" / "kb-stackfaq"
CLINC = REPO / "testdata" / "text" / "intents-clinc150" / "data_dev.json"
BANKING = REPO / "testdata" / "text" / "intents-banking77" / "train.csv"


def load_kb() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    articles = [json.loads(line) for line in (KB / "articles.jsonl").read_text().splitlines() if line.strip()]
    queries = [json.loads(line) for line in (KB / "queries_dev.jsonl").read_text().splitlines() if line.strip()]
    return articles, queries


def load_oos() -> list[str]:
    return [text for text, _label in json.loads(CLINC.read_text())["oos_val"]]


def metrics(scores: np.ndarray, gold: np.ndarray, answered: np.ndarray | None = None) -> dict[str, float]:
    """recall@1, recall@3 and MRR of score rows against the right article; ties count against the right one.
    A question that is not ``answered`` (abstained) counts as a miss."""
    right = scores[np.arange(len(gold)), gold][:, None]
    ranks = (scores > right).sum(axis=1)
    if answered is not None:
        ranks = np.where(answered, ranks, 10**6)
    return {
        "recall@1": float((ranks < 1).mean()),
        "recall@3": float((ranks < 3).mean()),
        "hits@3": int((ranks < 3).sum()),
        "MRR": float(np.where(ranks < 10**6, 1.0 / (ranks + 1), 0.0).mean()),
    }


def quality() -> list[str]:
    from deskloop.knowledge import embedding, ranking

    articles, queries = load_kb()
    oos = load_oos()
    ids = [a["id"] for a in articles]
    gold = np.array([ids.index(q["article_id"]) for q in queries])
    bm25 = ranking.BM25([ranking.article_text(a["title"], a["body"]) for a in articles])
    lexical = np.stack([bm25.scores(q["query"]) for q in queries])

    started = time.perf_counter()
    passages: list[str] = []
    owners: list[int] = []
    kinds: list[str] = []
    for index, article in enumerate(articles):
        title = article["title"].strip()
        words = article["body"].split()
        # The shipped two passages, and (for the record) further 150-word windows over the whole body.
        for kind, text in (("title", title), ("start", ranking.article_text(title, article["body"]))):
            passages.append(text)
            owners.append(index)
            kinds.append(kind)
        for start in range(ranking.BODY_WORDS, len(words), 150):
            passages.append(f"{title}\n{' '.join(words[start : start + 150])}")
            owners.append(index)
            kinds.append("window")
    vectors = embedding.encode(passages)
    query_vectors = embedding.encode([q["query"] for q in queries])
    oos_vectors = embedding.encode(oos)
    encode_seconds = time.perf_counter() - started
    owner_array = np.array(owners)
    kind_array = np.array(kinds)

    def best(question_vectors: np.ndarray, use: set[str]) -> np.ndarray:
        out = np.full((len(question_vectors), len(articles)), -1.0, dtype=np.float32)
        mask = np.isin(kind_array, list(use))
        similarities = question_vectors @ vectors[mask].T
        for column, owner in enumerate(owner_array[mask]):
            np.maximum(out[:, owner], similarities[:, column], out=out[:, owner])
        return out

    def hybrid(cosines: np.ndarray, lex: np.ndarray, weight: float) -> np.ndarray:
        top = lex.max(axis=1, keepdims=True)
        share = np.where(top > 0, lex / np.maximum(top, 1e-9), 0.0)
        return (1 - weight) * cosines + weight * share

    shipped_cos = best(query_vectors, {"title", "start"})
    rows: list[tuple[str, dict[str, float]]] = [
        ("BM25 (stemmed, title + body start)", metrics(lexical, gold)),
        ("MiniLM, title only", metrics(best(query_vectors, {"title"}), gold)),
        ("MiniLM, title + body start (max)", metrics(shipped_cos, gold)),
        ("MiniLM, title + all body windows (max)", metrics(best(query_vectors, {"title", "start", "window"}), gold)),
    ]
    for weight in (0.1, 0.2, 0.3):
        label = f"hybrid, BM25 weight {weight}" + (" (shipped)" if weight == ranking.LEXICAL_WEIGHT else "")
        rows.append((label, metrics(hybrid(shipped_cos, lexical, weight), gold)))
    lines = [
        "| ranking (kb-stackfaq dev, 624 questions, 125 articles) | recall@1 | recall@3 | MRR |",
        "|---|---|---|---|",
    ]
    for label, m in rows:
        lines.append(f"| {label} | {m['recall@1']:.3f} | {m['recall@3']:.3f} ({m['hits@3']}) | {m['MRR']:.3f} |")

    shipped = hybrid(shipped_cos, lexical, ranking.LEXICAL_WEIGHT)
    best_in = shipped_cos.max(axis=1)
    best_oos = best(oos_vectors, {"title", "start"}).max(axis=1)
    lines += [
        "",
        "| abstention (best passage cosine below) | CLINC150 oos_val with no suggestion | kb-stackfaq recall@3 |",
        "|---|---|---|",
    ]
    for threshold in (None, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50):
        answered = np.ones(len(queries), dtype=bool) if threshold is None else best_in >= threshold
        silent = 0 if threshold is None else int((best_oos < threshold).sum())
        m = metrics(shipped, gold, answered)
        label = "none" if threshold is None else f"{threshold:.2f}"
        if threshold == ranking.ABSTAIN_BELOW:
            label += " (shipped)"
        lines.append(f"| {label} | {silent}/{len(oos)} | {m['recall@3']:.3f} ({m['hits@3']}) |")
    lines.append("")
    lines.append(
        f"Encoding {len(passages)} passages and {len(queries) + len(oos)} questions took {encode_seconds:.1f} s "
        "on this machine (numpy, one process)."
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("quality")
    speed_parser = sub.add_parser("speed")
    speed_parser.add_argument("--articles", type=int, default=10_000)
    speed_parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    runners: dict[str, Callable[[], list[str]]] = {"quality": quality}
    if args.what == "speed":
        from bench.kb_suggestions_speed import speed

        lines = speed(articles=args.articles, queries=args.queries)
    else:
        lines = runners[args.what]()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
