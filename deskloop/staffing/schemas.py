"""API shapes of the staffing forecast."""

import datetime as dt

from ninja import Field, Schema


class StaffingQuery(Schema):
    channel: str | None = Field(None, description="email (default) or live (the chat widget)")
    weeks: int | None = Field(None, description="weeks forecast ahead, 1-8 (default 4)")
    handle_minutes: float | None = Field(None, description="average handle time, minutes (email 8, live 6)")
    target_minutes: float | None = Field(
        None, description="first response target, minutes (default: the SLA policy's for the channel; else 240 / 1)"
    )
    service_level: float | None = Field(None, description="live: % answered within the target (default 80)")
    shrinkage: float | None = Field(None, description="% of paid time not on tickets (default 30)")
    occupancy: float | None = Field(None, description="live: cap on an agent's busy time, % (default 85)")


class InputsOut(Schema):
    channel: str
    weeks: int
    handle_minutes: float
    target_minutes: float
    service_level: float
    shrinkage: float
    occupancy: float


class AccuracyOut(Schema):
    origin: dt.datetime = Field(..., description="the forecast was made from the history before this local time")
    held_back_hours: int
    counted_hours: int = Field(..., description="held-back hours that had tickets: MAPE is their mean")
    mape: float | None = Field(..., description="hourly MAPE % of the forecaster")
    seasonal_naive_mape: float | None
    same_weekday_mean_mape: float | None


class HourOut(Schema):
    weekday: int = Field(..., description="Monday 0 .. Sunday 6, in the workspace's time zone")
    hour: int
    forecast: float = Field(..., description="tickets expected in this hour (mean over the weeks ahead)")
    agents_needed: int = Field(..., description="agents to schedule, after shrinkage (the busiest of the weeks)")
    roster: int | None = Field(..., description="agents on shift by their calendars")


class StaffingForecastOut(Schema):
    time_zone: str
    start: dt.date = Field(..., description="the first forecast day")
    inputs: InputsOut
    accuracy: AccuracyOut | None = Field(..., description="null until there is enough history")
    hours: list[HourOut] = Field(..., description="168 hours, Monday 00:00 first")
