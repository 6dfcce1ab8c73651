"""The form of the email template settings page. It only parses; template checks live in email_templates.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class EmailTemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=500)
    body_text = forms.CharField(label=_("Text body"), widget=forms.Textarea(attrs={"rows": 12}), max_length=50_000)
    body_html = forms.CharField(
        label=_("HTML body"), widget=forms.Textarea(attrs={"rows": 12}), max_length=50_000, required=False
    )
    is_active = forms.BooleanField(label=_("Send this email"), required=False)
    include_agent_created = forms.BooleanField(
        label=_("Also acknowledge tickets an agent opens for a customer"), required=False
    )
