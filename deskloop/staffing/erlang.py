"""How many agents an hour of forecast volume needs (pure, no Django).

Live channels (chat, phone) queue: Erlang C (M/M/N: Poisson arrivals, exponential handle times, nobody gives up)
gives the probability a contact waits and the share answered within the target; agents are added until the
service level is met and occupancy is under the cap, then grossed up for shrinkage (breaks, training, absence).
Erlang C is computed from Erlang B by its recurrence, B(0) = 1, B(n) = A*B(n-1) / (n + A*B(n-1)), which never forms
A^N or N! and so stays exact to ~1e-15 up to MAX_AGENTS (the textbook sum of A^k/k! overflows floats near 170).

Email waits in a backlog instead: see `email_agents_needed`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_AGENTS = 2000
SECONDS_PER_HOUR = 3600


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def erlang_b(traffic_erlangs: float, agents: int) -> float:
    """Probability that all `agents` are busy when nobody may queue (the blocking probability)."""
    _check(traffic_erlangs >= 0, "Traffic must be 0 or more erlangs.")
    _check(0 <= agents <= MAX_AGENTS, f"Agents must be from 0 to {MAX_AGENTS}.")
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic_erlangs * blocking / (n + traffic_erlangs * blocking)
    return blocking


def _c_from_b(traffic_erlangs: float, agents: int, blocking: float) -> float:
    if agents <= traffic_erlangs:
        return 1.0  # the queue grows without end: everyone waits
    return agents * blocking / (agents - traffic_erlangs * (1 - blocking))


def erlang_c(traffic_erlangs: float, agents: int) -> float:
    """Probability that a contact has to wait (Erlang C) with `agents` serving `traffic_erlangs`."""
    return _c_from_b(traffic_erlangs, agents, erlang_b(traffic_erlangs, agents))


def _service_level(traffic_erlangs: float, agents: int, wait: float, target_seconds: float, aht: float) -> float:
    if agents <= traffic_erlangs:
        return 0.0
    return 1 - wait * math.exp(-(agents - traffic_erlangs) * target_seconds / aht)


def service_level(traffic_erlangs: float, agents: int, target_seconds: float, aht_seconds: float) -> float:
    """Share of contacts answered within `target_seconds`: 1 - C * exp(-(N - A) * t / AHT)."""
    _check(aht_seconds > 0, "The handle time must be above 0 seconds.")
    _check(target_seconds >= 0, "The answer target must be 0 seconds or more.")
    return _service_level(traffic_erlangs, agents, erlang_c(traffic_erlangs, agents), target_seconds, aht_seconds)


def average_speed_of_answer(traffic_erlangs: float, agents: int, aht_seconds: float) -> float:
    """Mean wait in seconds over all contacts (ASA): C * AHT / (N - A); infinite when N <= A."""
    if agents <= traffic_erlangs:
        return math.inf
    return erlang_c(traffic_erlangs, agents) * aht_seconds / (agents - traffic_erlangs)


def _ceil(value: float) -> int:
    # 14 / 0.7 is 20.000000000000004 in floats: round off the noise before rounding up.
    return math.ceil(round(value, 9))


def with_shrinkage(agents: float, shrinkage: float) -> int:
    """Agents to schedule so that `agents` are on the queue when a share `shrinkage` of paid time is not."""
    _check(0 <= shrinkage < 1, "Shrinkage must be from 0 to below 1 (0.3 = 30%).")
    return _ceil(agents / (1 - shrinkage))


@dataclass(frozen=True)
class StaffingResult:
    raw_agents: int  # agents taking contacts
    with_shrinkage: int  # agents to schedule
    service_level: float  # share answered within the target with raw_agents
    occupancy: float  # share of their time raw_agents spend on contacts
    asa_seconds: float  # average speed of answer


def agents_needed(
    arrivals_per_hour: float,
    aht_seconds: float,
    target_seconds: float,
    target_service_level: float,
    shrinkage: float = 0.3,
    max_occupancy: float = 0.85,
) -> StaffingResult:
    """The fewest agents that answer `target_service_level` of contacts within `target_seconds` (Erlang C) while
    busy at most `max_occupancy` of the time, and the agents to schedule for them after shrinkage."""
    _check(arrivals_per_hour >= 0, "Arrivals per hour must be 0 or more.")
    _check(aht_seconds > 0, "The handle time must be above 0 seconds.")
    _check(target_seconds >= 0, "The answer target must be 0 seconds or more.")
    _check(0 < target_service_level < 1, "The service level target must be between 0 and 1 (0.8 = 80%).")
    _check(0 < max_occupancy <= 1, "The occupancy cap must be above 0 and at most 1 (0.85 = 85%).")
    _check(0 <= shrinkage < 1, "Shrinkage must be from 0 to below 1 (0.3 = 30%).")
    traffic = arrivals_per_hour * aht_seconds / SECONDS_PER_HOUR
    if traffic == 0:
        return StaffingResult(raw_agents=0, with_shrinkage=0, service_level=1.0, occupancy=0.0, asa_seconds=0.0)
    blocking = 1.0
    for agents in range(1, MAX_AGENTS + 1):
        blocking = traffic * blocking / (agents + traffic * blocking)
        if agents <= traffic or traffic / agents > max_occupancy:
            continue
        wait = _c_from_b(traffic, agents, blocking)
        level = _service_level(traffic, agents, wait, target_seconds, aht_seconds)
        if level >= target_service_level:
            return StaffingResult(
                raw_agents=agents,
                with_shrinkage=with_shrinkage(agents, shrinkage),
                service_level=level,
                occupancy=traffic / agents,
                asa_seconds=wait * aht_seconds / (agents - traffic),
            )
    raise ValueError(f"More than {MAX_AGENTS} agents would be needed for {arrivals_per_hour:g} contacts an hour.")


@dataclass(frozen=True)
class EmailStaffing:
    raw_agents: tuple[float, ...]  # agent-hours of work to do in each hour
    with_shrinkage: tuple[int, ...]  # agents to schedule in each hour


def email_agents_needed(
    tickets_per_hour: Sequence[float], handle_minutes: float, respond_within_hours: float, shrinkage: float = 0.3
) -> EmailStaffing:
    """Agents per hour for a backlog that may wait up to `respond_within_hours` (a throughput model, not a queue).

    Nobody watches an email arrive, so the question is not "how many are free right now" but "is the work done
    before its deadline". A ticket arriving in hour h may be answered in any of the hours h .. h+R-1 (R = the
    response target in whole hours, at least 1), so each hour's work (tickets x handle time) is spread evenly over
    those R hours. The work on hand in hour t is then the mean workload of the R hours up to t; served first come
    first served at that rate, every ticket is answered within R hours. Agents = that work / (1 - shrinkage),
    rounded up. `tickets_per_hour` is a run of consecutive hours; the first R-1 hours see only the work of the
    hours given (hours before the run count 0).
    """
    _check(handle_minutes > 0, "The handle time must be above 0 minutes.")
    _check(respond_within_hours > 0, "The response target must be above 0 hours.")
    _check(0 <= shrinkage < 1, "Shrinkage must be from 0 to below 1 (0.3 = 30%).")
    _check(all(count >= 0 for count in tickets_per_hour), "Tickets per hour must be 0 or more.")
    window = max(1, int(respond_within_hours))
    work = [count * handle_minutes / 60 for count in tickets_per_hour]
    raw: list[float] = []
    for hour in range(len(work)):
        raw.append(sum(work[max(0, hour - window + 1) : hour + 1]) / window)
    scheduled = tuple(with_shrinkage(agents, shrinkage) for agents in raw)
    return EmailStaffing(raw_agents=tuple(raw), with_shrinkage=scheduled)
