"""The ideas board's forms (public board pages and the widget's Ideas tab). Lengths and emptiness are checked again
by the ideas services, which give the same messages to the API and the agents' pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.ideas.models import IdeaStatus, Importance
from deskloop.ideas.services.ideas import COMMENT_MAX, DESCRIPTION_MAX, TITLE_MAX

SEARCH_MAX = 200


class IdeaForm(forms.Form):
    title = forms.CharField(label=_("Your idea in a few words"), max_length=TITLE_MAX)
    description = forms.CharField(
        label=_("What would it let you do?"),
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    product_area = forms.CharField(label=_("Part of the product"), required=False, max_length=20)


class VoteForm(forms.Form):
    importance = forms.TypedChoiceField(
        label=_("How important is it to you?"),
        choices=Importance.choices,
        coerce=int,
        initial=Importance.NICE_TO_HAVE,
        required=False,
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)

    def clean_importance(self) -> int:
        # A vote without a choice (the board's one-click button) counts as "nice to have".
        return int(self.cleaned_data.get("importance") or Importance.NICE_TO_HAVE)


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Your comment"), max_length=COMMENT_MAX, widget=forms.Textarea(attrs={"rows": 4}))


class BoardFilterForm(forms.Form):
    """The board's query string; anything else than these values is a 400, never a silent default."""

    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("votes", _("Most votes")),
            ("trending", _("Trending")),
            ("newest", _("Newest")),
        ],
    )
    status = forms.ChoiceField(required=False, choices=[("", _("Open and shipped")), *IdeaStatus.choices])
    product_area = forms.CharField(required=False, max_length=20)
    q = forms.CharField(required=False, max_length=SEARCH_MAX)
    cursor = forms.CharField(required=False, max_length=500)

    def clean_sort(self) -> str:
        return str(self.cleaned_data.get("sort") or "votes")
