"""Fixtures the email channel's IMAP tests share: one real Dovecot per test session (per xdist worker)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from .dovecot import Dovecot

_folders = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    yield server
    server.stop()


@pytest.fixture
def folder() -> str:
    """A folder of its own for each test, so tests share one server without seeing each other's mail."""
    return f"Test {next(_folders)}"
