"""Spam filter quality: precision and recall of the naive Bayes classifier (deskloop/channels/email/spam.py) on the
held-out part of the SpamAssassin public corpus (testdata/spam, 6,046 labelled messages), and how much of the
repository's real ham-like mail (testdata/email) it would put in Spam.

    python bench/spam_quality.py                  # evaluate the shipped default model
    python bench/spam_quality.py --write-model    # retrain it from the training part and write it

The split is fixed by each file's MD5 (in its name): 60% train the default model, 10% choose the threshold (the
lowest with spam precision >= 0.995 there, so ham almost never lands in Spam), 30% are the test reported here.
Features are read exactly as the pipeline reads them (parsing.parse_message: subject, text body, From domain).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tarfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, setup_django

CORPUS = REPO / "testdata" / "spam" / "spamassassin-public.tar.xz"
REAL_MAIL = REPO / "testdata" / "email"
MODEL = REPO / "deskloop" / "channels" / "email" / "spam_default_model.json.gz"
MIN_MESSAGES = 2  # a token seen in one training message only is noise (a name, an id) and bloats the model
TARGET_PRECISION = 0.995


@dataclass(frozen=True)
class Sample:
    name: str
    is_spam: bool
    part: str  # train / validation / test
    features: dict[str, int]
    raw: bytes


def load_corpus() -> list[Sample]:
    from deskloop.channels.email.parsing import parse_message
    from deskloop.channels.email.spam import features

    samples = []
    with tarfile.open(CORPUS) as archive:
        for member in archive:
            if not member.isfile():
                continue
            group, name = member.name.split("/")[-2:]
            digest = name.split(".")[1]
            bucket = int(digest[:8], 16) % 10
            part = "test" if bucket < 3 else "validation" if bucket == 3 else "train"
            handle = archive.extractfile(member)
            assert handle is not None
            raw = handle.read()
            parsed = parse_message(raw)
            sender = parsed.from_.address if parsed.from_ is not None else ""
            samples.append(
                Sample(
                    f"{group}/{name}",
                    group.startswith("spam"),
                    part,
                    features(subject=parsed.subject, text=parsed.text, sender=sender),
                    raw,
                )
            )
    return samples


def train(samples: list[Sample]) -> dict[str, object]:
    counts: dict[str, list[int]] = {}
    seen_in: Counter[str] = Counter()
    for sample in samples:
        for token, repeat in sample.features.items():
            counts.setdefault(token, [0, 0])[0 if sample.is_spam else 1] += repeat
            seen_in[token] += 1
    kept = {token: pair for token, pair in sorted(counts.items()) if seen_in[token] >= MIN_MESSAGES}
    return {
        "source": "testdata/spam/spamassassin-public.tar.xz, training part (bench/spam_quality.py)",
        "spam_messages": sum(1 for s in samples if s.is_spam),
        "ham_messages": sum(1 for s in samples if not s.is_spam),
        "tokens": kept,
    }


def rates(scored: list[tuple[float, bool]], threshold: float) -> tuple[int, int, int, int]:
    """(true positives, false positives, false negatives, true negatives) at ``threshold``."""
    tp = sum(1 for score, spam in scored if spam and score >= threshold)
    fp = sum(1 for score, spam in scored if not spam and score >= threshold)
    fn = sum(1 for score, spam in scored if spam and score < threshold)
    return tp, fp, fn, len(scored) - tp - fp - fn


def choose_threshold(scored: list[tuple[float, bool]]) -> float:
    for candidate in sorted({round(score, 2) for score, _spam in scored}):
        tp, fp, _fn, _tn = rates(scored, candidate)
        if tp and tp / (tp + fp) >= TARGET_PRECISION:
            return candidate
    raise SystemExit("no threshold reaches the target precision")


def through_pipeline(model: object, samples: list[Sample]) -> dict[str, Counter[str]]:
    """What ``decide`` then ``judge`` make of each message, as the pipeline runs them: per label, how many are
    refused (noise: list, bounce, auto-reply...), delivered as a normal ticket, or delivered into Spam."""
    from deskloop.channels.email.decide import decide
    from deskloop.channels.email.deliver import usable_address
    from deskloop.channels.email.spam import SpamCheck, SpamModel, judge

    assert isinstance(model, SpamModel)
    check = SpamCheck(model=model)
    outcomes: dict[str, Counter[str]] = {"spam": Counter(), "ham": Counter()}
    for sample in samples:
        decision = decide(sample.raw, max_bytes=40 << 20, own_addresses=frozenset(), usable=usable_address)
        label = "spam" if sample.is_spam else "ham"
        if decision.refusal or decision.parsed is None or decision.sender is None:
            outcomes[label]["refused " + decision.refusal] += 1
        elif judge(decision.parsed, sender=decision.sender, check=check) is not None:
            outcomes[label]["ticket in Spam"] += 1
        else:
            outcomes[label]["normal ticket"] += 1
    return outcomes


def real_mail(model: object) -> tuple[int, int, int, list[str]]:
    """(files, delivered as mail, flagged by the classifier, flagged names) over testdata/email, through decide."""
    from deskloop.channels.email.decide import decide
    from deskloop.channels.email.deliver import usable_address
    from deskloop.channels.email.spam import SpamCheck, SpamModel, judge

    assert isinstance(model, SpamModel)
    check = SpamCheck(model=model)
    files = delivered = 0
    flagged = []
    for path in sorted(p for p in REAL_MAIL.rglob("*") if p.is_file() and p.suffix in (".eml", ".txt", "")):
        files += 1
        decision = decide(path.read_bytes(), max_bytes=40 << 20, own_addresses=frozenset(), usable=usable_address)
        if decision.refusal or decision.parsed is None or decision.sender is None:
            continue
        delivered += 1
        verdict = judge(decision.parsed, sender=decision.sender, check=check)
        if verdict is not None:
            flagged.append(f"{path.relative_to(REAL_MAIL)} ({verdict.evidence})")
    return files, delivered, len(flagged), flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-model", action="store_true", help="retrain the default model and write it")
    args = parser.parse_args()
    setup_django()
    from deskloop.channels.email.spam import DEFAULT_THRESHOLD, SpamModel, read_counts

    samples = load_corpus()
    parts = {name: [s for s in samples if s.part == name] for name in ("train", "validation", "test")}
    if args.write_model:
        document = train(parts["train"])
        MODEL.write_bytes(gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0))
        print(f"wrote {MODEL.relative_to(REPO)}: {len(document['tokens'])} tokens")  # type: ignore[arg-type]
    model = SpamModel(read_counts(json.loads(gzip.decompress(MODEL.read_bytes()))))
    validation = [(model.score(s.features), s.is_spam) for s in parts["validation"]]
    print(f"threshold reaching spam precision {TARGET_PRECISION} on validation: {choose_threshold(validation)}")
    print(f"threshold in use (spam.DEFAULT_THRESHOLD): {DEFAULT_THRESHOLD}")
    for name in ("validation", "test"):
        part = parts[name]
        scored = [(model.score(s.features), s.is_spam) for s in part]
        tp, fp, fn, tn = rates(scored, DEFAULT_THRESHOLD)
        print(
            f"{name}: {len(part)} messages ({tp + fn} spam, {fp + tn} ham): "
            f"spam precision {tp / max(tp + fp, 1):.4f}, spam recall {tp / max(tp + fn, 1):.4f}, "
            f"ham kept out of Spam {tn / max(tn + fp, 1):.4f} ({fp} ham flagged), "
            f"ham precision {tn / max(tn + fn, 1):.4f}"
        )
    for label, counts in through_pipeline(model, parts["test"]).items():
        print(f"test {label} through decide + judge: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    files, delivered, flagged, names = real_mail(model)
    print(f"testdata/email: {files} files, {delivered} would be delivered, {flagged} flagged as spam")
    for name in names:
        print("  flagged:", name)


if __name__ == "__main__":
    main()
