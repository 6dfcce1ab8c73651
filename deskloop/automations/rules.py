"""What a rule may say: the condition fields and their operators, the action types, the time condition, and the
checks that keep a rule inside its workspace.

Conditions compile to one Django ``Q`` over ``Ticket`` (``conditions_q``): the same expression decides whether a
rule applies to the ticket an event is about, which tickets a time rule picks (set-based, in the database), and
what a dry run counts. One implementation, so the preview cannot disagree with the rule.

References (status, team, assignee, product area, webhook endpoint) are stored as ids. A value may be given as an
id or by name (the settings form), and is resolved inside the rule's workspace only: an id of another workspace
is "not found", on save and again on every run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, Model, OuterRef, Q
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deskloop.accounts.models import WRITER_ROLES, Agent, Team, Workspace
from deskloop.channels.email.notifications import check_rule_email
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import LifecycleStage
from deskloop.tickets.inbox import descendant_area_ids
from deskloop.tickets.models import (
    Channel,
    Message,
    Priority,
    ProductArea,
    RequestType,
    Status,
    StatusCategory,
    TicketTag,
)

TEXT_MAX = 200
NOTE_MAX = 5000
EMAIL_BODY_MAX = 20_000
MAX_CONDITIONS = 20
MAX_ACTIONS = 10
HOURS_MAX = 24 * 365
NONE_WORDS = frozenset({"", "none", "nobody", "-"})


class Operator:
    IS = "is"
    IS_NOT = "is_not"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    MORE_THAN = "more_than"
    LESS_THAN = "less_than"


OPERATOR_LABELS: dict[str, Promise] = {
    Operator.IS: gettext_lazy("is"),
    Operator.IS_NOT: gettext_lazy("is not"),
    Operator.CONTAINS: gettext_lazy("contains"),
    Operator.NOT_CONTAINS: gettext_lazy("does not contain"),
    Operator.MORE_THAN: gettext_lazy("more than (hours)"),
    Operator.LESS_THAN: gettext_lazy("less than (hours)"),
}
EQUALITY = (Operator.IS, Operator.IS_NOT)
TEXT_SEARCH = (Operator.CONTAINS, Operator.NOT_CONTAINS)
HOURS = (Operator.MORE_THAN, Operator.LESS_THAN)


@dataclass(frozen=True)
class Reference:
    """A value that names a row of the workspace: ``model``, found by id or by one of ``names`` (case-insensitive)."""

    model: type[Model]
    names: tuple[str, ...]
    nullable: bool = True
    eligible: Callable[[int], Q] | None = None  # more rules for eligible rows, given the workspace id


def _writer_agents(workspace_id: int) -> Q:
    return Q(is_active=True, role__in=WRITER_ROLES)


STATUS = Reference(Status, ("name",), nullable=False)
TEAM = Reference(Team, ("name",))
TEAM_ONLY = Reference(Team, ("name",), nullable=False)
AGENT = Reference(Agent, ("display_name", "user__email", "user__name"), eligible=_writer_agents)
AREA = Reference(ProductArea, ("path", "name"))


@dataclass(frozen=True)
class ConditionField:
    label: Promise
    operators: tuple[str, ...]
    # One of: a tuple of allowed values, a Reference, "text", "hours".
    values: Any
    # Builds the Q for "is"/"contains"/"more_than" given the cleaned value and the workspace id.
    build: Callable[[Any, int], Q]
    # Hours fields: the ticket timestamp the hours count from.
    column: str = ""


def _hours_field(column: str) -> Callable[[Any, int], Q]:
    # "more than N hours since X" is X <= now - N h: a range on the column (an index can serve it).
    return lambda hours, _ws: Q(**{f"{column}__lte": _now() - dt.timedelta(hours=hours)})


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def _area_q(area_id: Any, workspace_id: int) -> Q:
    if area_id is None:
        return Q(product_area__isnull=True)
    return Q(product_area_id__in=descendant_area_ids(workspace_id, [area_id]))


def _tag_q(name: Any, _workspace_id: int) -> Q:
    return Q(Exists(TicketTag.objects.filter(ticket_id=OuterRef("pk"), tag__name__iexact=name)))


def _body_q(text: Any, _workspace_id: int) -> Q:
    return Q(Exists(Message.objects.filter(ticket_id=OuterRef("pk"), body_text__icontains=text)))


def _ref_q(column: str) -> Callable[[Any, int], Q]:
    return lambda value, _ws: Q(**{f"{column}__isnull": True}) if value is None else Q(**{f"{column}_id": value})


CONDITION_FIELDS: dict[str, ConditionField] = {
    "status_category": ConditionField(
        gettext_lazy("Status category"),
        EQUALITY,
        tuple(StatusCategory.values),
        lambda value, _ws: Q(status__category=value),
    ),
    "status": ConditionField(gettext_lazy("Status"), EQUALITY, STATUS, lambda value, _ws: Q(status_id=value)),
    "priority": ConditionField(
        gettext_lazy("Priority"), EQUALITY, tuple(Priority.values), lambda value, _ws: Q(priority=value)
    ),
    "channel": ConditionField(
        gettext_lazy("Channel"), EQUALITY, tuple(Channel.values), lambda value, _ws: Q(channel=value)
    ),
    "team": ConditionField(gettext_lazy("Team"), EQUALITY, TEAM, _ref_q("team")),
    "assignee": ConditionField(gettext_lazy("Assignee"), EQUALITY, AGENT, _ref_q("assignee")),
    "tag": ConditionField(gettext_lazy("Tags"), TEXT_SEARCH, "text", _tag_q),
    "product_area": ConditionField(gettext_lazy("Product area (and its sub-areas)"), EQUALITY, AREA, _area_q),
    "request_type": ConditionField(
        gettext_lazy("Request type"),
        EQUALITY,
        ("", *RequestType.values),
        lambda value, _ws: Q(request_type=value),
    ),
    "organization_plan": ConditionField(
        gettext_lazy("Organization plan"), EQUALITY, "text", lambda value, _ws: Q(organization__plan__iexact=value)
    ),
    "organization_lifecycle": ConditionField(
        gettext_lazy("Organization lifecycle stage"),
        EQUALITY,
        tuple(LifecycleStage.values),
        lambda value, _ws: Q(organization__lifecycle_stage=value),
    ),
    "subject": ConditionField(
        gettext_lazy("Subject"), TEXT_SEARCH, "text", lambda value, _ws: Q(subject__icontains=value)
    ),
    "body": ConditionField(gettext_lazy("Any message of the conversation"), TEXT_SEARCH, "text", _body_q),
    "hours_since_created": ConditionField(
        gettext_lazy("Hours since created"), HOURS, "hours", _hours_field("created_at"), "created_at"
    ),
    "hours_since_updated": ConditionField(
        gettext_lazy("Hours since last update"), HOURS, "hours", _hours_field("updated_at"), "updated_at"
    ),
    "hours_since_customer_message": ConditionField(
        gettext_lazy("Hours since the customer's last message"),
        HOURS,
        "hours",
        _hours_field("last_customer_message_at"),
        "last_customer_message_at",
    ),
    "hours_since_agent_message": ConditionField(
        gettext_lazy("Hours since the last agent reply"),
        HOURS,
        "hours",
        _hours_field("last_agent_message_at"),
        "last_agent_message_at",
    ),
}

# Time rules count hours from one of these ticket timestamps.
TIME_FIELDS: dict[str, Promise] = {
    "updated_at": gettext_lazy("last update"),
    "created_at": gettext_lazy("creation"),
    "last_customer_message_at": gettext_lazy("the customer's last message"),
    "last_agent_message_at": gettext_lazy("the last agent reply"),
    "solved_at": gettext_lazy("being solved"),
}


@dataclass(frozen=True)
class ActionType:
    label: Promise
    # A tuple of allowed values, a Reference, "text" (one line), "note" (long text), "email", "endpoint", "none".
    values: Any


def endpoint_reference() -> Reference:
    from deskloop.webhooks.models import Endpoint

    return Reference(Endpoint, ("url", "description"), nullable=False, eligible=lambda _ws: Q(is_active=True))


ACTION_TYPES: dict[str, ActionType] = {
    "set_status": ActionType(gettext_lazy("Set status"), STATUS),
    "set_priority": ActionType(gettext_lazy("Set priority"), tuple(Priority.values)),
    "set_team": ActionType(gettext_lazy("Set team"), TEAM),
    "set_assignee": ActionType(gettext_lazy("Set assignee"), AGENT),
    "set_product_area": ActionType(gettext_lazy("Set product area"), AREA),
    "set_request_type": ActionType(gettext_lazy("Set request type"), ("", *RequestType.values)),
    "assign_in_team": ActionType(gettext_lazy("Assign in team (round-robin, or as the team is routed)"), TEAM_ONLY),
    "add_tag": ActionType(gettext_lazy("Add tag"), "text"),
    "remove_tag": ActionType(gettext_lazy("Remove tag"), "text"),
    "add_note": ActionType(gettext_lazy("Add internal note"), "note"),
    "notify_agent": ActionType(gettext_lazy("Notify agent"), Reference(Agent, AGENT.names, nullable=False)),
    "send_email": ActionType(gettext_lazy("Email the requester (subject, then body)"), "email"),
    "call_webhook": ActionType(gettext_lazy("Call webhook"), "endpoint"),
}


def _field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, field=field)


def resolve_reference(reference: Reference, workspace_id: int, raw: Any, *, field: str) -> int | None:
    """The id of the workspace's row ``raw`` names (an id or a name), None for "none" where allowed."""
    text = str(raw).strip() if raw is not None else ""
    if text.lower() in NONE_WORDS:
        if reference.nullable:
            return None
        raise _field_error(field, _("Choose a value."))
    rows = reference.model._default_manager.filter(workspace_id=workspace_id)
    if reference.eligible is not None:
        rows = rows.filter(reference.eligible(workspace_id))
    if text.isdigit():
        found = rows.filter(pk=int(text)).values_list("pk", flat=True).first()
    else:
        by_name = Q()
        for name in reference.names:
            by_name |= Q(**{f"{name}__iexact": text})
        found = rows.filter(by_name).order_by("pk").values_list("pk", flat=True).first()
    if found is None:
        # The same words for a missing row and another workspace's: ids of others must not be confirmed to exist.
        raise _field_error(field, _("“%(value)s” was not found in this workspace.") % {"value": text})
    return int(found)


