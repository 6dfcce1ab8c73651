"""Shared plumbing of the REST API: route policies, problem details, idempotency, rate limits and cursors.

It lives in core so every app's router follows the same rules, and it knows nothing about agents or tickets:
the accounts app turns a bearer token into an ``ApiCaller`` and each router names the roles it allows.

Order of checks for every operation: authentication (401) -> rate limit (429) -> role (403) ->
idempotency replay (for creates) -> input validation (422) -> the endpoint (404 for another workspace's object).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DataError
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, NinjaAPI, Schema
from ninja.decorators import decorate_view
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from deskloop.core.errors import DomainError
from deskloop.core.models import ApiRateCounter, IdempotencyRecord
from deskloop.core.plain_sql import count_api_request, insert_row
from deskloop.core.policy import RoutePolicy, Tenancy, attach_policy, policy_of

logger = logging.getLogger(__name__)

# The API object lives in deskloop.config (the top layer); core reaches it by name, at call time only, so the
# import direction core <- config stays true for the linter and for Python.
API_OBJECT_PATH = "deskloop.config.api.api"
PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:deskloop:problem:"
IDEMPOTENCY_TTL = dt.timedelta(hours=24)
# A request that started this long ago and never finished (its process died) no longer blocks its key.
IDEMPOTENCY_ABANDONED_AFTER = dt.timedelta(minutes=5)
IDEMPOTENCY_KEY_MAX = 255
RATE_WINDOW_SECONDS = 60
ANY_OPERATION_PROBLEMS = (400, 401, 413, 422, 429)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

TITLES: dict[int, Any] = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Authentication required"),
    403: gettext_lazy("Forbidden"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    409: gettext_lazy("Conflict"),
    412: gettext_lazy("Precondition failed"),
    413: gettext_lazy("Request too large"),
    422: gettext_lazy("Invalid request"),
    428: gettext_lazy("Precondition required"),
    429: gettext_lazy("Too many requests"),
    500: gettext_lazy("Server error"),
}


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ApiProblem(Exception):
    """An HTTP problem raised by the API plumbing (auth, rate limit, preconditions); rendered as RFC 9457."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}


@dataclass(frozen=True)
class ApiCaller:
    """Who is calling: resolved from the bearer token by deskloop.accounts.api.ApiTokenAuth."""

    token_id: int
    workspace_id: int
    role: str
    # Names the token's rate-limit counter; includes the token's random prefix so a reused id never shares one.
    rate_key: str
    # The deskloop.accounts Agent; typed as Any here because core must not import accounts.
    agent: Any = field(compare=False)


# ----------------------------------------------------------------------------------------------------------
# Problem details (RFC 9457)


class FieldErrorOut(Schema):
    field: str
    message: str


