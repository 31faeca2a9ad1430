"""Serializers every API shares: the one error shape, and what the API shows of a private document."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

#: What the API shows of a private document (`core.files.StoredDocument`) with a kind: never its path.
DOCUMENT_FIELDS = ("id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at")


_MESSAGES = {"type": "array", "items": {"type": "string"}}


@extend_schema_field(
    {
        "type": "object",
        "description": "Invalid input only: each field of the request with its messages; a field holding rows "
        "(e.g. `listings`, `sellers`) with the rows that have problems, by index from 0, each with its messages "
        "or its fields' messages (`non_field_errors` for the row as a whole).",
        "additionalProperties": {
            "oneOf": [
                _MESSAGES,
                {
                    "type": "object",
                    "additionalProperties": {
                        "oneOf": [_MESSAGES, {"type": "object", "additionalProperties": _MESSAGES}],
                    },
                },
            ]
        },
    }
)
class _ErrorsField(serializers.DictField):
    pass


class ErrorSerializer(serializers.Serializer):
    """The one shape of every API error (`core.api.exceptions`)."""

    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(help_text="Stable for programs, e.g. invalid, not_found, conflict, throttled.")
    detail = serializers.CharField(help_text="A sentence for people.")
    errors = _ErrorsField(required=False)
