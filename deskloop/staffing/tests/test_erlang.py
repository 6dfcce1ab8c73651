"""Erlang C and the email throughput model against published worked examples and exact arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from deskloop.staffing.erlang import (
    MAX_AGENTS,
    agents_needed,
    average_speed_of_answer,
    email_agents_needed,
    erlang_c,
    service_level,
)


def _exact_erlang_c(traffic: int, agents: int) -> Fraction:
    """The textbook formula in exact fractions: (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! * N/(N-A))."""
    top = Fraction(traffic**agents, math.factorial(agents)) * Fraction(agents, agents - traffic)
    return top / (sum(Fraction(traffic**k, math.factorial(k)) for k in range(agents)) + top)


def test_call_centre_helper_worked_example() -> None:
    """Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
    (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls per 30 minutes = 200 an hour,
    average handle time 180 s, so A = 10 erlangs; 80% answered within 20 s, shrinkage 30%, occupancy at most 85%.
    Published: N=11 P(wait) 68.21% SL 39.0%; N=12 44.94% / 64.0%; N=13 28.53% / 79.6%; N=14 17.41% / 88.8%,
    so 14 agents, occupancy 71.4%, ASA 7.8 s; 14 / (1 - 0.3) = 20 agents to schedule.
    """
    published = {11: (68.21, 39.0), 12: (44.94, 64.0), 13: (28.53, 79.6), 14: (17.41, 88.8)}
    for agents, (wait, level) in published.items():
        assert round(erlang_c(10.0, agents) * 100, 2) == wait
        assert round(service_level(10.0, agents, 20, 180) * 100, 1) == level
    result = agents_needed(200, 180, 20, 0.8, shrinkage=0.3, max_occupancy=0.85)
    assert (result.raw_agents, result.with_shrinkage) == (14, 20)
    assert round(result.occupancy * 100, 1) == 71.4
    assert round(result.asa_seconds, 1) == 7.8
    assert round(result.service_level * 100, 1) == 88.8


def test_mitan_worked_example_inputs_against_exact_arithmetic() -> None:
    """The inputs of the step-by-step example on Mitan's "The Erlang-C Formula" page: 360 calls per half hour,
    4 minutes each (A = 48 erlangs), 55 agents, answer target 15 s; the values here are checked against the formula
    in exact fractions rather than a printed rounding: occupancy 87.3%, P(wait) 23.87%, ASA 8.18 s, SL 84.6%."""
    assert erlang_c(48.0, 55) == pytest.approx(float(_exact_erlang_c(48, 55)), rel=1e-12)
    assert round(erlang_c(48.0, 55) * 100, 2) == 23.87
    assert round(average_speed_of_answer(48.0, 55, 240), 2) == 8.18
    assert round(service_level(48.0, 55, 15, 240) * 100, 1) == 84.6
    # 80% within 15 s needs 55 (84.6%) and not 54; the 85% cap asks for ceil(48 / 0.85) = 57 at most.
    assert agents_needed(720, 240, 15, 0.8, max_occupancy=1.0).raw_agents == 55
    assert round(service_level(48.0, 54, 15, 240) * 100, 1) == 79.3
    assert agents_needed(720, 240, 15, 0.8, max_occupancy=0.85).raw_agents == 57


@pytest.mark.parametrize(("traffic", "agents"), [(1, 2), (2, 3), (5, 8), (48, 55), (300, 320), (900, 950)])
def test_stable_recurrence_matches_the_textbook_formula(traffic: int, agents: int) -> None:
    assert erlang_c(float(traffic), agents) == pytest.approx(float(_exact_erlang_c(traffic, agents)), rel=1e-10)


def test_large_centres_stay_finite_and_bounded() -> None:
    result = agents_needed(20_000, 300, 20, 0.8)  # 1,666.7 erlangs: the textbook formula overflows floats here
    assert result.raw_agents == 1961  # the 85% occupancy cap: ceil(1666.67 / 0.85)
    assert 0.8 <= result.service_level <= 1
    with pytest.raises(ValueError, match=f"More than {MAX_AGENTS} agents"):
        agents_needed(30_000, 300, 20, 0.8)


def test_no_traffic_needs_no_agents_and_an_overloaded_queue_never_answers() -> None:
    assert agents_needed(0, 180, 20, 0.8).raw_agents == 0
    assert erlang_c(10.0, 10) == 1.0
    assert service_level(10.0, 9, 20, 180) == 0.0
    assert average_speed_of_answer(10.0, 10, 180) == math.inf


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((-1, 180, 20, 0.8), "Arrivals"),
        ((10, 0, 20, 0.8), "handle time"),
        ((10, 180, -1, 0.8), "answer target"),
        ((10, 180, 20, 1.0), "service level target"),
        ((10, 180, 20, 0.8, 1.0), "Shrinkage"),
        ((10, 180, 20, 0.8, 0.3, 0.0), "occupancy cap"),
    ],
)
def test_bad_inputs_are_refused(arguments: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        agents_needed(*arguments)


def test_email_work_is_spread_over_the_response_window() -> None:
    # 6 tickets x 10 minutes = 1 agent-hour arriving at hour 0 and hour 3; answering within 2 hours lets each
    # spread over two hours: half an agent busy in hours 0, 1 and 3; at 50% shrinkage, one agent scheduled.
    staffing = email_agents_needed([6, 0, 0, 6], handle_minutes=10, respond_within_hours=2, shrinkage=0.5)
    assert staffing.raw_agents == (0.5, 0.5, 0.0, 0.5)
    assert staffing.with_shrinkage == (1, 1, 0, 1)
    # Within the hour: all the work lands in its own hour.
    assert email_agents_needed([30], 6, 0.5, 0.0).with_shrinkage == (3,)
    with pytest.raises(ValueError, match="response target"):
        email_agents_needed([1], 6, 0, 0.3)
