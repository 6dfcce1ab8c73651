"""Importing deals or churn records from a CSV file: upload, preview (nothing written), import (row by row)."""

from __future__ import annotations

from itertools import islice

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import WRITER_ROLES
from deskloop.core.errors import DomainError
from deskloop.revenue.forms import ImportConfirmForm, ImportUploadForm
from deskloop.revenue.imports import OUTCOMES, PREVIEW_ROWS, ImportFileError, Kind, import_rows, plan_rows

TEMPLATE = "revenue/import.html"


@agent_view(roles=WRITER_ROLES, description="Import deals or churn records from CSV: preview, then import")
@require_http_methods(["GET", "POST"])
def import_csv(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    if request.method == "POST" and request.POST.get("step") == "import":
        return _import(request)
    upload = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not upload.is_valid():
        return render(request, TEMPLATE, {"upload": upload}, status=422 if upload.errors else 200)
    kind: Kind = upload.cleaned_data["kind"]
    text = upload.cleaned_data["file"]
    try:
        planned = list(plan_rows(workspace=agent.workspace, kind=kind, text=text))
    except ImportFileError as exc:
        upload.add_error("file", exc.message)
        return render(request, TEMPLATE, {"upload": upload}, status=422)
    problems = [row for row in planned if row.problem]
    return render(
        request,
        TEMPLATE,
        {
            "upload": ImportUploadForm(initial={"kind": kind}),
            "kind": kind,
            "preview": list(islice(planned, PREVIEW_ROWS)),
            "problems": problems,
            "total": len(planned),
            "importable": len(planned) - len(problems),
            "confirm": ImportConfirmForm(initial={"kind": kind, "text": text}),
        },
    )


def _import(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    confirm = ImportConfirmForm(request.POST)
    upload = ImportUploadForm()
    if not confirm.is_valid():
        return render(request, TEMPLATE, {"upload": upload, "confirm_errors": confirm.errors}, status=422)
    try:
        summary = import_rows(
            workspace=agent.workspace, kind=confirm.cleaned_data["kind"], text=confirm.cleaned_data["text"], actor=agent
        )
    except DomainError as exc:
        upload.add_error(None, exc.message)
        return render(request, TEMPLATE, {"upload": upload}, status=exc.http_status)
    return render(
        request,
        TEMPLATE,
        {
            "upload": upload,
            "kind": confirm.cleaned_data["kind"],
            "summary": summary,
            "counts": {outcome: summary.count(outcome) for outcome in OUTCOMES},
        },
    )
