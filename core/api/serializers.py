"""Serializers every API shares: the one error shape, and what the API shows of a private document."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

#: What the API shows of a private document (`core.files.StoredDocument`) with a kind: never its path.
DOCUMENT_FIELDS = ("id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at")


_MESSAGES = {"type": "array", "items": {"type": "string"}}
#: A row's field: its messages, or for a list in the row (a listing's `image_hashes`) its entries' messages by
#: index from 0.
_ROW_FIELD = {"oneOf": [_MESSAGES, {"type": "object", "additionalProperties": _MESSAGES}]}


@extend_schema_field(
    {
        "type": "object",
        "description": "Invalid input only: each field of the request with its messages; a field holding rows "
        "(e.g. `listings`, `sellers`) with the rows that have problems, by index from 0, each with its messages "
        "or its fields' messages (`non_field_errors` for the row as a whole; a list in the row, e.g. "
        "`image_hashes`, with its entries' messages by index).",
        "additionalProperties": {
            "oneOf": [
                _MESSAGES,
                {
                    "type": "object",
                    "additionalProperties": {
                        "oneOf": [_MESSAGES, {"type": "object", "additionalProperties": _ROW_FIELD}],
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
