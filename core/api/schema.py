"""drf-spectacular's AutoSchema for the API: how the schema describes the errors every operation can give.
Each app's authentication schemes are described next to their authentication classes."""

from collections.abc import Iterator
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.api.serializers import ErrorSerializer

#: The statuses that come with a `Retry-After` header (`core.api.exceptions`; DRF's throttles).
RETRY_AFTER_STATUSES = ("429", "503")
RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Seconds to wait before sending the request again.",
    "schema": {"type": "integer", "minimum": 0},
}
#: A string without NUL characters: what `ProhibitNullCharactersValidator` (on every DRF and Django form
#: CharField) lets through, since PostgreSQL cannot store NUL in text.
NO_NUL_PATTERN = "^[^\\u0000]*$"
#: The same, for a required text DRF trims: something other than whitespace in it.
NOT_BLANK_NO_NUL_PATTERN = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


def error_response(description: str) -> OpenApiResponse:
    """An error response in the API's one error shape, for a view's `extend_schema(responses=...)`."""
    return OpenApiResponse(ErrorSerializer, description=description)


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error responses an operation can give, all in the one error
    shape (`core.api.exceptions`), unless the view describes a status itself (e.g. its 409):

    - 400 where the operation takes a body or parameters (invalid input, a body that is not JSON);
    - 401 where it needs credentials; 403 where a role (or a session's CSRF token) can refuse;
    - 404 where the path names an object (another tenant's ids answer 404 too);
    - 413 and 415 where it takes a body; 429 where it is throttled;
    - 503 on every operation: a dependency (PostgreSQL, the Redis cache, the broker) is down.

    429 and 503 also document their `Retry-After` header (seconds to wait before sending the request again).

    The API's views set it as their `schema` (the platform's and the brand's bases, the token endpoint).
    """

    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any) -> Any:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, description in self._error_statuses(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(error_response(description), code)
            if code in RETRY_AFTER_STATUSES:
                responses[code].setdefault("headers", {})["Retry-After"] = RETRY_AFTER_HEADER
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_statuses(self, operation: dict[str, Any]) -> Iterator[tuple[str, str]]:
        located = {parameter["in"] for parameter in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        if has_body or located & {"query", "header"}:
            yield "400", "Invalid input: `errors` names each field (and row) with its messages; or unreadable JSON."
        if any(self.get_auth()):
            yield "401", "No credentials, or a wrong, expired or revoked token (the challenge names the scheme)."
        if any(getattr(permission, "refuses_by_role", False) for permission in self.view.get_permissions()):
            yield "403", "Your role in the brand does not allow this, or a browser session sent no CSRF token."
        if "path" in located:
            yield "404", "No such object, or not yours: another brand's or marketplace's ids answer 404."
        if has_body:
            yield "413", "The body is larger than the portal accepts: send fewer rows or smaller files."
            yield "415", "The body's media type is not one this operation accepts."
        if self.view.get_throttles():
            yield "429", "Too many requests: retry after the seconds in the `Retry-After` header."
        yield (
            "503",
            (
                "A service the portal depends on (its database, cache or queue) is unavailable, code "
                "`service_unavailable`: nothing was saved; send the request again unchanged after the seconds in "
                "the `Retry-After` header."
            ),
        )

    _direction = "request"

    def _map_basic_serializer(self, serializer: Any, direction: str) -> Any:
        # Which way the fields are being described: the patterns below check input, not stored answers.
        outer, self._direction = self._direction, direction
        try:
            schema = super()._map_basic_serializer(serializer, direction)
        finally:
            self._direction = outer  # a nested serializer's mapping returns to its parent's
        if direction == "request":
            _describe_form_rules(serializer, schema)
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        """drf-spectacular's mapping of a field's validators, plus what it leaves out of an input string's
        pattern: NUL characters refused (`ProhibitNullCharactersValidator`), a required text not blank once
        trimmed, a decimal's sign when it has a minimum of 0 and a digit where DRF needs one."""
        super()._insert_field_validators(field, schema)
        if self._direction != "request":
            return
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = _decimal_pattern(field)
        if schema.get("type") != "string" or "pattern" in schema or "enum" in schema:
            return
        if any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators):
            blank_refused = getattr(field, "allow_blank", True) is False and getattr(field, "trim_whitespace", False)
            schema["pattern"] = NOT_BLANK_NO_NUL_PATTERN if blank_refused else NO_NUL_PATTERN


def _describe_form_rules(serializer: Any, schema: dict[str, Any]) -> None:
    """A serializer whose fields only type the input, while a form behind it decides whether the input is
    complete (so the form's messages are the API's), names those fields in `required_by_form`: the schema
    still says what the form requires. Each is required; a text must hold more than whitespace, a boolean
    must be true, a list must not be empty."""
    marked = [name for name in getattr(serializer, "required_by_form", ()) if name in schema.get("properties", {})]
    for name in marked:
        field, prop = serializer.fields[name], schema["properties"][name]
        if isinstance(field, serializers.BooleanField):
            prop["enum"] = [True]
        elif isinstance(field, serializers.ListField):
            prop["minItems"] = max(1, prop.get("minItems", 0))
        elif prop.get("type") == "string":
            prop["pattern"] = NOT_BLANK_NO_NUL_PATTERN
            prop["minLength"] = max(1, prop.get("minLength", 0))
        prop.pop("default", None)
    if marked:
        schema["required"] = sorted({*schema.get("required", []), *marked})


def _decimal_pattern(field: serializers.DecimalField) -> str:
    """A decimal as DRF's DecimalField reads it: digits with an optional fraction (or a fraction alone),
    no more than its places, and no minus sign when its minimum is 0 or more."""
    whole, places = field.max_whole_digits, field.decimal_places
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    number = f"\\d{{1,{whole}}}(?:\\.\\d{{0,{places}}})?" if whole else "0?"
    return f"^{sign}(?:{number}|\\.\\d{{1,{places}}})$"
