"""The staffing forecast over the API: the same plan as the /staffing/ page, as JSON."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.api_support import api_policy, problems
from deskloop.staffing import queries
from deskloop.staffing.inputs import parse_inputs
from deskloop.staffing.planning import HELD_BACK_WEEKS, HOURS_PER_WEEK
from deskloop.staffing.schemas import StaffingForecastOut, StaffingQuery

router = Router(tags=["staffing"])


@router.get(
    "/staffing/forecast",
    response={200: StaffingForecastOut, **problems(401, 403, 422, 429)},
    summary="Forecast tickets and agents needed per hour of the week",
    url_name="staffing_forecast",
)
@api_policy(ADMIN_ROLES)
def staffing_forecast(request: HttpRequest, params: Query[StaffingQuery]) -> dict[str, Any]:
    agent = caller_agent(request)
    workspace = agent.workspace
    sent = {key: str(value) for key, value in params.dict().items() if value is not None}
    inputs = parse_inputs(workspace.pk, sent)
    plan = queries.staffing_plan(workspace, inputs)
    evaluation = plan.evaluation
    return {
        "time_zone": workspace.time_zone,
        "start": plan.start,
        "inputs": inputs.__dict__,
        "accuracy": None
        if evaluation is None
        else {
            "origin": evaluation.origin,
            "held_back_hours": HELD_BACK_WEEKS * HOURS_PER_WEEK,
            "counted_hours": evaluation.counted_hours,
            "mape": evaluation.method,
            "seasonal_naive_mape": evaluation.seasonal_naive,
            "same_weekday_mean_mape": evaluation.same_weekday_mean,
        },
        "hours": [
            {
                "weekday": hour.weekday,
                "hour": hour.hour,
                "forecast": round(hour.forecast, 3),
                "agents_needed": hour.needed,
                "roster": hour.roster,
            }
            for hour in plan.hours
        ],
    }
