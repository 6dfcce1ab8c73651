"""bench/voice_generate.py and bench/voice_scale.py run end to end on a small workspace, so they cannot rot."""

from __future__ import annotations

import pytest

from bench import voice_scale
from bench.voice_generate import generate_voice


@pytest.mark.django_db
def test_the_voice_generator_and_benchmark_run() -> None:
    from deskloop.ideas.models import Idea, IdeaOrganization, IdeaVote

    generate_voice(organizations=300, ideas=120, votes=4000, tickets=60, progress=False)
    stakes = IdeaOrganization.objects.filter(workspace__slug="voice")
    assert IdeaVote.objects.filter(workspace__slug="voice").count() >= 4000
    # The generated stakes are exactly what the vote write path would have left, and the cached values their sum.
    idea = Idea.objects.filter(workspace__slug="voice").order_by("-score").first()
    assert idea is not None
    assert idea.organization_count == stakes.filter(idea=idea).count() > 0

    results, data = voice_scale.run(iterations=2, max_seconds=30)
    assert [r.measured.n for r in results] == [2] * 12
    assert data["ideas"] == 120
