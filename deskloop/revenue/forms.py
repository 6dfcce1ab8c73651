"""Forms of the revenue pages: parse and shape only; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.accounts.models import Agent
from deskloop.customers.models import Organization, Segment
from deskloop.ideas.models import Idea, IdeaStatus
from deskloop.revenue.imports import UPLOAD_MAX_BYTES
from deskloop.revenue.models import ChurnReason, DealStatus, LostReason
from deskloop.tickets.models import ProductArea

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _InWorkspace(forms.Form):
    """A form whose choices are the workspace's own rows (another workspace's id is simply not a choice)."""

    def __init__(self, *args: Any, workspace_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace_id = workspace_id
        choices = {
            "product_area": ProductArea.objects.filter(workspace_id=workspace_id),
            "segment": Segment.objects.filter(workspace_id=workspace_id),
            "lost_reason": LostReason.objects.filter(workspace_id=workspace_id),
            "owner": Agent.objects.filter(workspace_id=workspace_id, is_active=True).select_related("user"),
            "idea": Idea.objects.filter(workspace_id=workspace_id, merged_into__isnull=True)
            .exclude(status=IdeaStatus.DECLINED)
            .order_by("title"),
        }
        for name, queryset in choices.items():
            field = self.fields.get(name)
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = queryset


class DealForm(_InWorkspace):
    organization = forms.CharField(
        label=_("Organization"), max_length=200, help_text=_("An existing organization's name.")
    )
    name = forms.CharField(label=_("Deal"), max_length=200)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14, decimal_places=2, required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="USD")
    stage = forms.CharField(label=_("Stage"), max_length=100, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=DealStatus.choices)
    lost_reason = forms.ModelChoiceField(label=_("Lost reason"), queryset=LostReason.objects.none(), required=False)
    competitor = forms.CharField(label=_("Competitor"), max_length=200, required=False)
    industry = forms.CharField(
        label=_("Industry"), max_length=100, required=False, help_text=_("Blank: the organization's industry.")
    )
    product_area = forms.ModelChoiceField(label=_("Product area"), queryset=ProductArea.objects.none(), required=False)
    idea = forms.ModelChoiceField(label=_("Idea it needed"), queryset=Idea.objects.none(), required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=Agent.objects.none(), required=False)
    closed_on = forms.DateField(label=_("Closed on"), required=False, widget=DATE)
    external_id = forms.CharField(label=_("External id"), max_length=200, required=False)

    def clean_organization(self) -> Organization:
        name = " ".join(self.cleaned_data["organization"].split())
        found = Organization.objects.filter(workspace_id=self.workspace_id, name__iexact=name).first()
        if found is None:
            raise forms.ValidationError(_("No organization with this name."))
        return found


class ChurnForm(_InWorkspace):
    organization = forms.CharField(
        label=_("Organization"), max_length=200, help_text=_("An existing organization's name.")
    )
    churned_on = forms.DateField(label=_("Churned on"), widget=DATE)
    reason = forms.ChoiceField(label=_("Reason"), choices=ChurnReason.choices)
    mrr_lost = forms.DecimalField(label=_("MRR lost"), min_value=0, max_digits=12, decimal_places=2, required=False)
    product_area = forms.ModelChoiceField(label=_("Product area"), queryset=ProductArea.objects.none(), required=False)
    idea = forms.ModelChoiceField(
        label=_("Idea that would have kept them"), queryset=Idea.objects.none(), required=False
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    won_back_on = forms.DateField(label=_("Won back on"), required=False, widget=DATE)
    external_id = forms.CharField(label=_("External id"), max_length=200, required=False)

    clean_organization = DealForm.clean_organization


class DealFilterForm(_InWorkspace):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any status")), *DealStatus.choices], required=False)
    product_area = forms.ModelChoiceField(
        label=_("Product area"), queryset=ProductArea.objects.none(), required=False, empty_label=_("Any area")
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"), queryset=Segment.objects.none(), required=False, empty_label=_("All customers")
    )
    lost_reason = forms.ModelChoiceField(
        label=_("Lost reason"), queryset=LostReason.objects.none(), required=False, empty_label=_("Any reason")
    )
    closed_from = forms.DateField(label=_("Closed from"), required=False, widget=DATE)
    closed_until = forms.DateField(label=_("Closed until"), required=False, widget=DATE)


class ChurnFilterForm(_InWorkspace):
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", _("Any reason")), *ChurnReason.choices], required=False)
    product_area = forms.ModelChoiceField(
        label=_("Product area"), queryset=ProductArea.objects.none(), required=False, empty_label=_("Any area")
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"), queryset=Segment.objects.none(), required=False, empty_label=_("All customers")
    )
    churned_from = forms.DateField(label=_("Churned from"), required=False, widget=DATE)
    churned_until = forms.DateField(label=_("Churned until"), required=False, widget=DATE)
    won_back = forms.ChoiceField(
        label=_("Won back"),
        choices=[("", _("Either")), ("yes", _("Won back")), ("no", _("Still gone"))],
        required=False,
    )
    won_back_from = forms.DateField(label=_("Won back from"), required=False, widget=DATE)
    won_back_until = forms.DateField(label=_("Won back until"), required=False, widget=DATE)


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"), choices=[("deals", _("Deals")), ("churn", _("Churn records"))]
    )
    file = forms.FileField(label=_("CSV file"))

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(mb)d MB.") % {"mb": UPLOAD_MAX_BYTES // 1_000_000})
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from exc


class ImportConfirmForm(forms.Form):
    """The previewed file, sent back as it was shown: the import reads exactly what the preview did."""

    kind = forms.ChoiceField(choices=[("deals", "deals"), ("churn", "churn")], widget=forms.HiddenInput)
    text = forms.CharField(widget=forms.HiddenInput, max_length=UPLOAD_MAX_BYTES, strip=False)


class TargetIndustriesForm(forms.Form):
    industries = forms.CharField(
        label=_("Target industries"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line. A deal lost there for missing functionality opens a task for the product manager."),
    )

    def industry_list(self) -> list[str]:
        return [line for line in self.cleaned_data["industries"].splitlines() if line.strip()]


class LostReasonForm(forms.Form):
    name = forms.CharField(label=_("Lost reason"), max_length=100)
    missing_functionality = forms.BooleanField(label=_("Means missing functionality"), required=False)