class ProblemOut(Schema):
    """RFC 9457 problem details. ``code`` is stable for programs; ``detail`` is for people."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldErrorOut] = []


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": str(TITLES.get(status, TITLES[400 if status < 500 else 500])),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem_from_exception(exc: ApiProblem) -> HttpResponse:
    return problem_response(exc.status, exc.code, exc.detail, errors=exc.errors, headers=exc.headers)


class DeskloopNinjaAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document types error responses as application/problem+json."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for path, path_item in schema.get("paths", {}).items():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                # What any operation may answer, whatever its own declaration: a body that is not JSON or too
                # large, input out of range, no token, the rate limit; and "not found" for an object's path.
                for status in (*ANY_OPERATION_PROBLEMS, *((404,) if "{" in path else ())):
                    responses.setdefault(
                        status,
                        {
                            "description": str(TITLES[status]),
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProblemOut"}}},
                        },
                    )
                for response in responses.values():
                    body = response.get("content", {}).get("application/json")
                    if body and str(body.get("schema", {}).get("$ref", "")).endswith("/ProblemOut"):
                        response["content"] = {PROBLEM_CONTENT_TYPE: body}
        return schema


def problems(*statuses: int) -> dict[int, type[ProblemOut]]:
    """Document error responses of an operation in the OpenAPI schema: ``response={200: X, **problems(404)}``."""
    return dict.fromkeys(statuses, ProblemOut)


_PARAM_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _PARAM_SOURCES:
        parts = parts[1:]
    # A schema-typed body parameter puts its own name first ("payload"); clients know the fields, not it.
    if len(parts) > 1 and parts[0] in {"payload", "filters", "query"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def human_validation_message(error: dict[str, Any]) -> str:
    """A sentence a person can act on for one pydantic error (pydantic's own text is for developers)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_long":
        return _("Ensure this value has at most %(max)s characters.") % {"max": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("Ensure this value has at least %(min)s characters.") % {"min": ctx.get("min_length")}
    if kind in {"int_parsing", "int_type", "int_from_float", "int_parsing_size"}:
        return _("Enter a whole number.")
    if kind in {"float_parsing", "float_type", "decimal_parsing", "decimal_type", "finite_number"}:
        return _("Enter a number.")
    if kind in {"bool_parsing", "bool_type"}:
        return _("Enter true or false.")
    if kind.startswith("datetime"):
        return _("Enter a date and time in ISO 8601 format, e.g. 2025-03-01T09:30:00Z.")
    if kind.startswith("date"):
        return _("Enter a date in YYYY-MM-DD format.")
    if kind in {"enum", "literal_error"}:
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind == "string_type":
        return _("Enter text.")
    if kind in {"list_type", "tuple_type", "set_type"}:
        return _("Send a list.")
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return _("Send an object.")
    if kind == "json_invalid":
        return _("The request body is not valid JSON.")
    if kind in {"greater_than_equal", "greater_than"}:
        return _("Ensure this value is at least %(min)s.") % {"min": ctx.get("ge", ctx.get("gt"))}
    if kind in {"less_than_equal", "less_than"}:
        return _("Ensure this value is at most %(max)s.") % {"max": ctx.get("le", ctx.get("lt"))}
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
    return str(error.get("msg", _("This value is not valid.")))


def validation_problem(errors: Sequence[FieldError]) -> HttpResponse:
    first = errors[0] if errors else FieldError("body", _("The request is not valid."))
    if len(errors) > 1:
        detail = _("%(field)s: %(message)s (and %(count)d more problems)") % {
            "field": first.field,
            "message": first.message,
            "count": len(errors) - 1,
        }
    else:
        detail = _("%(field)s: %(message)s") % {"field": first.field, "message": first.message}
    return problem_response(422, "validation_failed", detail, errors=errors)


# Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE (or with too many fields or files) when it is read.
BODY_TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def request_too_large_problem() -> HttpResponse:
    return problem_response(
        413,
        "request_too_large",
        _("The request body is larger than this server accepts (%(max)s bytes).")
        % {"max": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
    )


def install_problem_handlers(api: NinjaAPI) -> None:
    """Every error the API can answer with becomes application/problem+json with a human ``detail``."""

    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [FieldError(_field_name(e.get("loc", ())), human_validation_message(e)) for e in exc.errors]
        return validation_problem(errors)

    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        errors = [FieldError(exc.field, exc.message)] if exc.field else []
        return problem_response(exc.http_status, exc.code, exc.message, errors=errors)

    def on_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        return problem_from_exception(exc)

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(404, "not_found", _("No such object in this workspace."))

    def on_forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(403, "forbidden", _("Your role does not allow this."))

    def on_unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(
            401,
            "not_authenticated",
            _("Send your API token in the Authorization header: “Bearer dl_…”."),
            headers={"WWW-Authenticate": 'Bearer realm="deskloop"'},
        )

    def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        wait = math.ceil(exc.wait or RATE_WINDOW_SECONDS)
        return problem_response(
            429, "rate_limited", _("Too many requests; retry later."), headers={"Retry-After": str(wait)}
        )

    def on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
        return request_too_large_problem()

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, ApiProblem):  # refused by the body parser (core.api_input)
            return problem_from_exception(exc.__cause__)
        if exc.status_code == 400 and str(exc.message).startswith("Cannot parse request body"):
            return problem_response(
                400,
                "invalid_json",
                _("The request body is not valid JSON."),
                errors=[FieldError("body", _("The request body is not valid JSON."))],
            )
        return problem_response(exc.status_code, "http_error", str(exc.message))

    def on_out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A value that passed the schema but does not fit the database's column (an id past 64 bits, a number too
        # large for its column): the statement failed before it changed anything, and the service's transaction
        # rolled back.
        logger.warning("API input out of range: %s %s: %s", request.method, request.path, exc)
        return problem_response(
            422, "value_out_of_range", _("A value in the request is too large or otherwise out of range.")
        )

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API request failed: %s %s", request.method, request.path)
        return problem_response(500, "server_error", _("Something went wrong on our side; it has been logged."))

    handlers: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
        (NinjaValidationError, on_validation),
        (DomainError, on_domain_error),
        (ApiProblem, on_problem),
        (Http404, on_not_found),
        (DjangoPermissionDenied, on_forbidden),
        (AuthenticationError, on_unauthenticated),
        (Throttled, on_throttled),
        *((too_big, on_too_big) for too_big in BODY_TOO_LARGE),
        (HttpError, on_http_error),
        (OverflowError, on_out_of_range),
        (DataError, on_out_of_range),
        (Exception, on_unexpected),
    ]
    for exception_class, handler in handlers:
        api.add_exception_handler(exception_class, handler)


# ----------------------------------------------------------------------------------------------------------
# Rate limit


def enforce_rate_limit(caller: ApiCaller) -> None:
    """Fixed one-minute window per token; raises 429 with Retry-After when exceeded.

    The count lives in the database (``ApiRateCounter``, one row per token), bumped and read by one statement
    (``plain_sql.count_api_request``): atomic, so N concurrent requests under a limit of L let exactly L through,
    and nothing fails on the way. It replaced the Django cache's ``add`` + ``incr``, which on the database cache
    (the default) cost eleven statements per call, one of them an INSERT failing on a duplicate key (an ERROR in
    PostgreSQL's log for every API call), and lost counts to races (docs/architecture.md, "REST API").
    """
    limit = int(settings.DESKLOOP_API_RATE_PER_MINUTE)
    if limit <= 0:
        return
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    count = count_api_request(caller.rate_key, window)
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * RATE_WINDOW_SECONDS - now))
        raise ApiProblem(
            429,
            "rate_limited",
            _("This token may make %(limit)d requests a minute. Retry in %(seconds)d seconds.")
            % {"limit": limit, "seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


def purge_rate_counters(now: float | None = None) -> int:
    """Delete the counters of windows that have ended (tokens no longer calling); returns how many."""
    window = int((time.time() if now is None else now) // RATE_WINDOW_SECONDS)
    deleted, _by_model = ApiRateCounter.objects.filter(window_start__lt=window).delete()
    return deleted


# ----------------------------------------------------------------------------------------------------------
# Idempotency


def request_fingerprint(request: HttpRequest) -> str:
    """SHA-256 of method, path and the canonical JSON body (key order and spacing do not matter)."""
    raw = request.body
    try:
        canonical = json.dumps(
            json.loads(raw or b"null"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = raw  # not JSON (JSON Lines, uploads): the exact bytes must match
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


_REPLAYED_HEADERS = ("ETag", "Location")


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        record.response_body,
        status=record.status_code or 200,
        content_type=record.response_headers.get("Content-Type", "application/json"),
    )
    for name in _REPLAYED_HEADERS:
        if name in record.response_headers:
            response[name] = record.response_headers[name]
    response["Idempotent-Replayed"] = "true"
    return response


def run_idempotent(
    request: HttpRequest, caller: ApiCaller, key: str, call: Callable[[], HttpResponseBase]
) -> HttpResponseBase:
    """Run a create once per (token, key): a retry with the same body replays the first response.

    A unique constraint on (token, key) decides which of two concurrent requests runs; the other gets 409
    ("in progress", Retry-After: 1) instead of waiting, so no worker is held by a client's retry loop.
    Only successful responses are remembered: a refused request changed nothing (services roll back), so the
    client may fix the body and retry with the same key.
    """
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise ApiProblem(
            400,
            "invalid_idempotency_key",
            _("The Idempotency-Key header must be 1 to %(max)d characters.") % {"max": IDEMPOTENCY_KEY_MAX},
        )
    fingerprint = request_fingerprint(request)
    now = timezone.now()
    record = IdempotencyRecord(
        workspace_id=caller.workspace_id, token_id=caller.token_id, key=key, request_hash=fingerprint, created_at=now
    )
    # One statement on the way in: the row is inserted (this request runs) or it is there already (ON CONFLICT DO
    # NOTHING: no failing INSERT, no error in the database's log, no savepoint). Committed at once (autocommit),
    # so a concurrent request with the key sees it.
    if not insert_row(record, ignore_conflicts=True):
        mine = IdempotencyRecord.objects.filter(token_id=caller.token_id, key=key)
        existing = mine.first()
        if existing is not None and (
            existing.created_at < now - IDEMPOTENCY_TTL
            or (existing.status_code is None and existing.created_at < now - IDEMPOTENCY_ABANDONED_AFTER)
        ):
            # Expired, or its request died: forget it (only that row: a request that replaced it meanwhile stays).
            mine.filter(pk=existing.pk).delete()
            existing = None if insert_row(record, ignore_conflicts=True) else mine.first()
        if existing is None and record.pk is None:
            # The row vanished between the INSERT and the SELECT (its request failed): this one runs instead.
            insert_row(record, ignore_conflicts=True)
        if record.pk is None:
            if existing is not None and existing.request_hash != fingerprint:
                raise ApiProblem(
                    422,
                    "idempotency_key_reused",
                    _(
                        "This Idempotency-Key was already used with a different request. "
                        "Use a new key for a new request."
                    ),
                    errors=[FieldError("Idempotency-Key", _("Already used with a different request body."))],
                )
            if existing is None or existing.status_code is None:
                raise ApiProblem(
                    409,
                    "idempotency_in_progress",
                    _("A request with this Idempotency-Key is still being processed. Retry in a moment."),
                    headers={"Retry-After": "1"},
                )
            return _replay(existing)

    try:
        response = call()
    except BaseException:
        record.delete()
        raise
    if response.status_code >= 400 or not isinstance(response, HttpResponse):
        record.delete()
        return response
    record.status_code = response.status_code
    record.response_body = response.content.decode()
    record.response_headers = {
        name: response[name] for name in ("Content-Type", *_REPLAYED_HEADERS) if response.has_header(name)
    }
    record.completed_at = timezone.now()
    record.save(update_fields=["status_code", "response_body", "response_headers", "completed_at"])
    return response


def purge_idempotency_records(now: dt.datetime | None = None) -> int:
    """Delete records older than 24 hours (for the periodic maintenance command); returns how many."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# ----------------------------------------------------------------------------------------------------------
# Route policy


F = TypeVar("F", bound=Callable[..., Any])


def _authenticate(operation: Any, request: HttpRequest) -> ApiCaller | None:
    """Run the operation's auth callbacks (they cache the caller on the request, so ninja's own pass is free)."""
    for callback in getattr(operation, "auth_callbacks", ()):
        result = callback(request)
        if isinstance(result, ApiCaller):
            return result
    return None


def _guard(allowed: frozenset[str], idempotent: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap_run(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        operation = getattr(run, "__self__", None)

        def guarded_run(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
            try:
                caller = _authenticate(operation, request)
                if caller is None:
                    return run(request, **kwargs)  # ninja answers 401 through the problem handlers
                if caller.role not in allowed:
                    raise ApiProblem(403, "forbidden", _("Your role does not allow this."))
                key = request.headers.get("Idempotency-Key") if idempotent else None
                if key is not None:
                    return run_idempotent(request, caller, key, lambda: run(request, **kwargs))
            except ApiProblem as exc:
                return problem_from_exception(exc)
            except BODY_TOO_LARGE:  # read for the idempotency fingerprint, before ninja's handlers apply
                return request_too_large_problem()
            return run(request, **kwargs)

        return guarded_run

    return wrap_run


def api_policy(roles: Iterable[str], *, description: str = "", idempotent: bool = False) -> Callable[[F], F]:
    """Declare and enforce who may call an API operation (put it under ``@router.get(...)``).

    Attaches the ``RoutePolicy`` to the view function (the access-matrix test reads it), refuses other roles
    with 403 before the input is parsed, and for creates (``idempotent=True``) honours ``Idempotency-Key``.
    """
    allowed = frozenset(roles)
    policy = RoutePolicy(tenancy=Tenancy.WORKSPACE, roles=allowed, description=description)

    def decorate(view: F) -> F:
        attach_policy(view, policy)
        return decorate_view(_guard(allowed, idempotent))(view)

    return decorate


def the_api() -> NinjaAPI:
    api = import_string(API_OBJECT_PATH)
    assert isinstance(api, NinjaAPI)
    return api


def openapi_document(api: NinjaAPI | None = None) -> str:
    """The OpenAPI schema as committed in docs/openapi.json: sorted keys, two-space indent, trailing newline."""
    schema = (api or the_api()).get_openapi_schema()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder) + "\n"


def iter_api_operations(
    api: NinjaAPI | None = None,
) -> Iterator[tuple[str, str, Callable[..., Any], RoutePolicy | None]]:
    """(method, path under /api/v1, view function, policy) for every operation of the API."""
    api = api or the_api()
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                parts = [p.strip("/") for p in (bound.prefix, path) if p.strip("/")]
                full_path = "/" + "/".join(parts)
                for method in operation.methods:
                    yield method, full_path, operation.view_func, policy_of(operation.view_func)


# ----------------------------------------------------------------------------------------------------------
# Cursor pagination for lists other than tickets (tickets use deskloop.tickets.inbox's keyset pages)

M = TypeVar("M", bound=Model)


class PageQuery(Schema):
    """``?cursor=&limit=`` of every list: pass back ``next_cursor`` until it is null."""

    cursor: str | None = None
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


@dataclass(frozen=True)
class CursorPage:
    items: list[Any]
    next_cursor: str | None


def _encode(values: list[Any]) -> str:
    raw = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, order: Sequence[str]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        if not isinstance(raw, list) or len(raw) != len(order):
            raise ValueError("cursor of another list")
        return [
            dt.datetime.fromisoformat(value) if name.endswith("_at") else int(value)
            for name, value in zip(order, raw, strict=True)
        ]
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise ApiProblem(
            422,
            "validation_failed",
            _("cursor: The page cursor is not valid; start from the first page."),
            errors=[FieldError("cursor", _("The page cursor is not valid; start from the first page."))],
        ) from exc


def keyset_page(queryset: QuerySet[M], *, cursor: str | None, limit: int, order: Sequence[str] = ("id",)) -> CursorPage:
    """One ascending page by ``order`` (which must end with a unique column, ``id``), after ``cursor``.

    Seeks past the last row instead of OFFSET, so rows added or removed meanwhile neither repeat nor vanish.
    """
    if cursor:
        values = _decode(cursor, order)
        after = Q()
        # (a, b, id) > (va, vb, vid)  ==  a > va  OR  (a = va AND b > vb)  OR ...
        for i, name in enumerate(order):
            step = Q(**{f"{name}__gt": values[i]})
            for prev_name, prev_value in zip(order[:i], values[:i], strict=True):
                step &= Q(**{prev_name: prev_value})
            after |= step
        queryset = queryset.filter(after)
    rows = list(queryset.order_by(*order)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode([getattr(rows[-1], name) for name in order]) if more and rows else None
    return CursorPage(items=rows, next_cursor=next_cursor)
