from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.ideas.models import Importance
from deskloop.surveys.models import AnswerType, CsatScale, SurveyKind
from deskloop.surveys.stats import GROUPS

GROUP_LABELS = {
    "product_area": _("Product area"),
    "plan": _("Plan"),
    "segment": _("Segment"),
    "agent": _("Agent"),
    "team": _("Team"),
}


class SurveyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SurveyKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    question = forms.CharField(label=_("Question"), max_length=500)
    question_es = forms.CharField(label=_("Question in Spanish"), max_length=500, required=False)
    question_ru = forms.CharField(label=_("Question in Russian"), max_length=500, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    min_days_between = forms.IntegerField(
        label=_("Ask a contact at most once per (days)"), min_value=0, max_value=3650, required=False
    )
    segment = forms.TypedChoiceField(label=_("Audience segment"), coerce=int, required=False, empty_value=None)
    csat_scale = forms.ChoiceField(label=_("CSAT scale"), choices=CsatScale.choices, initial=CsatScale.GOOD_BAD)
    answer_type = forms.ChoiceField(label=_("Answer type (micro-survey)"), choices=AnswerType.choices)

    def __init__(self, *args: Any, segment_choices: list[tuple[object, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", _("Everyone")), *segment_choices]  # type: ignore[attr-defined]


class FilterForm(forms.Form):
    """The responses list's and the results' filters, all optional (bad values are form errors: 400)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All")), *SurveyKind.choices], required=False)
    product_area = forms.TypedChoiceField(label=_("Product area"), coerce=int, required=False, empty_value=None)
    segment = forms.TypedChoiceField(label=_("Segment"), coerce=int, required=False, empty_value=None)
    score_min = forms.IntegerField(label=_("Score from"), min_value=0, max_value=10, required=False)
    score_max = forms.IntegerField(label=_("Score to"), min_value=0, max_value=10, required=False)
    agent = forms.TypedChoiceField(label=_("Agent"), coerce=int, required=False, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, empty_value=None)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    group = forms.ChoiceField(label=_("Break down by"), choices=[(g, GROUP_LABELS[g]) for g in GROUPS], required=False)

    def __init__(self, *args: Any, choices: dict[str, list[tuple[object, str]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("product_area", "segment", "agent", "team"):
            self.fields[name].choices = [("", _("All")), *choices[name]]  # type: ignore[attr-defined]


class VoteForm(forms.Form):
    idea = forms.TypedChoiceField(label=_("Idea"), coerce=int)
    importance = forms.TypedChoiceField(
        label=_("Importance"), coerce=int, choices=Importance.choices, initial=Importance.NICE_TO_HAVE
    )

    def __init__(self, *args: Any, idea_choices: list[tuple[object, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["idea"].choices = idea_choices  # type: ignore[attr-defined]
