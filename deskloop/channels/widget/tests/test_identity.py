"""The host's signed statement: the canonical string, constant-time check, clock skew, replay, wrong workspace;
and the widget pass that carries the result."""

from __future__ import annotations

import time

import pytest

from deskloop.channels.widget.identity import (
    MAX_SKEW,
    Unauthenticated,
    WidgetPass,
    canonical_identity,
    load_pass,
    sign_identity,
    verify_identity,
)
from deskloop.core.errors import PermissionDenied, ValidationFailed

SECRET = "s3cret-of-acme"
CLAIMS = {"user_id": "u-17", "email": "carmen@globex.example", "name": "Carmen", "timestamp": "1700000000"}


def signed(**changes: str) -> dict[str, object]:
    claims = {**CLAIMS, **changes}
    return {**claims, "signature": sign_identity(secret=SECRET, workspace_slug="acme", claims=claims)}


def test_the_canonical_string_is_what_docs_widget_md_shows() -> None:
    assert canonical_identity(workspace_slug="acme", claims=CLAIMS) == (
        "deskloop-widget-v1\nworkspace=acme\nuser_id=u-17\nemail=carmen@globex.example\nname=Carmen\n"
        "organization_id=\nplan=\nmrr=\ntimestamp=1700000000"
    )
    # The figure docs/widget.md's Python and Node examples print for these values.
    assert sign_identity(secret=SECRET, workspace_slug="acme", claims=CLAIMS) == (
        "d872e452354046202843656a091b6f6a46fcdb8299203492fbcd0ce06db09082"
    )


def test_a_good_signature_names_the_user() -> None:
    identity = verify_identity(
        workspace_slug="acme", secret=SECRET, raw=signed(plan="Pro", mrr="990.50"), now=1700000100
    )
    assert (identity.user_id, identity.email, identity.name, identity.plan, str(identity.mrr)) == (
        "u-17",
        "carmen@globex.example",
        "Carmen",
        "Pro",
        "990.50",
    )


@pytest.mark.parametrize(
    "raw",
    [
        {**signed(), "email": "boss@globex.example"},  # a changed field
        {**signed(), "signature": "0" * 64},
        {**signed(), "signature": ""},
        {k: v for k, v in signed().items() if k != "signature"},
    ],
)
def test_a_wrong_signature_is_refused(raw: dict[str, object]) -> None:
    with pytest.raises(Unauthenticated):
        verify_identity(workspace_slug="acme", secret=SECRET, raw=raw, now=1700000000)


def test_another_workspaces_signature_is_refused_even_with_the_same_secret() -> None:
    with pytest.raises(Unauthenticated):
        verify_identity(workspace_slug="umbrella", secret=SECRET, raw=signed(), now=1700000000)


@pytest.mark.parametrize("offset", [MAX_SKEW + 1, -(MAX_SKEW + 1), 86_400])
def test_a_stale_or_future_timestamp_is_refused(offset: int) -> None:
    # A signature copied out of a page is replayed after the window: refused, whoever sends it.
    with pytest.raises(Unauthenticated, match="expired"):
        verify_identity(workspace_slug="acme", secret=SECRET, raw=signed(), now=1700000000 + offset)


def test_inside_the_window_the_same_signature_works_again() -> None:
    # A reload of the host page re-sends the statement it was given: allowed for as long as the window lasts.
    for offset in (0, 60, MAX_SKEW):
        verify_identity(workspace_slug="acme", secret=SECRET, raw=signed(), now=1700000000 + offset)


def test_a_line_break_cannot_shift_one_field_into_another() -> None:
    forged = signed(name="Carmen\nemail=boss@globex.example")
    with pytest.raises(ValidationFailed):
        verify_identity(workspace_slug="acme", secret=SECRET, raw=forged, now=1700000000)


def test_no_secret_no_identified_visitors() -> None:
    with pytest.raises(PermissionDenied):
        verify_identity(workspace_slug="acme", secret="", raw=signed(), now=1700000000)


@pytest.mark.parametrize("raw", [signed(user_id=""), signed(email=""), {**signed(), "user_id": {"$ne": 1}}])
def test_missing_or_mistyped_fields_are_refused(raw: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        verify_identity(workspace_slug="acme", secret=SECRET, raw=raw, now=1700000000)


def test_a_pass_is_bound_to_its_workspace_and_cannot_be_edited() -> None:
    value = WidgetPass(workspace_id=7, session_key="k", locale="es", visitor="v", contact_id=3).dumps()
    assert load_pass(value, workspace_id=7).contact_id == 3
    with pytest.raises(Unauthenticated):
        load_pass(value, workspace_id=8)
    with pytest.raises(Unauthenticated):
        load_pass(value[:-2] + "xx", workspace_id=7)
    with pytest.raises(Unauthenticated):
        load_pass("", workspace_id=7)


def test_a_pass_expires(time_machine) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(time.time(), tick=False)
    value = WidgetPass(workspace_id=7, session_key="k", locale="en", visitor="v").dumps()
    time_machine.shift(3 * 3600)
    with pytest.raises(Unauthenticated):
        load_pass(value, workspace_id=7)
