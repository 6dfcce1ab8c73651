"""Auto-classification of tickets on real data (issue #11): accuracy, abstention and speed.

    python bench/classification.py [--sets banking77,clinc150,hint3] [--cache var/bench-classification]

What it runs is what ships: ``deskloop.classification.learning.train_head`` (the function ``train_workspace`` calls on
a workspace's stored ticket vectors) and ``Head.predict`` (what ``classify_text`` calls after embedding the text).
- Banking77 (testdata/text/intents-banking77/train.csv, 10,003 queries, 77 intents as product areas): a fixed
  stratified hold-out of 20% per intent (seed 0, never seen by training); accuracy (best label, abstaining or not),
  and at the trained threshold the share answered and the precision of those answers; next to nearest-neighbour
  baselines (BM25, knowledge/ranking.py's, and MiniLM cosine) on the same split.
- CLINC150 (data_dev.json): trained on ``train`` (15,000), measured on ``val`` (3,000 in scope) and ``oos_val``
  (100 out of scope: the share abstained on).
- HINT3 (three small bots' training sets; their test sets are not in testdata): a 20% stratified hold-out of each.
- Speed: training on all 10,003 Banking77 queries (wall and CPU seconds, with ``--threads`` BLAS threads), and classifying
  one query end to end (embedding it, then both heads' predict) p50/p95 over 300 queries.

Embedding is timed apart: it is paid once per ticket when the ticket is classified or first trained on, never by a
retraining. Vectors are cached under ``--cache`` (keyed by the embedding version and the texts) so a second run
measures the classifier only; the first run's embedding times are printed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO

DATA = REPO / "testdata" / "text"
SEED = 0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def vectors_of(name: str, texts: list[str], cache: Path) -> np.ndarray:
    from deskloop.knowledge import embedding

    key = hashlib.sha256("\n".join([embedding.EMBEDDING_VERSION, *texts]).encode()).hexdigest()[:16]
    path = cache / f"{name}-{key}.npy"
    if path.exists():
        cached: np.ndarray = np.load(path)
        return cached
    started, cpu = time.perf_counter(), _cpu()
    vectors = embedding.encode(texts)
    print(
        f"embedded {name}: {len(texts)} texts in {time.perf_counter() - started:.1f} s wall, {_cpu() - cpu:.1f} s CPU",
        flush=True,
    )
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def banking77() -> tuple[list[str], list[str]]:
    with (DATA / "intents-banking77" / "train.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def hint3(bot: str) -> tuple[list[str], list[str]]:
    with (DATA / "intents-hint3" / "train" / f"{bot}_train.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return [r[0] for r in rows], [r[1] for r in rows]


def bm25_nearest(train_texts: list[str], train_labels: list[str], texts: list[str]) -> list[str]:
    from deskloop.knowledge.ranking import BM25

    index = BM25(train_texts)
    guessed = []
    for text in texts:
        scores = index.scores(text)
        guessed.append(train_labels[int(scores.argmax())] if scores.max() > 0 else "")
    return guessed


def evaluate(
    name: str,
    train: tuple[list[str], list[str], np.ndarray],
    test: tuple[list[str], list[str], np.ndarray],
    oos: tuple[list[str], np.ndarray] | None = None,
) -> list[str]:
    from deskloop.classification import learning

    texts, labels, vectors = train
    test_texts, test_labels, test_vectors = test
    started, cpu = time.perf_counter(), _cpu()
    trained = learning.train_head(vectors, texts, labels, clock=time.perf_counter)
    assert trained is not None
    head, _report = trained
    wall, cpu = time.perf_counter() - started, _cpu() - cpu
    gold = np.array(test_labels, dtype=object)
    p = head.probabilities(test_vectors, test_texts)
    best = np.array(head.labels, dtype=object)[p.argmax(axis=1)]
    right = best == gold
    answered = head.answered(p, test_vectors)
    bm25 = np.array(bm25_nearest(texts, labels, test_texts), dtype=object) == gold
    nearest = np.array(labels, dtype=object)[(test_vectors @ vectors.T).argmax(axis=1)] == gold
    line = (
        f"| {name} | {len(texts)} / {len(test_texts)} | {len(set(labels))} | {right.mean():.3f} | "
        f"{head.threshold:.3f} | {1 - answered.mean():.3f} | {right[answered].mean():.3f} | "
        f"{(right & answered).mean():.3f} | {bm25.mean():.3f} | {nearest.mean():.3f} |"
    )
    if oos is not None:
        oos_texts, oos_vectors = oos
        oos_answered = head.answered(head.probabilities(oos_vectors, oos_texts), oos_vectors)
        line += f" {1 - oos_answered.mean():.3f} ({int((~oos_answered).sum())}/{len(oos_texts)}) |"
    else:
        line += " - |"
    line += f" {wall:.1f} / {cpu:.1f} |"
    return [line]


Part = tuple[list[str], list[str], np.ndarray]


def split(texts: list[str], labels: list[str], vectors: np.ndarray) -> tuple[Part, Part]:
    from deskloop.classification.learning import stratified_holdout

    held = stratified_holdout(labels, 0.2, seed=SEED)

    def pick(mask: np.ndarray) -> Part:
        return (
            [t for t, m in zip(texts, mask, strict=True) if m],
            [x for x, m in zip(labels, mask, strict=True) if m],
            vectors[mask],
        )

    return pick(~held), pick(held)


def speed(texts: list[str], labels: list[str], vectors: np.ndarray, threads: tuple[int, ...]) -> list[str]:
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    from deskloop.classification import learning
    from deskloop.knowledge import embedding

    lines = ["", "| training on all 10,003 Banking77 queries (stored vectors) | wall s | CPU s |", "|---|---|---|"]
    head = None
    for count in threads:
        with threadpool_limits(limits=count, user_api="blas"):
            started, cpu = time.perf_counter(), _cpu()
            trained = learning.train_head(vectors, texts, labels, clock=time.perf_counter)
            lines.append(f"| {count} BLAS thread(s) | {time.perf_counter() - started:.1f} | {_cpu() - cpu:.1f} |")
        assert trained is not None
        head = trained[0]
    assert head is not None
    model = learning.Model.from_bytes(learning.Model({"product_area": head}).to_bytes())
    loaded = model.heads["product_area"]
    embedding.encode(["warm up"])
    started, cpu = time.perf_counter(), _cpu()
    embedding.encode(texts[:1000])
    embed_wall, embed_cpu = time.perf_counter() - started, _cpu() - cpu
    samples, cpu_samples = [], []
    rng = np.random.default_rng(SEED)
    for i in rng.choice(len(texts), size=300, replace=False):
        started, cpu_started = time.perf_counter(), time.thread_time()
        vector = embedding.encode([texts[i]])[0]
        loaded.predict(vector, texts[i])
        samples.append((time.perf_counter() - started) * 1000)
        cpu_samples.append((time.thread_time() - cpu_started) * 1000)
    ordered, cpu_ordered = sorted(samples), sorted(cpu_samples)
    lines += [
        "",
        f"Embedding the first 1,000 Banking77 queries (one batch call, as a training's catch-up does): "
        f"{embed_wall:.1f} s wall, {embed_cpu:.1f} s CPU.",
        f"Classifying one query (embed + predict, model of 77 areas loaded once), over 300 queries: wall p50 "
        f"{ordered[149]:.1f} ms, p95 {ordered[284]:.1f} ms; CPU p50 {cpu_ordered[149]:.1f} ms, p95 "
        f"{cpu_ordered[284]:.1f} ms; stored model {len(model.to_bytes()) / 1e6:.1f} MB.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="banking77,clinc150,hint3")
    parser.add_argument("--cache", default=str(REPO / "var" / "bench-classification"))
    parser.add_argument("--no-speed", action="store_true")
    # One by default: the machine this was measured on is shared; "--threads 1,2" adds the two-core figure.
    parser.add_argument("--threads", default="1")
    args = parser.parse_args(argv)
    cache = Path(args.cache)
    sets = set(args.sets.split(","))
    lines = [
        "| set | train / test | classes | accuracy | threshold | abstained | precision when answering | "
        "right and answered | BM25 1-NN | MiniLM 1-NN | out-of-scope abstained | train s (wall / CPU) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    b_texts, b_labels = banking77()
    b_vectors = vectors_of("banking77", b_texts, cache)
    if "banking77" in sets:
        train, test = split(b_texts, b_labels, b_vectors)
        lines += evaluate("Banking77 (20% hold-out)", train, test)
    if "clinc150" in sets:
        data = json.loads((DATA / "intents-clinc150" / "data_dev.json").read_text())
        part = {k: ([t for t, _ in data[k]], [label for _, label in data[k]]) for k in ("train", "val", "oos_val")}
        vec = {k: vectors_of(f"clinc150-{k}", part[k][0], cache) for k in part}
        lines += evaluate(
            "CLINC150 (train -> val)",
            (*part["train"], vec["train"]),
            (*part["val"], vec["val"]),
            (part["oos_val"][0], vec["oos_val"]),
        )
    if "hint3" in sets:
        for bot in ("curekart", "powerplay11", "sofmattress"):
            texts, labels = hint3(bot)
            train, test = split(texts, labels, vectors_of(f"hint3-{bot}", texts, cache))
            lines += evaluate(f"HINT3 {bot} (20% hold-out)", train, test)
    if not args.no_speed:
        lines += speed(b_texts, b_labels, b_vectors, tuple(int(n) for n in args.threads.split(",")))
    counts = Counter(b_labels)
    lines.append(f"\nBanking77 intents: {len(counts)}, {min(counts.values())}-{max(counts.values())} queries each.")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
