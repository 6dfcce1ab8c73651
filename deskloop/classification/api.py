"""``POST /api/v1/classify``: the workspace's model on any text (an integration's form, a chat before it is a
ticket). Null where the model abstains."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES
from deskloop.classification.suggestions import TEXT_MAX_CHARS, classify_text
from deskloop.core.api_support import api_policy, problems

router = Router(tags=["classification"])


class ClassifyIn(Schema):
    text: str = Field(..., min_length=1, max_length=TEXT_MAX_CHARS, description="A subject and/or message.")


class AreaOut(Schema):
    id: int
    path: str = Field(..., description='The product area\'s path, "Billing > Invoices".')
    confidence: float = Field(..., description="The model's probability for this area, 0 to 1.")


class RequestTypeOut(Schema):
    value: str = Field(..., description="question, problem, bug or feature_request.")
    confidence: float


class ClassifyOut(Schema):
    product_area: AreaOut | None = Field(..., description="Null where the model is not confident enough.")
    request_type: RequestTypeOut | None = Field(..., description="Null where the model is not confident enough.")


@router.post(
    "/classify",
    response={200: ClassifyOut, **problems(401, 409, 422, 429)},
    summary="Suggest a product area and request type for a text",
    description=(
        "Classifies `text` with the workspace's model, trained on its own labelled tickets. Each part is null "
        "where the model abstains. 409 (`no_classifier`) when the workspace has no trained model yet."
    ),
)
@api_policy(ALL_ROLES)
def classify(request: HttpRequest, payload: ClassifyIn) -> ClassifyOut:
    agent = caller_agent(request)
    found = classify_text(workspace_id=agent.workspace_id, text=payload.text)
    area = found.product_area
    kind = found.request_type
    return ClassifyOut(
        product_area=AreaOut(id=area.area.pk, path=area.area.path or area.area.name, confidence=area.confidence)
        if area
        else None,
        request_type=RequestTypeOut(value=kind.value, confidence=kind.confidence) if kind else None,
    )