def _clean_choice(allowed: tuple[str, ...], raw: Any, *, field: str) -> str:
    value = str(raw if raw is not None else "").strip()
    if value not in allowed:
        raise _field_error(field, _("“%(value)s” is not one of the allowed values.") % {"value": value})
    return value


def _clean_text(raw: Any, *, field: str, limit: int = TEXT_MAX) -> str:
    value = " ".join(str(raw if raw is not None else "").split())
    if not value:
        raise _field_error(field, _("Enter a value."))
    if len(value) > limit:
        raise _field_error(field, _("At most %(max)d characters.") % {"max": limit})
    return value


def _clean_hours(raw: Any, *, field: str) -> int:
    try:
        hours = int(str(raw).strip())
    except ValueError:
        raise _field_error(field, _("Enter a whole number of hours.")) from None
    if not 1 <= hours <= HOURS_MAX:
        raise _field_error(field, _("Hours must be between 1 and %(max)d.") % {"max": HOURS_MAX})
    return hours


def clean_condition(workspace_id: int, row: Mapping[str, Any]) -> dict[str, Any]:
    name = str(row.get("field", ""))
    spec = CONDITION_FIELDS.get(name)
    if spec is None:
        raise _field_error("conditions", _("Unknown condition “%(field)s”.") % {"field": name})
    operator = str(row.get("operator", ""))
    if operator not in spec.operators:
        raise _field_error("conditions", _("“%(field)s” cannot be compared that way.") % {"field": spec.label})
    raw = row.get("value")
    value: Any
    if isinstance(spec.values, Reference):
        value = resolve_reference(spec.values, workspace_id, raw, field="conditions")
    elif spec.values == "text":
        value = _clean_text(raw, field="conditions")
    elif spec.values == "hours":
        value = _clean_hours(raw, field="conditions")
    else:
        value = _clean_choice(spec.values, raw, field="conditions")
    return {"field": name, "operator": operator, "value": value}


