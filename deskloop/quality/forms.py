from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.quality.models import SAMPLE_SIZE_MAX, WEIGHT_MAX, Rating, ScorecardCriterion

NOT_APPLICABLE = "na"


class ScorecardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_active = forms.BooleanField(label=_("Quality reviews are on"), required=False)
    sample_size = forms.IntegerField(
        label=_("Conversations proposed per agent per week"), min_value=0, max_value=SAMPLE_SIZE_MAX
    )
    reviewers = forms.TypedMultipleChoiceField(
        label=_("Agents who may review (admins and owners always may)"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, agent_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].choices = agent_choices  # type: ignore[attr-defined]


class CriterionForm(forms.Form):
    name = forms.CharField(label=_("Criterion"), max_length=100)
    description = forms.CharField(label=_("What the reviewer looks for"), max_length=500, required=False)
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=WEIGHT_MAX, initial=1)


class RangeForm(forms.Form):
    """The per-agent scores' date range, from the URL (bookmarkable); both days included."""

    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("“From” is after “To”."))
        return data


def rating_field_name(criterion: ScorecardCriterion) -> str:
    return f"criterion_{criterion.pk}"


class ReviewForm(forms.Form):
    """The agent judged, a rating (or not applicable) per criterion of the scorecard, and a comment."""

    agent = forms.TypedChoiceField(label=_("Agent reviewed"), coerce=int)
    comment = forms.CharField(
        label=_("Comment for the agent"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(
        self,
        *args: Any,
        criteria: list[ScorecardCriterion],
        agent_choices: list[tuple[int, str]] | None,
        **kwargs: Any,
    ) -> None:
        """``agent_choices`` None: the agent is not chosen (a review being corrected keeps its agent)."""
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        if agent_choices is None:
            del self.fields["agent"]
        else:
            self.fields["agent"].choices = agent_choices  # type: ignore[attr-defined]
        choices = [
            ("", _("Choose…")),
            *((str(r.value), r.label) for r in Rating),
            (NOT_APPLICABLE, _("Not applicable")),
        ]
        for criterion in criteria:
            field = forms.ChoiceField(label=criterion.name, choices=choices, help_text=criterion.description)
            self.fields[rating_field_name(criterion)] = field
        # The comment last, after the ratings.
        self.order_fields(
            [*(["agent"] if "agent" in self.fields else []), *map(rating_field_name, criteria), "comment"]
        )

    def ratings(self) -> dict[int, int | None]:
        """Criterion id -> rating or None (not applicable), from valid data."""
        found: dict[int, int | None] = {}
        for criterion in self.criteria:
            raw = self.cleaned_data[rating_field_name(criterion)]
            found[criterion.pk] = None if raw == NOT_APPLICABLE else int(raw)
        return found
