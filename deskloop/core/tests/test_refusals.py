"""The one mapping of a service's refusal to what an HTML view shows (core.refusals)."""

from __future__ import annotations

from django import forms

from deskloop.core.errors import Conflict, ValidationFailed
from deskloop.core.refusals import refusal


class _NameForm(forms.Form):
    name = forms.CharField()


def test_a_refusal_naming_a_field_of_the_form_is_shown_on_that_field() -> None:
    form = _NameForm({"name": "x"})
    assert form.is_valid()
    with refusal(form) as refused:
        raise ValidationFailed("Taken.", field="name")
    assert form.errors == {"name": ["Taken."]}
    assert refused.status == 422


def test_a_refusal_naming_no_field_of_the_form_is_shown_above_it() -> None:
    form = _NameForm({"name": "x"})
    assert form.is_valid()
    with refusal(form) as refused:
        raise Conflict("Changed meanwhile.", field="version")
    assert form.non_field_errors() == ["Changed meanwhile."]
    assert (refused.message, refused.status, bool(refused)) == ("Changed meanwhile.", 409, True)


def test_a_call_that_goes_through_leaves_no_refusal() -> None:
    with refusal() as refused:
        pass
    assert not refused
    assert refused.message == ""
