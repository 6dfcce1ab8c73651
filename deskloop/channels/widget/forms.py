from django import forms
from django.utils.translation import gettext_lazy as _

from deskloop.channels.widget.services import BODY_MAX, NAME_MAX, SUBJECT_MAX


class RequestForm(forms.Form):
    """The Contact tab. ``email`` is ignored for an identified visitor (the host vouched for theirs)."""

    email = forms.EmailField(label=_("Your email"), required=False, max_length=254)
    name = forms.CharField(label=_("Your name"), required=False, max_length=NAME_MAX)
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX)
    body = forms.CharField(label=_("How can we help?"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 5}))
    # Hidden from people (the panel's CSS); a bot that fills every field fills it, and nothing is stored.
    website = forms.CharField(required=False, max_length=200)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class ConfirmEmailForm(forms.Form):
    email = forms.EmailField(label=_("Your email"), max_length=254)
