"""One JSON shape for every API error, brand and platform endpoints alike.

    {"status": 400, "code": "invalid", "detail": "…", "errors": {"field": ["…"], "listings": {"3": ["…"]}}}

`status` repeats the HTTP status; `code` is stable for programs (`invalid`, `parse_error`,
`not_authenticated`, `authentication_failed`, `permission_denied`, `not_found`, `method_not_allowed`,
`unsupported_media_type`, `conflict`, `throttled`, …); `detail` is a sentence for people. `errors` comes
with validation errors only (400, code `invalid`): it maps each field of the request to its messages, and
a field holding rows (a case's `listings`, a bulk request's `sellers`) to the rows that have problems, by
their index in the request from 0, each with its messages or its own fields' messages:

    {"errors": {"listings": {"3": {"url": ["…"]}, "7": {"non_field_errors": ["…"]}}}}

The services' own refusals keep their wording: a Django `ValidationError` becomes 400 with its fields; a
`core.errors.DomainError` becomes its own status and code (409 `conflict` for a transition the object's
status does not allow, 400 `refused` for other refusals), with `errors` naming its field when it has one;
a `core.errors.RowsRefused` (rows of a bulk request that break the rules) is answered as rows that fail
validation are (`RowsInvalid`).
A body over Django's upload limits is 413 `request_too_large`; a bug is 500 `server_error` (logged with
its trace). `ErrorSerializer` describes the shape in the OpenAPI schema (`core.api.schema`).
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from core.errors import DomainError, RowsRefused

logger = logging.getLogger("django.request")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object's current state does not allow this."
    default_code = "conflict"


class RowsInvalid(exceptions.ValidationError):
    """Problems of a request's rows, all-or-nothing: `{field: {row index: {row field: [messages]}}}`.

    `rows` maps the index of each row with problems to its fields' messages (`non_field_errors` for the
    row as a whole); the response's `detail` counts the rows and quotes the first problem.
    """

    def __init__(self, field: str, rows: dict[int, dict[str, list[str]]]) -> None:
        ordered = {index: rows[index] for index in sorted(rows)}
        super().__init__({field: ordered}, code="invalid")
        first = _summary({f"{field} row {index}": messages for index, messages in ordered.items()})
        problems = "1 row has problems" if len(ordered) == 1 else f"{len(ordered)} rows have problems"
        self.summary = f"Nothing was saved: {problems}; the first: {first}"


def _from_django(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        fields = {"non_field_errors" if f == "__all__" else f: msgs for f, msgs in exc.message_dict.items()}
        return exceptions.ValidationError(fields, code="invalid")
    return exceptions.ValidationError({"non_field_errors": exc.messages}, code="invalid")


def form_validation_error(form: Any) -> exceptions.ValidationError:
    """A Django form's errors as the API reports them (field → messages)."""
    return exceptions.ValidationError(
        {
            "non_field_errors" if name == "__all__" else name: [str(m) for m in messages]
            for name, messages in form.errors.items()
        }
    )


def _summary(errors: Any) -> str:
    """The first message of a (possibly nested) error structure, to head the response."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            first = _summary(value)
            if first:
                return first if key == "non_field_errors" else f"{key}: {first}"
        return ""
    if isinstance(errors, list):
        return next((found for found in map(_summary, errors) if found), "")
    return str(errors)


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the portal accepts: send fewer rows or smaller files."
    default_code = "request_too_large"


def _server_error(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A bug in a view, answered in the error shape instead of the portal's HTML page (DEBUG keeps
    Django's technical page). Logged and signalled as Django does for an uncaught exception, so error
    reporting (and the test client, which re-raises it) still sees it; the request's transaction, if
    any, is rolled back."""
    if settings.DEBUG or "request" not in context:
        return None
    request = getattr(context["request"], "_request", context["request"])
    set_rollback()
    logger.error(
        "Internal Server Error: %s", request.path, exc_info=exc, extra={"status_code": 500, "request": request}
    )
    got_request_exception.send(sender=None, request=request)
    response = Response(
        {"status": 500, "code": "server_error", "detail": "A server error occurred. It has been logged."}, status=500
    )
    response._has_been_logged = True  # Django's request logging would log it a second time, without the trace
    return response


class Refused(exceptions.APIException):
    """A service's refusal (`core.errors.DomainError`) in the error shape, with the refusal's status and code."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message, code=error.code)
        self.status_code = error.status
        self.field = error.field


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RowsRefused):
        exc = RowsInvalid(exc.field, exc.rows)
    elif isinstance(exc, DomainError):
        exc = Refused(exc)
    elif isinstance(exc, DjangoValidationError):
        exc = _from_django(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, TooManyFilesSent):
        exc = exceptions.ParseError(f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files per request.")
    elif isinstance(exc, TooManyFieldsSent):
        exc = exceptions.ParseError(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return _server_error(exc, context)
    body: dict[str, Any] = {"status": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        summary = getattr(exc, "summary", None) or _summary(errors)
        body.update(code="invalid", detail=summary or "Invalid input.", errors=errors)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        body.update(code=getattr(detail, "code", None) or exc.default_code, detail=str(detail))
        if getattr(exc, "field", None):
            body["errors"] = {exc.field: [str(detail)]}
    response.data = body
    return response
