"""The one-click answer pages: ``/s/<token>/<score>/`` records the score without signing in, ``/s/<token>/`` shows
the question with the answer given so far, and ``/s/<token>/comment/`` adds the comment.

Public and rate limited (bucket "survey"). The token names one invitation (one contact, one survey): a second click
changes that same response, and no link can answer for another person or another survey. The page speaks the
contact's language and shows nothing but their own answer: no other customer's name, email or MRR.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from deskloop.accounts.access import public_view
from deskloop.core.errors import DomainError
from deskloop.core.public_limits import seconds_over_limit, too_many_requests
from deskloop.surveys import tokens
from deskloop.surveys.models import CsatScale, SurveyInvitation, SurveyKind, SurveyResponse
from deskloop.surveys.services import responses

TOKEN_MAX = 64


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Anything you would like to add?"), max_length=responses.COMMENT_MAX, widget=forms.Textarea
    )


def _invitation(request: HttpRequest, token: str) -> SurveyInvitation | HttpResponse:
    """The invitation the token names, counted against the "survey" limit; a refusal page otherwise."""
    if len(token) > TOKEN_MAX:
        return _refused(request, None, _("This survey link is not valid."), 404)
    try:
        invitation = responses.invitation_by_token_hash(tokens.token_hash(token))
    except DomainError as error:
        return _refused(request, None, error.message, error.http_status)
    wait = seconds_over_limit(request, workspace_id=invitation.workspace_id, bucket="survey")
    if wait:
        return too_many_requests(wait, as_json=False)
    return invitation


def _refused(request: HttpRequest, invitation: SurveyInvitation | None, message: object, status: int) -> HttpResponse:
    return render(request, "surveys/answer.html", {"invitation": invitation, "error": message}, status=status)


def _choices(invitation: SurveyInvitation) -> list[tuple[int, str]]:
    survey = invitation.survey
    bounds = responses.score_bounds(survey) or (0, 0)
    if survey.kind == SurveyKind.CSAT and survey.csat_scale == CsatScale.GOOD_BAD:
        return [(1, str(_("Good"))), (0, str(_("Bad")))]
    return [(score, str(score)) for score in range(bounds[0], bounds[1] + 1)]


def _page(
    request: HttpRequest,
    invitation: SurveyInvitation,
    token: str,
    form: CommentForm | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    answer = SurveyResponse.objects.filter(invitation=invitation).first()
    context = {
        "invitation": invitation,
        "workspace": invitation.workspace,
        "question": invitation.survey.localized_question(),
        "token": token,
        "choices": _choices(invitation),
        "answer": answer,
        "form": form or CommentForm(initial={"comment": answer.comment if answer else ""}),
        "error": error,
        "is_nps": invitation.survey.kind == SurveyKind.NPS,
    }
    return render(request, "surveys/answer.html", context, status=status)


def _language(invitation: SurveyInvitation) -> str:
    return invitation.contact.locale or invitation.workspace.default_language or "en"


@public_view
@require_GET
def answer(request: HttpRequest, token: str, score: int) -> HttpResponse:
    """The score link in the email: records ``score`` and shows the page with the comment box."""
    found = _invitation(request, token)
    if isinstance(found, HttpResponse):
        return found
    with translation.override(_language(found)):
        try:
            responses.answer_invitation(invitation=found, score=score)
        except DomainError as error:
            return _page(request, found, token, status=error.http_status, error=error.message)
        return _page(request, found, token)


@public_view
@require_GET
def page(request: HttpRequest, token: str) -> HttpResponse:
    found = _invitation(request, token)
    if isinstance(found, HttpResponse):
        return found
    with translation.override(_language(found)):
        return _page(request, found, token)


@public_view
@require_http_methods(["POST"])
def comment(request: HttpRequest, token: str) -> HttpResponse:
    """The comment box under the recorded score (CSRF-protected: it is a form on our own page)."""
    found = _invitation(request, token)
    if isinstance(found, HttpResponse):
        return found
    with translation.override(_language(found)):
        form = CommentForm(request.POST)
        if not form.is_valid():
            return _page(request, found, token, form=form, status=422)
        try:
            responses.comment_on_invitation(invitation=found, comment=form.cleaned_data["comment"])
        except DomainError as error:
            return _page(request, found, token, form=form, status=error.http_status, error=error.message)
    return redirect("survey_links:thanks", token=token)


@public_view
@require_GET
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    found = _invitation(request, token)
    if isinstance(found, HttpResponse):
        return found
    with translation.override(_language(found)):
        return render(request, "surveys/thanks.html", {"workspace": found.workspace})
