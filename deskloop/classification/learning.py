"""The classifier itself: pure numpy, no Django, no torch.

A head predicts one label set (product areas, or request types). It is two multinomial logistic regressions (softmax
with an L2 penalty) whose probabilities are combined as a normalised geometric mean:
- one on the ticket's sentence vector (all-MiniLM-L6-v2, ``knowledge.embedding``): what the text means;
- one on hashed TF-IDF word, word-pair and character 3-5-gram features of the same text: the exact words
  (product names, "top up", "PIN") that a sentence model blurs.
On a fixed Banking77 hold-out the sentence half alone is right for 0.910 of the queries, the words alone 0.889,
both 0.922 (BENCHMARKS.md, "Auto-classification (issue #11)"); hyperparameters were chosen there on training data.

A head answers only when the combined probability of its best label reaches its threshold, and the text is
close enough to something it was trained on (cosine with the nearest training vector); otherwise it abstains.
The probability threshold is chosen on the part of the labelled tickets held back from training: the lowest one at
which the answers given there are right at least ``TARGET_PRECISION`` of the time.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

# 4,096 hashed buckets: collisions cost little at this size, and the lexical model's training time is linear in it.
LEXICAL_DIMENSIONS = 4096
# L2 penalties per example, chosen on Banking77's training part (BENCHMARKS.md).
SENTENCE_L2 = 1e-6
LEXICAL_L2 = 1e-5
# Iterations of L-BFGS: 60 reach within 0.002 of the converged accuracy on Banking77 in a third of the time, and
# stopping early is a little extra regularisation; the final model, warm-started from the held-out one, needs half.
MAX_ITERATIONS = 60
WARM_ITERATIONS = 30
# The answers a head gives on its held-back tickets must be right this often: an agent who sees a suggestion that is
# wrong more than one time in twenty stops reading them.
TARGET_PRECISION = 0.95
# Whatever the held-back tickets allow, a head never answers below this probability: a suggestion is at least more
# likely right than wrong. On a workspace whose labels are easy (CLINC150: 0.977 on its held-back part) the
# precision rule alone would answer at 0.06 and suggest something for every question it was never taught.
MIN_CONFIDENCE = 0.5
# A text whose nearest labelled ticket has a lower cosine than this is about something the model never saw: it
# abstains. Chosen on CLINC150's *training* out-of-scope queries (oos_train: with MIN_CONFIDENCE, 0.93 abstained);
# re-measured on its val and oos_val in BENCHMARKS.md, "Auto-classification (issue #11)".
NEAREST_COSINE_BELOW = 0.5
HOLDOUT_FRACTION = 0.2
# A label set needs this much to train on: fewer tickets learn nothing a human would trust.
MIN_LABELLED = 10
MIN_CLASSES = 2
SEED = 11
_WORD = re.compile(r"[^\W_]+")


def lexical_terms(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    terms = [f"w:{w}" for w in words] + [f"b:{a}_{b}" for a, b in itertools.pairwise(words)]
    for word in words:
        padded = f" {word} "
        for n in (3, 4, 5):
            terms.extend(f"c:{padded[i : i + n]}" for i in range(max(1, len(padded) - n + 1)))
    return terms


def _hashed_counts(text: str) -> tuple[IntArray, FloatArray]:
    buckets = np.array([zlib.crc32(t.encode()) % LEXICAL_DIMENSIONS for t in lexical_terms(text)], dtype=np.int64)
    unique, counts = np.unique(buckets, return_counts=True)
    return unique, (1 + np.log(counts)).astype(np.float32)


def document_frequencies(texts: Sequence[str]) -> FloatArray:
    """Smoothed inverse document frequency of each bucket over ``texts``."""
    df = np.zeros(LEXICAL_DIMENSIONS, dtype=np.float32)
    for text in texts:
        df[_hashed_counts(text)[0]] += 1
    idf: FloatArray = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
    return idf


def lexical_features(texts: Sequence[str], idf: FloatArray) -> FloatArray:
    """Unit-length TF-IDF rows (dense: one BLAS product beats any sparse product numpy can do)."""
    out = np.zeros((len(texts), LEXICAL_DIMENSIONS), dtype=np.float32)
    for row, text in enumerate(texts):
        buckets, counts = _hashed_counts(text)
        if len(buckets):
            weights = counts * idf[buckets]
            out[row, buckets] = weights / np.linalg.norm(weights)
    return out


def softmax(scores: FloatArray) -> FloatArray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    probabilities: FloatArray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
    return probabilities


@dataclass
class Linear:
    weights: FloatArray  # features x classes
    bias: FloatArray

    def probabilities(self, features: FloatArray) -> FloatArray:
        return softmax(features @ self.weights + self.bias)


def _loss_and_gradient(
    theta: FloatArray, features: FloatArray, labels: IntArray, classes: int, l2: float
) -> tuple[float, FloatArray]:
    dims = features.shape[1]
    weights = theta[: dims * classes].reshape(dims, classes)
    bias = theta[dims * classes :]
    p = softmax(features @ weights + bias)
    n = len(labels)
    rows = np.arange(n)
    loss = float(-np.log(p[rows, labels] + 1e-12).mean() + 0.5 * l2 * float((weights * weights).sum()))
    p[rows, labels] -= 1
    p /= n
    gradient = np.concatenate([(features.T @ p + l2 * weights).ravel(), p.sum(axis=0)])
    return loss, gradient.astype(np.float32)


def fit_softmax(
    features: FloatArray, labels: IntArray, classes: int, *, l2: float, start: Linear | None = None
) -> Linear:
    """Multinomial logistic regression by L-BFGS (two-loop recursion, backtracking line search). ``start`` warm-starts
    it: the final model starts from the hold-out model's weights and needs a fraction of the iterations."""
    dims = features.shape[1]
    if start is not None:
        theta = np.concatenate([start.weights.ravel(), start.bias]).astype(np.float32)
    else:
        theta = np.zeros((dims + 1) * classes, dtype=np.float32)
    loss, grad = _loss_and_gradient(theta, features, labels, classes, l2)
    steps: list[FloatArray] = []
    changes: list[FloatArray] = []
    for _ in range(WARM_ITERATIONS if start is not None else MAX_ITERATIONS):
        direction = -_two_loop(grad, steps, changes)
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction (numerical noise): start the memory again
            steps.clear()
            changes.clear()
            direction, slope = -grad, -float(grad @ grad)
        step = 1.0
        while True:
            candidate = theta + np.float32(step) * direction
            new_loss, new_grad = _loss_and_gradient(candidate, features, labels, classes, l2)
            if new_loss <= loss + 1e-4 * step * slope or step < 1e-8:
                break
            step *= 0.5
        s, y = candidate - theta, new_grad - grad
        if float(s @ y) > 1e-10:
            steps.append(s)
            changes.append(y)
            if len(steps) > 10:
                steps.pop(0)
                changes.pop(0)
        converged = abs(loss - new_loss) < 1e-6 * max(1.0, abs(loss))
        theta, loss, grad = candidate, new_loss, new_grad
        if converged:
            break
    return Linear(theta[: dims * classes].reshape(dims, classes).copy(), theta[dims * classes :].copy())


