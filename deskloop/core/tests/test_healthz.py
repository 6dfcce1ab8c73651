"""``/healthz`` as a load balancer sees it: healthy while workers claim tasks, 503 with the reason when a task has
waited past the limit (the task worker died), and nothing about the tasks themselves."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from deskloop.conftest import Cast
from deskloop.core import outbox
from deskloop.core.tasks import dispatch_outbox_event

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def database_tasks() -> Iterator[None]:
    """Tasks go to the database queue, as in production, instead of running inline."""
    with override_settings(TASKS=DATABASE_TASKS):
        yield


def _health() -> tuple[int, dict[str, Any]]:
    response = Client().get("/healthz")
    return response.status_code, json.loads(response.content)


def test_health_reports_the_waiting_tasks_and_fails_when_no_worker_claims_them(
    acme: Cast,
    database_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[Any]],
    django_assert_num_queries: Callable[[int], AbstractContextManager[Any]],
) -> None:
    assert _health() == (200, {"status": "ok", "database": "ok", "tasks": {"due": 0, "oldest_due_seconds": None}})
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            outbox.publish(workspace_id=acme.workspace.pk, name="ticket.created", payload={"secret": "Carmen's VAT"})
        with django_assert_num_queries(1):
            assert _health() == (200, {"status": "ok", "database": "ok", "tasks": {"due": 1, "oldest_due_seconds": 0}})

    with time_machine.travel(start + timedelta(seconds=301), tick=False):
        response = Client().get("/healthz")
        assert response.status_code == 503
        assert json.loads(response.content) == {
            "status": "unhealthy",
            "database": "ok",
            "tasks": {"due": 1, "oldest_due_seconds": 301},
            "problem": "tasks_not_claimed",
            "detail": "A task has been due for more than 300 s: no task worker is claiming tasks.",
        }
        assert b"VAT" not in response.content


def test_a_task_scheduled_for_later_is_not_due(acme: Cast, database_tasks: None) -> None:
    dispatch_outbox_event.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(0)
    assert _health() == (200, {"status": "ok", "database": "ok", "tasks": {"due": 0, "oldest_due_seconds": None}})


@override_settings(DESKLOOP_HEALTH_TASK_DELAY_SECONDS=30)
def test_the_limit_is_a_setting(acme: Cast, database_tasks: None) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        dispatch_outbox_event.enqueue(0)
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        status, body = _health()
    assert (status, body["problem"], body["tasks"]) == (503, "tasks_not_claimed", {"due": 1, "oldest_due_seconds": 31})
