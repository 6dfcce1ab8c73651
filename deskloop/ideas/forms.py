"""The agents' ideas forms: parsing only; every rule is the services' (they raise DomainError)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.core.forms import AccessibleForm
from deskloop.ideas.models import IdeaStatus, Importance
from deskloop.ideas.queries import SORTS
from deskloop.ideas.services.ideas import COMMENT_MAX, DESCRIPTION_MAX, SHIPPED_NOTE_MAX, TITLE_MAX
from deskloop.tickets.models import ProductArea

SORT_CHOICES = list(
    zip(SORTS, [_("Score"), _("Votes"), _("Newest"), _("Trending")], strict=True),
)


class BoardFilterForm(forms.Form):
    q = forms.CharField(label=_("Text"), required=False, max_length=200)
    status = forms.MultipleChoiceField(label=_("Status"), required=False, choices=IdeaStatus.choices)
    product_area = forms.IntegerField(label=_("Product area"), required=False, min_value=1)
    segment = forms.IntegerField(label=_("Segment"), required=False, min_value=1)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    cursor = forms.CharField(required=False, max_length=500)


class IdeaForm(AccessibleForm):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 8})
    )
    product_area = forms.ModelChoiceField(label=_("Product area"), queryset=ProductArea.objects.none(), required=False)
    is_public = forms.BooleanField(
        label=_("Shown to customers"),
        required=False,
        initial=True,
        help_text=_("Private ideas are seen by agents only, even on a public board."),
    )

    def __init__(self, *args: object, workspace_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        area = self.fields["product_area"]
        assert isinstance(area, forms.ModelChoiceField)
        area.queryset = ProductArea.objects.filter(workspace_id=workspace_id)


class StatusForm(AccessibleForm):
    status = forms.ChoiceField(label=_("Status"), choices=IdeaStatus.choices)
    shipped_note = forms.CharField(
        label=_("What shipped"),
        required=False,
        max_length=SHIPPED_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For the changelog and the email to everyone who asked for it."),
    )


class MergeForm(AccessibleForm):
    into = forms.IntegerField(label=_("Merge into"), min_value=1)


class AgentVoteForm(AccessibleForm):
    """A vote an agent casts for a customer: the customer's email, or an organization without a contact."""

    email = forms.CharField(label=_("Customer's email"), required=False, max_length=254)
    organization = forms.IntegerField(label=_("Organization"), required=False, min_value=1)
    importance = forms.TypedChoiceField(
        label=_("Importance"), choices=Importance.choices, coerce=int, initial=Importance.NICE_TO_HAVE
    )
    ticket_number = forms.IntegerField(label=_("From ticket #"), required=False, min_value=1)


class CommentForm(AccessibleForm):
    body = forms.CharField(label=_("Comment"), max_length=COMMENT_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    is_internal = forms.BooleanField(label=_("Internal (agents only)"), required=False, initial=True)


class BoardSettingsForm(AccessibleForm):
    is_public = forms.BooleanField(
        label=_("Public board"),
        required=False,
        help_text=_("Anyone can read the public ideas, their statuses and vote counts; never who voted."),
    )
    weight_nice_to_have = forms.DecimalField(
        label=_("Weight of “nice to have”"), min_value=0, max_value=1000, max_digits=6, decimal_places=2
    )
    weight_important = forms.DecimalField(
        label=_("Weight of “important”"), min_value=0, max_value=1000, max_digits=6, decimal_places=2
    )
    weight_critical = forms.DecimalField(
        label=_("Weight of “critical”"), min_value=0, max_value=1000, max_digits=6, decimal_places=2
    )
