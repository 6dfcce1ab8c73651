"""One mapping of a service's refusal (a ``DomainError``) to what an HTML view shows.

A service that refuses raises a ``DomainError`` and has changed nothing. An HTML view runs its one service call
inside ``with refusal(form) as refused:``; the block returns the success response, and what follows the block is
the refused path. There are three shapes, each written once here:

- a form: the error is attached to the field the error names (``field=``), or above the form when the form has
  no such field; the view renders the form again (``refusal(form)``);
- a page or an htmx partial that shows the reason with the error's status (``refused.message``,
  ``refused.status``);
- a button on a page that is not re-rendered: the reason as a message and a redirect (``refused.redirect``).

The API maps the same errors to problem responses in ``core.api_support``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect

from deskloop.core.errors import DomainError


@dataclass
class Refusal:
    """What a ``refusal`` block caught: nothing when the service call went through."""

    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str:
        return self.error.message if self.error is not None else ""

    @property
    def status(self) -> int:
        return self.error.http_status if self.error is not None else 200

    @property
    def code(self) -> str:
        return self.error.code if self.error is not None else ""

    def redirect(self, request: HttpRequest, to: str, *args: Any, **kwargs: Any) -> HttpResponseRedirect:
        """The reason as an error message, and back to ``to`` (a URL name or path)."""
        messages.error(request, self.message)
        response: HttpResponseRedirect = redirect(to, *args, **kwargs)
        return response


def attach(form: forms.BaseForm, error: DomainError) -> None:
    """Show a service's refusal beside the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


@contextmanager
def refusal(form: forms.BaseForm | None = None) -> Iterator[Refusal]:
    """Catch a ``DomainError`` raised in the block; with a form, attach it to the form (see the module doc)."""
    refused = Refusal()
    try:
        yield refused
    except DomainError as error:
        refused.error = error
        if form is not None:
            attach(form, error)
