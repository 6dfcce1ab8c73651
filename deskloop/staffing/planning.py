"""The manager's staffing plan: forecast volume per hour of the week, the agents it needs, the roster beside it.

Pure (no Django): the page and the API pass the ticket history, the local "now" and the inputs from the URL.
Live channels (chat) are sized by Erlang C per hour; email by the backlog throughput model (erlang.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from deskloop.staffing.erlang import agents_needed, email_agents_needed
from deskloop.staffing.forecasting import Evaluation, FloatArray, HourlySeries, evaluate, floor_hour, forecast

EMAIL = "email"
LIVE = "live"
CHANNELS = (EMAIL, LIVE)
HELD_BACK_WEEKS = 4
HISTORY_WEEKS = 26  # the forecaster reads at most 16 weeks per weekday; older history changes nothing
HOURS_PER_WEEK = 7 * 24


@dataclass(frozen=True)
class StaffingInputs:
    channel: str
    weeks: int  # weeks forecast ahead
    handle_minutes: float  # average handling time of one ticket or chat
    target_minutes: float  # first response target
    service_level: float  # % of chats answered within the target (live only)
    shrinkage: float  # % of paid time not on tickets (breaks, training, meetings, absence)
    occupancy: float  # % cap of an agent's time on chats (live only)


@dataclass(frozen=True)
class HourOfWeek:
    weekday: int  # Monday 0
    hour: int
    forecast: float  # tickets expected in this hour (mean over the weeks ahead)
    needed: int  # agents to schedule (the busiest of the weeks ahead)
    roster: int | None  # agents on shift by their calendars

    @property
    def short(self) -> int | None:
        """Agents missing on the roster (0 when covered); None without a roster."""
        return None if self.roster is None else max(0, self.needed - self.roster)


@dataclass(frozen=True)
class StaffingPlan:
    inputs: StaffingInputs
    start: dt.date  # the first forecast day (tomorrow)
    hours: tuple[HourOfWeek, ...]  # 168, Monday 00:00 first
    evaluation: Evaluation | None  # the forecaster on the last held-back weeks, None when history is too short

    def row(self, weekday: int) -> tuple[HourOfWeek, ...]:
        return self.hours[weekday * 24 : weekday * 24 + 24]

    @property
    def peak_needed(self) -> int:
        return max((hour.needed for hour in self.hours), default=0)

    @property
    def short_hours(self) -> int:
        return sum(1 for hour in self.hours if hour.short)


def _needed_per_hour(values: FloatArray, inputs: StaffingInputs) -> list[int]:
    if inputs.channel == EMAIL:
        return list(
            email_agents_needed(
                values.tolist(), inputs.handle_minutes, inputs.target_minutes / 60, inputs.shrinkage / 100
            ).with_shrinkage
        )
    return [
        agents_needed(
            arrivals_per_hour=float(value),
            aht_seconds=inputs.handle_minutes * 60,
            target_seconds=inputs.target_minutes * 60,
            target_service_level=inputs.service_level / 100,
            shrinkage=inputs.shrinkage / 100,
            max_occupancy=inputs.occupancy / 100,
        ).with_shrinkage
        for value in values
    ]


def held_back_evaluation(series: HourlySeries, today: dt.date) -> Evaluation | None:
    """The forecaster made 4 weeks before today and scored on those 4 weeks; None without a week of history
    before them or without volume in them."""
    origin = dt.datetime.combine(today - dt.timedelta(weeks=HELD_BACK_WEEKS), dt.time())
    if series.start > origin - dt.timedelta(weeks=1):
        return None
    result = evaluate(series, origin, HELD_BACK_WEEKS * HOURS_PER_WEEK)
    return result if result.counted_hours else None


def make_plan(
    series: HourlySeries | None, *, now: dt.datetime, inputs: StaffingInputs, roster: dict[tuple[int, int], int] | None
) -> StaffingPlan:
    """Forecast from the current hour (`now` is naive local time) and size the weeks that start tomorrow."""
    start = now.date() + dt.timedelta(days=1)
    origin = floor_hour(now)
    lead_in = int((dt.datetime.combine(start, dt.time()) - origin).total_seconds() // 3600)
    span = inputs.weeks * HOURS_PER_WEEK
    values = np.zeros(lead_in + span) if series is None else forecast(series, origin, lead_in + span)
    needed = _needed_per_hour(values, inputs)[lead_in:]
    values = values[lead_in:]
    volume = np.zeros(HOURS_PER_WEEK)
    most = [0] * HOURS_PER_WEEK
    for offset in range(span):
        moment = dt.datetime.combine(start, dt.time()) + dt.timedelta(hours=offset)
        slot = moment.weekday() * 24 + moment.hour
        volume[slot] += values[offset] / inputs.weeks
        most[slot] = max(most[slot], needed[offset])
    hours = tuple(
        HourOfWeek(
            weekday=slot // 24,
            hour=slot % 24,
            forecast=float(volume[slot]),
            needed=most[slot],
            roster=None if roster is None else roster.get((slot // 24, slot % 24), 0),
        )
        for slot in range(HOURS_PER_WEEK)
    )
    evaluation = None if series is None else held_back_evaluation(series, now.date())
    return StaffingPlan(inputs=inputs, start=start, hours=hours, evaluation=evaluation)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    hour: HourOfWeek


@dataclass(frozen=True)
class Chart:
    """A server-side SVG of agents needed (bars) and the roster (a step line) over the 168 hours of the week."""

    width: int
    height: int
    top: int
    bars: tuple[Bar, ...]
    roster_points: str
    day_starts: tuple[tuple[float, int], ...]  # (x, weekday) of each day's first hour
    scale_max: int


def chart(plan: StaffingPlan, *, hour_width: int = 5, height: int = 160) -> Chart:
    rostered = [hour.roster or 0 for hour in plan.hours]
    scale = max([plan.peak_needed, *rostered, 1])
    plot = height - 20

    def y(value: float) -> float:
        return round(height - 20 - plot * value / scale, 1)

    bars = tuple(
        Bar(x=slot * hour_width, y=y(hour.needed), height=round(plot * hour.needed / scale, 1), hour=hour)
        for slot, hour in enumerate(plan.hours)
    )
    points: list[str] = []
    if any(hour.roster is not None for hour in plan.hours):
        for slot, count in enumerate(rostered):
            points.append(f"{slot * hour_width},{y(count)}")
            points.append(f"{(slot + 1) * hour_width},{y(count)}")
    return Chart(
        width=HOURS_PER_WEEK * hour_width,
        height=height,
        top=height - 20,
        bars=bars,
        roster_points=" ".join(points),
        day_starts=tuple((day * 24 * hour_width, day) for day in range(7)),
        scale_max=scale,
    )
