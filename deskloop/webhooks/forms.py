from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.webhooks.models import WebhookEvent


class EndpointForm(forms.Form):
    # A plain CharField: the service checks scheme and address with a human message (URLField would
    # refuse http://localhost-style hosts before the SSRF rule can explain itself).
    url = forms.CharField(label=_("URL"), max_length=2000)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
