"""bench/spam_quality.py's training and scoring run end to end on a handful of messages, so they cannot rot unnoticed
(the whole corpus takes half a minute: that is the benchmark's run, not a test's)."""

from __future__ import annotations

import pytest

from bench.spam_quality import Sample, choose_threshold, rates, through_pipeline, train
from deskloop.channels.email.spam import SpamModel, features, read_counts
from deskloop.channels.email.tests.corpus import BASIC, real


def _sample(name: str, is_spam: bool, subject: str, text: str) -> Sample:
    raw = f"From: someone@{name}.example\nTo: support@acme.example\nSubject: {subject}\n\n{text}\n".encode()
    return Sample(name, is_spam, "train", features(subject=subject, text=text, sender=f"x@{name}.example"), raw)


@pytest.mark.django_db
def test_train_score_and_judge_through_the_pipeline() -> None:
    spam_text = "cheap pills free offer click here now limited time winner prize money fast guaranteed"
    ham_text = "my invoice from last month shows the wrong VAT number please correct it before the payment run"
    samples = [
        *(_sample(f"spam{i}", True, "free offer winner", spam_text) for i in range(3)),
        *(_sample(f"ham{i}", False, "wrong VAT number on invoice", ham_text) for i in range(3)),
    ]
    document = train(samples)
    assert (document["spam_messages"], document["ham_messages"]) == (3, 3)
    model = SpamModel(read_counts(document))
    scored = [(model.score(s.features), s.is_spam) for s in samples]
    assert rates(scored, 0.5) == (3, 0, 0, 3)
    assert choose_threshold(scored) < 0.5
    outcomes = through_pipeline(model, [*samples, Sample("basic", False, "test", {}, real(BASIC))])
    assert outcomes["spam"] == {"ticket in Spam": 3}
    assert outcomes["ham"] == {"normal ticket": 4}
