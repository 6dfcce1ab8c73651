"""Domain errors: raised by services, turned into a form error, an HTTP problem or a CLI message by callers.

Each carries a human message (already translated at raise time) and a stable machine ``code`` so that
API clients can branch on it without parsing English.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the support domain was broken; nothing was changed."""

    http_status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.field = field
        self.extra = extra


class ValidationFailed(DomainError):
    http_status = 422
    code = "validation_failed"


class NotFound(DomainError):
    http_status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    http_status = 403
    code = "forbidden"


class Conflict(DomainError):
    http_status = 409
    code = "conflict"


class PreconditionFailed(DomainError):
    http_status = 412
    code = "precondition_failed"
