"""Schemathesis over the committed OpenAPI document (docs/openapi.json): every operation, fed generated valid and
invalid input through the WSGI application with an agent's token, answers without a server error and as
documented (status code, content type, body schema). Bounded by examples per operation so `make test` stays
quick; explore more with HYPOTHESIS_PROFILE=explore."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.conf import LazySettings, settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deskloop.accounts.services import create_api_token
from deskloop.config.wsgi import application
from deskloop.conftest import Cast

SCHEMA = schemathesis.openapi.from_path(Path(settings.BASE_DIR) / "docs" / "openapi.json")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def token(acme: Cast, settings: LazySettings) -> Iterator[str]:
    settings.DESKLOOP_API_RATE_PER_MINUTE = 0  # many requests a second: the limit has its own tests
    _token, secret = create_api_token(agent=acme.admin, name="fuzz")
    # The WSGI handler closes the database connection after each request (Django's test client keeps it): here it
    # is the test's connection, inside the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield secret
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@SCHEMA.parametrize()
@hypothesis_settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented_and_never_with_a_server_error(case: Any, token: str) -> None:
    response = case.call(app=application, base_url="http://testserver", headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=CHECKS)
