"""The rule builder's form: the rule's own fields in a Django form, its condition and action rows as repeated inputs
(``condition_field``, ``condition_operator``, ``condition_value``; ``action_type``, ``action_value``, ``action_text``)
read in order, so a row added by htmx (or a blank one left empty) needs no numbering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from deskloop.automations import rules
from deskloop.automations.models import AutomationRule, MatchMode, RuleKind, TriggerEvent
from deskloop.automations.services import RuleDraft
from deskloop.tickets.models import StatusCategory

BLANK_ROWS = 1


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Runs"), choices=RuleKind.choices, widget=forms.RadioSelect, initial=RuleKind.EVENT
    )
    events = forms.MultipleChoiceField(
        label=_("When"), choices=TriggerEvent.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    time_status_category = forms.ChoiceField(
        label=_("Status category"),
        choices=[("", _("Any status")), *StatusCategory.choices],
        required=False,
    )
    time_hours = forms.IntegerField(
        label=_("For at least (hours)"), min_value=1, max_value=rules.HOURS_MAX, required=False
    )
    time_hours_since = forms.ChoiceField(
        label=_("Counted from"), choices=list(rules.TIME_FIELDS.items()), required=False
    )
    match = forms.ChoiceField(label=_("Match"), choices=MatchMode.choices, initial=MatchMode.ALL)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


@dataclass(frozen=True)
class Row:
    first: str
    second: str
    value: str
    text: str = ""


def condition_rows(data: QueryDict) -> list[Row]:
    fields, operators, values = (
        data.getlist(name) for name in ("condition_field", "condition_operator", "condition_value")
    )
    return [
        Row(field, operators[i] if i < len(operators) else "", values[i] if i < len(values) else "")
        for i, field in enumerate(fields)
        if field
    ]


def action_rows(data: QueryDict) -> list[Row]:
    types, values, texts = (data.getlist(name) for name in ("action_type", "action_value", "action_text"))
    return [
        Row(kind, "", values[i] if i < len(values) else "", texts[i] if i < len(texts) else "")
        for i, kind in enumerate(types)
        if kind
    ]


def draft_from(form: RuleForm, data: QueryDict) -> RuleDraft:
    """The rule as the admin entered it (``form`` is valid)."""
    cleaned = form.cleaned_data
    return RuleDraft(
        name=cleaned["name"],
        kind=cleaned["kind"],
        events=cleaned["events"],
        time_condition={
            "status_category": cleaned["time_status_category"],
            "hours_since": cleaned["time_hours_since"],
            "hours": cleaned["time_hours"],
        },
        match=cleaned["match"],
        conditions=[{"field": r.first, "operator": r.second, "value": r.value} for r in condition_rows(data)],
        actions=[{"type": r.first, "value": r.value, "text": r.text} for r in action_rows(data)],
        is_active=cleaned["is_active"],
    )


def initial_of(rule: AutomationRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "events": rule.events,
        "time_status_category": rule.time_condition.get("status_category", ""),
        "time_hours": rule.time_condition.get("hours"),
        "time_hours_since": rule.time_condition.get("hours_since", "updated_at"),
        "match": rule.match,
        "is_active": rule.is_active,
    }


def _shown(workspace_id: int, spec_values: Any, value: Any) -> str:
    """A stored value as the form shows it: a reference by its name, the rest as is."""
    if value is None:
        return "none"
    reference = rules.endpoint_reference() if spec_values == "endpoint" else spec_values
    if isinstance(reference, rules.Reference):
        row = reference.model._default_manager.filter(workspace_id=workspace_id, pk=value).first()
        if row is None:
            return str(value)
        for name in reference.names:
            shown: Any = row
            for part in name.split("__"):
                shown = getattr(shown, part, "")
            if shown:
                return str(shown)
    return str(value)


def rows_of(rule: AutomationRule) -> tuple[list[Row], list[Row]]:
    conditions = [
        Row(c["field"], c["operator"], _shown(rule.workspace_id, rules.CONDITION_FIELDS[c["field"]].values, c["value"]))
        for c in rule.conditions
        if c.get("field") in rules.CONDITION_FIELDS
    ]
    actions = [
        Row(
            a["type"],
            "",
            _shown(rule.workspace_id, rules.ACTION_TYPES[a["type"]].values, a.get("value")),
            a.get("text", ""),
        )
        for a in rule.actions
        if a.get("type") in rules.ACTION_TYPES
    ]
    if any(a.first == "add_note" for a in actions):
        actions = [Row(a.first, "", "", a.value) if a.first == "add_note" else a for a in actions]
    return conditions, actions


def with_blank_rows(conditions: list[Row], actions: list[Row]) -> tuple[list[Row], list[Row]]:
    """The rows shown: the rule's, then blank ones to fill in (more come with "Add a condition" / "Add an action")."""
    blank = Row("", "", "")
    return [*conditions, *([blank] * BLANK_ROWS)], [*actions, *([blank] * BLANK_ROWS)]