def clean_action(workspace_id: int, row: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(row.get("type", ""))
    spec = ACTION_TYPES.get(kind)
    if spec is None:
        raise _field_error("actions", _("Unknown action “%(action)s”.") % {"action": kind})
    raw = row.get("value")
    if isinstance(spec.values, Reference):
        return {"type": kind, "value": resolve_reference(spec.values, workspace_id, raw, field="actions")}
    if spec.values == "text":
        return {"type": kind, "value": _clean_text(raw, field="actions", limit=60)}
    if spec.values == "note":
        return {"type": kind, "value": _clean_long(row.get("text") or raw, limit=NOTE_MAX)}
    if spec.values == "email":
        subject = _clean_text(raw, field="actions", limit=TEXT_MAX)
        body = _clean_long(row.get("text"), limit=EMAIL_BODY_MAX)
        _check_email(workspace_id, subject, body)
        return {"type": kind, "value": subject, "text": body}
    if spec.values == "endpoint":
        return {"type": kind, "value": resolve_reference(endpoint_reference(), workspace_id, raw, field="actions")}
    return {"type": kind, "value": _clean_choice(spec.values, raw, field="actions")}


def _check_email(workspace_id: int, subject: str, body: str) -> None:
    """The email's template text must render (the same sandbox check as an email template's save)."""
    name = Workspace.objects.filter(pk=workspace_id).values_list("name", flat=True).first() or ""
    try:
        check_rule_email(subject=subject, body=body, workspace_name=name)
    except ValidationFailed as refused:
        raise _field_error("actions", refused.message) from refused


def _clean_long(raw: Any, *, limit: int) -> str:
    value = str(raw if raw is not None else "").strip()
    if not value:
        raise _field_error("actions", _("Enter the text."))
    if len(value) > limit:
        raise _field_error("actions", _("At most %(max)d characters.") % {"max": limit})
    return value


def clean_time_condition(raw: Mapping[str, Any]) -> dict[str, Any]:
    category = str(raw.get("status_category") or "")
    if category and category not in StatusCategory.values:
        raise _field_error("time_condition", _("Unknown status category “%(value)s”.") % {"value": category})
    since = str(raw.get("hours_since") or "")
    if since not in TIME_FIELDS:
        raise _field_error("time_condition", _("Choose what the hours are counted from."))
    return {"status_category": category, "hours_since": since, "hours": _clean_hours(raw.get("hours"), field="hours")}


def clean_all(
    workspace_id: int,
    conditions: Iterable[Mapping[str, Any]],
    actions: Iterable[Mapping[str, Any]],
    *,
    require_actions: bool = True,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    cleaned_conditions = [clean_condition(workspace_id, row) for row in conditions]
    cleaned_actions = [clean_action(workspace_id, row) for row in actions]
    if len(cleaned_conditions) > MAX_CONDITIONS:
        raise _field_error("conditions", _("At most %(max)d conditions.") % {"max": MAX_CONDITIONS})
    if require_actions and not cleaned_actions:
        raise _field_error("actions", _("Add at least one action."))
    if len(cleaned_actions) > MAX_ACTIONS:
        raise _field_error("actions", _("At most %(max)d actions.") % {"max": MAX_ACTIONS})
    return cleaned_conditions, cleaned_actions


def condition_q(condition: Mapping[str, Any], workspace_id: int) -> Q:
    spec = CONDITION_FIELDS[condition["field"]]
    matched = spec.build(condition["value"], workspace_id)
    if condition["operator"] in (Operator.IS_NOT, Operator.NOT_CONTAINS):
        return ~matched
    if condition["operator"] == Operator.LESS_THAN:
        # "less than N hours since X": X is later than now - N h (so known).
        return Q(**{f"{spec.column}__gt": _now() - dt.timedelta(hours=condition["value"])})
    return matched


def conditions_q(conditions: Iterable[Mapping[str, Any]], match: str, workspace_id: int) -> Q:
    """The tickets the conditions select; no condition selects every ticket."""
    parts = [condition_q(condition, workspace_id) for condition in conditions]
    combined = Q()
    for part in parts:
        combined = (combined | part) if match == "any" and combined else (combined & part)
    return combined


def time_condition_q(time_condition: Mapping[str, Any]) -> Q:
    """The tickets whose time has come: in the status category (when one is given) for at least ``hours`` since
    the chosen timestamp."""
    column = time_condition["hours_since"]
    due = Q(**{f"{column}__lte": _now() - dt.timedelta(hours=int(time_condition["hours"]))})
    if time_condition.get("status_category"):
        due &= Q(status__category=time_condition["status_category"])
    return due
