"""The committed OpenAPI document (docs/openapi.json) must be what /api/v1/openapi.json serves."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.test import Client

from deskloop.core.api_support import iter_api_operations, openapi_document
from deskloop.core.policy import Tenancy

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.json"
HOW_TO_FIX = "docs/openapi.json is out of date with the API; regenerate it with `make openapi` and commit it."


def test_committed_openapi_matches_the_served_schema(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = json.loads(response.content)
    assert served["openapi"] == "3.1.0"
    assert served == json.loads(COMMITTED.read_text(encoding="utf-8")), HOW_TO_FIX
    assert COMMITTED.read_text(encoding="utf-8") == openapi_document(), HOW_TO_FIX


def test_every_operation_declares_a_workspace_policy() -> None:
    operations = list(iter_api_operations())
    assert ("GET", "/tickets/{number}") in {(method, path) for method, path, _view, _policy in operations}
    assert [
        f"{m} {p}" for m, p, _v, policy in operations if policy is None or policy.tenancy != Tenancy.WORKSPACE
    ] == []


def test_error_responses_are_documented_as_problem_details(db: None) -> None:
    served = json.loads(Client().get("/api/v1/openapi.json").content)
    patch = served["paths"]["/api/v1/tickets/{number}"]["patch"]["responses"]
    assert sorted(patch) == ["200", "400", "401", "403", "404", "412", "413", "422", "428", "429"]
    assert list(patch["412"]["content"]) == list(patch["413"]["content"]) == ["application/problem+json"]
    assert served["components"]["securitySchemes"] == {"ApiTokenAuth": {"scheme": "bearer", "type": "http"}}