def _two_loop(grad: FloatArray, steps: list[FloatArray], changes: list[FloatArray]) -> FloatArray:
    q = grad.copy()
    alphas = []
    for s, y in zip(reversed(steps), reversed(changes), strict=True):
        alpha = float(s @ q) / float(y @ s)
        alphas.append(alpha)
        q -= np.float32(alpha) * y
    if steps:
        q *= np.float32(float(steps[-1] @ changes[-1]) / float(changes[-1] @ changes[-1]))
    for s, y, alpha in zip(steps, changes, reversed(alphas), strict=True):
        beta = float(y @ q) / float(y @ s)
        q += s * np.float32(alpha - beta)
    return q


@dataclass
class Prediction:
    label: str | None  # None: the head abstains
    best: str
    confidence: float


@dataclass
class Head:
    labels: list[str]
    sentence: Linear
    lexical: Linear
    idf: FloatArray
    threshold: float
    # The training vectors, for the nearest-cosine rule (stored as float16, which halves the stored model; cosines
    # do not care; float32 in memory, where numpy's products are fast).
    vectors: FloatArray

    def probabilities(self, vectors: FloatArray, texts: Sequence[str]) -> FloatArray:
        return combine(
            self.sentence.probabilities(vectors), self.lexical.probabilities(lexical_features(texts, self.idf))
        )

    def is_familiar(self, vectors: FloatArray) -> npt.NDArray[np.bool_]:
        """Whether each text is close enough to a labelled one to be answered at all (``NEAREST_COSINE_BELOW``)."""
        if not len(self.vectors):
            return np.zeros(len(vectors), dtype=bool)
        familiar: npt.NDArray[np.bool_] = nearest_cosines(vectors, self.vectors) >= NEAREST_COSINE_BELOW
        return familiar

    def answered(self, probabilities: FloatArray, vectors: FloatArray) -> npt.NDArray[np.bool_]:
        """Which rows the head answers (the others it abstains on)."""
        confident: npt.NDArray[np.bool_] = probabilities.max(axis=1) >= self.threshold
        return confident & self.is_familiar(vectors)

    def predict(self, vector: FloatArray, text: str) -> Prediction:
        p = self.probabilities(vector.reshape(1, -1), [text])[0]
        best = int(p.argmax())
        known = p[best] >= self.threshold and self.is_familiar(vector.reshape(1, -1))[0]
        return Prediction(self.labels[best] if known else None, self.labels[best], round(float(p[best]), 4))


