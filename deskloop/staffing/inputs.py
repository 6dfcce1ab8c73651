"""The staffing page's and API's inputs, read from the URL (bookmarkable) with their defaults and bounds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from deskloop.core.errors import ValidationFailed
from deskloop.staffing.planning import CHANNELS, EMAIL, LIVE, StaffingInputs
from deskloop.staffing.queries import default_first_response_minutes

# Defaults when the URL says nothing: an email takes longer to handle but may wait hours; a chat is answered in
# about a minute. The target is the SLA policy's first-response target when one applies to the channel.
DEFAULT_HANDLE_MINUTES = {EMAIL: 8.0, LIVE: 6.0}
DEFAULT_TARGET_MINUTES = {EMAIL: 240.0, LIVE: 1.0}
DEFAULT_SERVICE_LEVEL = 80.0
DEFAULT_SHRINKAGE = 30.0
DEFAULT_OCCUPANCY = 85.0
DEFAULT_WEEKS = 4


@dataclass(frozen=True)
class _Bound:
    low: float
    high: float
    message: str


def _bounds() -> dict[str, _Bound]:
    return {
        "weeks": _Bound(1, 8, _("Weeks ahead must be a whole number from 1 to 8.")),
        "handle_minutes": _Bound(0.1, 480, _("Handle time must be from 0.1 to 480 minutes.")),
        "target_minutes": _Bound(0.1, 10080, _("The first response target must be from 0.1 minutes to 7 days.")),
        "service_level": _Bound(1, 99, _("The service level must be from 1 to 99 %.")),
        "shrinkage": _Bound(0, 90, _("Shrinkage must be from 0 to 90 %.")),
        "occupancy": _Bound(10, 100, _("The occupancy cap must be from 10 to 100 %.")),
    }


def _number(params: Mapping[str, str], name: str, default: float, bound: _Bound, *, whole: bool = False) -> float:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ValidationFailed(bound.message, field=name) from None
    if not bound.low <= value <= bound.high:
        raise ValidationFailed(bound.message, field=name)
    return value


def parse_inputs(workspace_id: int, params: Mapping[str, str]) -> StaffingInputs:
    """The inputs the URL gives, defaults for the rest; ValidationFailed (naming the parameter) for a bad value."""
    channel = (params.get("channel") or EMAIL).strip()
    if channel not in CHANNELS:
        raise ValidationFailed(_("The channel must be email or live."), field="channel")
    bounds = _bounds()
    sla_target = default_first_response_minutes(workspace_id, channel)
    return StaffingInputs(
        channel=channel,
        weeks=int(_number(params, "weeks", DEFAULT_WEEKS, bounds["weeks"], whole=True)),
        handle_minutes=_number(params, "handle_minutes", DEFAULT_HANDLE_MINUTES[channel], bounds["handle_minutes"]),
        target_minutes=_number(
            params, "target_minutes", float(sla_target or DEFAULT_TARGET_MINUTES[channel]), bounds["target_minutes"]
        ),
        service_level=_number(params, "service_level", DEFAULT_SERVICE_LEVEL, bounds["service_level"]),
        shrinkage=_number(params, "shrinkage", DEFAULT_SHRINKAGE, bounds["shrinkage"]),
        occupancy=_number(params, "occupancy", DEFAULT_OCCUPANCY, bounds["occupancy"]),
    )
