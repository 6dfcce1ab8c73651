"""What the API accepts before any schema sees it: JSON and query strings whose values the database can store.

PostgreSQL's text columns refuse the NUL character (U+0000) and no column holds an infinite or NaN number, so
such input is refused here, for every operation at once, with a 422 naming the field. Refused, not stripped: a
program sending it has a bug it should hear about, and a silently changed value would be stored under the
caller's name. (HTML forms refuse NUL through Django's form fields; inbound email, which cannot be refused back
to a customer, has its NUL characters removed when the text is decoded.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja.parser import Parser

from deskloop.core.api_support import ApiProblem, FieldError

NUL_REFUSED = gettext_noop("Text may not contain the NUL character (\\u0000).")
NUMBER_NOT_FINITE = gettext_noop("Enter a finite number.")


def _refuse_constant(name: str) -> float:
    # json.loads reads NaN, Infinity and -Infinity unless told otherwise; they are not JSON.
    return math.nan


def _problems(value: Any, path: tuple[str, ...]) -> Iterator[FieldError]:
    name = ".".join(path) or "body"
    if isinstance(value, str):
        if "\x00" in value:
            yield FieldError(name, _(NUL_REFUSED))
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield FieldError(name, _(NUMBER_NOT_FINITE))
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield FieldError(".".join((*path, key.replace("\x00", "\\u0000"))), _(NUL_REFUSED))
            yield from _problems(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _problems(item, (*path, str(index)))


def check_storable(value: Any, path: tuple[str, ...] = ()) -> None:
    """Raise a 422 ``ApiProblem`` naming every field holding a NUL character or a non-finite number."""
    errors = list(_problems(value, path))
    if errors:
        raise _refusal(errors)


def _refusal(errors: list[FieldError]) -> ApiProblem:
    detail = _("%(field)s: %(message)s") % {"field": errors[0].field, "message": errors[0].message}
    return ApiProblem(422, "validation_failed", detail, errors=errors)


class StorableInputParser(Parser):
    """ninja's parser, refusing input the database cannot store (see the module's docstring)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        # A number too large for a float (1e5000) reads as infinity; NaN/Infinity literals as NaN.
        data = json.loads(request.body, parse_constant=_refuse_constant)
        check_storable(data)
        return data  # type: ignore[no-any-return]

    def parse_querydict(self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest) -> Any:
        parsed = super().parse_querydict(data, list_fields, request)
        # A repeated parameter (?tag=a&tag=b) is named by its name alone: it has no index in the URL.
        errors = [
            error
            for key, value in parsed.items()
            for item in (value if isinstance(value, list) else [value])
            for error in _problems(item, (key,))
        ]
        if errors:
            raise _refusal(errors)
        return parsed