def nearest_cosines(vectors: FloatArray, known: FloatArray) -> FloatArray:
    """Each row's cosine with its nearest row of ``known`` (in blocks: a full matrix of 10,000 x 10,000 is 400 MB)."""
    out = np.zeros(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), 1024):
        out[start : start + 1024] = (vectors[start : start + 1024] @ known.T).max(axis=1)
    return out


def combine(sentence: FloatArray, lexical: FloatArray) -> FloatArray:
    g = np.sqrt(sentence * lexical)
    combined: FloatArray = (g / np.maximum(g.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)
    return combined


@dataclass
class HeadReport:
    labelled: int
    classes: int
    held_out: int
    accuracy: float | None  # on the held-back part, every answer counted (abstaining or not)
    threshold: float
    answered: float | None  # share of the held-back part it answered at the threshold
    precision: float | None  # share of those answers that were right
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


def stratified_holdout(
    labels: Sequence[str], fraction: float = HOLDOUT_FRACTION, seed: int = SEED
) -> npt.NDArray[np.bool_]:
    """True for the rows held back: ``fraction`` of each label's rows (none of a label with a single row)."""
    rng = np.random.default_rng(seed)
    array = np.array(labels, dtype=object)
    held = np.zeros(len(array), dtype=bool)
    for label in sorted(set(labels)):
        rows = np.flatnonzero(array == label)
        rng.shuffle(rows)
        held[rows[: round(len(rows) * fraction) if len(rows) > 1 else 0]] = True
    return held


def choose_threshold(confidence: FloatArray, correct: npt.NDArray[np.bool_]) -> float:
    """The lowest confidence threshold at which the answers it lets through are right ``TARGET_PRECISION`` of the
    time, and never under ``MIN_CONFIDENCE`` (1.0, answering almost nothing, when no threshold reaches it)."""
    order = np.argsort(-confidence, kind="stable")
    right = np.cumsum(correct[order])
    precision = right / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(precision >= TARGET_PRECISION)
    if not len(ok):
        return 1.0
    return max(MIN_CONFIDENCE, round(float(confidence[order][ok[-1]]), 4))


def train_head(
    vectors: FloatArray, texts: Sequence[str], labels: Sequence[str], *, clock: Callable[[], float]
) -> tuple[Head, HeadReport] | None:
    """A head for these labelled texts, or None when there is too little to learn from."""
    started = clock()
    names = sorted(set(labels))
    if len(labels) < MIN_LABELLED or len(names) < MIN_CLASSES:
        return None
    y = np.array([names.index(label) for label in labels], dtype=np.int64)
    held = stratified_holdout(labels)
    report = HeadReport(len(labels), len(names), int(held.sum()), None, 1.0, None, None)
    sentence_start = lexical_start = None
    threshold = MIN_CONFIDENCE
    if held.any() and len(set(y[~held])) >= MIN_CLASSES:
        kept_texts = [t for t, h in zip(texts, held, strict=True) if not h]
        idf = document_frequencies(kept_texts)
        sentence_start = fit_softmax(vectors[~held], y[~held], len(names), l2=SENTENCE_L2)
        lexical_start = fit_softmax(lexical_features(kept_texts, idf), y[~held], len(names), l2=LEXICAL_L2)
        held_texts = [t for t, h in zip(texts, held, strict=True) if h]
        p = combine(
            sentence_start.probabilities(vectors[held]), lexical_start.probabilities(lexical_features(held_texts, idf))
        )
        correct = p.argmax(axis=1) == y[held]
        confidence = p.max(axis=1)
        threshold = choose_threshold(confidence, correct)
        answered = (confidence >= threshold) & (nearest_cosines(vectors[held], vectors[~held]) >= NEAREST_COSINE_BELOW)
        report.accuracy = round(float(correct.mean()), 4)
        report.answered = round(float(answered.mean()), 4)
        report.precision = round(float(correct[answered].mean()), 4) if answered.any() else None
    report.threshold = threshold
    idf = document_frequencies(texts)
    head = Head(
        labels=names,
        sentence=fit_softmax(vectors, y, len(names), l2=SENTENCE_L2, start=sentence_start),
        lexical=fit_softmax(lexical_features(texts, idf), y, len(names), l2=LEXICAL_L2, start=lexical_start),
        idf=idf,
        threshold=threshold,
        vectors=vectors,
    )
    report.seconds = round(clock() - started, 2)
    return head, report


@dataclass
class Model:
    """A workspace's heads by name ("product_area", "request_type"); either may be missing."""

    heads: dict[str, Head] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        arrays: dict[str, npt.NDArray[np.generic]] = {}
        meta: dict[str, dict[str, object]] = {}
        for name, head in self.heads.items():
            meta[name] = {"labels": head.labels, "threshold": head.threshold}
            arrays[f"{name}.sentence.w"] = head.sentence.weights
            arrays[f"{name}.sentence.b"] = head.sentence.bias
            arrays[f"{name}.lexical.w"] = head.lexical.weights
            arrays[f"{name}.lexical.b"] = head.lexical.bias
            arrays[f"{name}.idf"] = head.idf
            arrays[f"{name}.vectors"] = head.vectors.astype(np.float16)
        buffer = io.BytesIO()
        arrays["meta"] = np.array(json.dumps(meta))
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Model:
        stored = np.load(io.BytesIO(data), allow_pickle=False)
        meta = json.loads(str(stored["meta"]))
        heads = {}
        for name, info in meta.items():
            heads[name] = Head(
                labels=list(info["labels"]),
                sentence=Linear(stored[f"{name}.sentence.w"], stored[f"{name}.sentence.b"]),
                lexical=Linear(stored[f"{name}.lexical.w"], stored[f"{name}.lexical.b"]),
                idf=stored[f"{name}.idf"],
                threshold=float(info["threshold"]),
                vectors=stored[f"{name}.vectors"].astype(np.float32),
            )
        return cls(heads)
