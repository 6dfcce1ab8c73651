"""The numpy all-MiniLM-L6-v2: the shipped weights are the published file, and its vectors are the model's."""

from __future__ import annotations

import numpy as np
import pytest

from deskloop.knowledge import embedding


def test_the_shipped_weights_are_the_published_all_minilm_l6_v2_file():
    # sha256 of sentence-transformers/all-MiniLM-L6-v2's model.safetensors (Apache-2.0) on Hugging Face.
    assert embedding.file_sha256(embedding.model_dir() / "model.safetensors") == (
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    )


def test_cosines_match_the_models_published_example():
    # sentence-transformers' quick start prints these similarities for all-MiniLM-L6-v2: 0.6660, 0.1046, 0.1411.
    vectors = embedding.encode(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    similarities = vectors @ vectors.T
    assert similarities[0, 1] == pytest.approx(0.6660, abs=5e-4)
    assert similarities[0, 2] == pytest.approx(0.1046, abs=5e-4)
    assert similarities[1, 2] == pytest.approx(0.1411, abs=5e-4)


def test_vectors_are_unit_float32_and_do_not_depend_on_the_batch():
    texts = ["How do I reset my password?", "refund " * 400, "Where is my parcel?"]
    together = embedding.encode(texts)
    alone = np.stack([embedding.encode([text])[0] for text in texts])
    assert together.dtype == np.float32
    assert together.shape == (3, embedding.DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Padding to the longest text of a batch must not change a shorter text's vector.
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_a_paraphrase_is_closer_than_an_unrelated_question():
    question, paraphrase, other = embedding.encode(
        ["How can I change my account password?", "I want to set a new password for my login", "Is the pool open?"]
    )
    assert question @ paraphrase > question @ other + 0.3


def test_vectors_survive_storage_as_bytes():
    vectors = embedding.encode(["one", "two"])
    assert np.array_equal(embedding.from_bytes(embedding.to_bytes(vectors)).reshape(2, -1), vectors)


def test_a_different_weights_file_is_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(embedding.ModelUnavailable):
        embedding.Encoder(tmp_path)
