"""Forms of the mailbox settings pages. Validation with rules lives in services.py; these only parse."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.accounts.models import Team
from deskloop.tickets.models import ProductArea

from .models import UnknownSenderRule


class MailboxForm(forms.Form):
    address = forms.CharField(label=_("Address"), max_length=254)
    display_name = forms.CharField(label=_("Display name"), max_length=200, required=False)
    default_team = forms.ModelChoiceField(label=_("Team for new tickets"), queryset=Team.objects.none(), required=False)
    default_product_area = forms.ModelChoiceField(
        label=_("Product area for new tickets"), queryset=ProductArea.objects.none(), required=False
    )
    unknown_sender_rule = forms.ChoiceField(
        label=_("When someone not on a ticket replies to it"), choices=UnknownSenderRule.choices
    )
    subject_threading_days = forms.IntegerField(
        label=_("Thread by same subject and sender within (days, 0 = off)"), min_value=0, initial=0
    )
    trusted_authserv_id = forms.CharField(
        label=_("Trusted authentication server (authserv-id)"),
        max_length=253,
        required=False,
        help_text=_(
            "The host name your mail server writes into Authentication-Results. Only its DMARC verdicts are believed."
        ),
    )
    tag_bounce_address = forms.BooleanField(
        label=_("Tag the bounce address of outgoing mail (support+dlb…@)"),
        required=False,
        initial=True,
        help_text=_(
            "Bounces then prove which email they are about. Turn off if your mail server rejects plus-addresses."
        ),
    )
    max_message_bytes = forms.IntegerField(
        label=_("Largest accepted message (bytes)"), min_value=1, initial=40 * 1024 * 1024
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    trust_spam_headers = forms.BooleanField(
        label=_("Trust the spam verdict of our mail server (SpamAssassin or rspamd headers)"),
        required=False,
        help_text=_(
            "Only when your own mail server filters this mailbox's mail and replaces these headers: anyone can write "
            "them into a message. Mail it calls spam opens a ticket in the Spam view."
        ),
    )
    imap_host = forms.CharField(label=_("IMAP host"), max_length=253, required=False)
    imap_port = forms.IntegerField(label=_("IMAP port"), min_value=1, max_value=65535, initial=993)
    imap_security = forms.ChoiceField(
        label=_("IMAP security"), choices=[("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", _("None"))]
    )
    imap_username = forms.CharField(label=_("IMAP user name"), max_length=254, required=False)
    # Never rendered back: an empty field keeps the stored password or token.
    imap_secret = forms.CharField(
        label=_("IMAP password or OAuth2 token"),
        max_length=4000,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current one."),
    )
    clear_imap_secret = forms.BooleanField(label=_("Remove the stored IMAP password or token"), required=False)
    imap_auth = forms.ChoiceField(label=_("IMAP sign-in"), choices=[("password", _("Password")), ("xoauth2", "OAuth2")])
    imap_folder = forms.CharField(label=_("IMAP folder"), max_length=200, initial="INBOX", required=False)

    def __init__(self, *args: Any, workspace_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = self.fields["default_team"]
        area_field = self.fields["default_product_area"]
        assert isinstance(team_field, forms.ModelChoiceField)
        assert isinstance(area_field, forms.ModelChoiceField)
        team_field.queryset = Team.objects.filter(workspace_id=workspace_id).order_by("name")
        area_field.queryset = ProductArea.objects.filter(workspace_id=workspace_id).order_by("name")


IMAP_FIELDS = (
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_auth",
    "imap_username",
    "imap_secret",
    "clear_imap_secret",
    "imap_folder",
)


class ImapConnectionForm(forms.Form):
    """The IMAP part of the mailbox form, for "Test connection" (the rest of the posted form is ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in IMAP_FIELDS:
            self.fields[name] = copy.deepcopy(MailboxForm.base_fields[name])


class SenderAllowanceForm(forms.Form):
    pattern = forms.CharField(
        label=_("Address or domain"),
        max_length=254,
        help_text=_("ana@customer.example for one sender, customer.example for everyone at that domain."),
    )
