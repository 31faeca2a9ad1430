"""One JSON shape for every API error.

    {"status": 400, "code": "invalid", "detail": "…", "errors": {"field": ["…"], "listings": {"3": ["…"]}}}

`detail` is a sentence for people; `code` is stable for programs; `errors` (validation only) maps each
field to its messages, nested per item for lists. The services' own refusals keep their wording: a
Django `ValidationError` becomes 400 with its fields; an app's views map their own refusals to
`Conflict` (409), e.g. a transition the item's status does not allow (`cases.api.views`).
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object's current state does not allow this."
    default_code = "conflict"


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


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = _from_django(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling and logging
    body: dict[str, Any] = {"status": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body.update(code="invalid", detail=_summary(errors) or "Invalid input.", errors=errors)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        body.update(code=getattr(detail, "code", None) or exc.default_code, detail=str(detail))
    response.data = body
    return response
