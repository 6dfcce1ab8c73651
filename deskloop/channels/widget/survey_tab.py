"""The widget's Survey tab: the identified contact is asked the survey that is due for them (NPS, else a
micro-survey of their segment), answers in the panel, and is not asked again within the survey's gap.

The tab shows nothing to answer to a visitor the host application did not identify (and who did not confirm their
email): an answer must belong to a known contact, or the gap could not hold and anyone could answer for anyone.
Writes are rate limited (bucket "survey") and go through ``surveys.services.responses.record_response``.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from deskloop.accounts.access import public_view
from deskloop.accounts.models import Workspace
from deskloop.channels.widget import services

# The panel's one way to resolve the pass, speak its language and show refusals, shared by every tab.
from deskloop.channels.widget.views import with_visitor
from deskloop.core.errors import DomainError
from deskloop.core.public_limits import seconds_over_limit, too_many_requests
from deskloop.surveys.models import AnswerType, ResponseChannel, Survey, SurveyKind
from deskloop.surveys.queries import due_widget_survey, get_survey_for_workspace
from deskloop.surveys.services.responses import COMMENT_MAX, record_response, score_bounds


class AnswerForm(forms.Form):
    survey = forms.IntegerField(widget=forms.HiddenInput)
    score = forms.IntegerField(required=False, min_value=0, max_value=10)
    comment = forms.CharField(label=_("Anything you would like to add?"), required=False, max_length=COMMENT_MAX)


def _choices(survey: Survey) -> list[tuple[int, str]]:
    if survey.kind == SurveyKind.MICRO and survey.answer_type == AnswerType.YES_NO:
        return [(1, str(_("Yes"))), (0, str(_("No")))]
    bounds = score_bounds(survey)
    return [] if bounds is None else [(score, str(score)) for score in range(bounds[0], bounds[1] + 1)]


def _form(
    request: HttpRequest,
    survey: Survey | None,
    slug: str,
    *,
    form: AnswerForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "survey": survey,
        "question": survey.localized_question() if survey else "",
        "choices": _choices(survey) if survey else [],
        "is_nps": survey is not None and survey.kind == SurveyKind.NPS,
        "form": form or AnswerForm(initial={"survey": survey.pk if survey else None}),
        "slug": slug,
        "error": error,
    }
    return render(request, "widget/_survey.html", context, status=status)


@public_view
@csrf_exempt
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the due survey's question (or a note that there is none); POST: the answer."""

    def run(workspace: Workspace, visitor: services.Visitor | None) -> HttpResponse:
        if visitor is None or visitor.contact is None:
            return render(request, "widget/_survey.html", {"anonymous": True, "slug": slug})
        contact = visitor.contact
        if request.method == "GET":
            return _form(request, due_widget_survey(contact), slug)
        wait = seconds_over_limit(request, workspace_id=workspace.pk, bucket="survey")
        if wait:
            return too_many_requests(wait, as_json=False)
        form = AnswerForm(request.POST)
        if not form.is_valid():
            return _form(request, due_widget_survey(contact), slug, form=form, status=422)
        asked = get_survey_for_workspace(workspace.pk, form.cleaned_data["survey"])
        try:
            record_response(
                survey=asked,
                contact=contact,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                channel=ResponseChannel.WIDGET,
            )
        except DomainError as error:
            return _form(request, asked, slug, form=form, error=error.message, status=error.http_status)
        return render(request, "widget/_survey.html", {"thanked": True, "slug": slug})

    return with_visitor(request, slug, required=True, run=run)
