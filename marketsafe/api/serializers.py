"""Serializers of the API's own endpoints (tokens) and of its error responses."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from marketsafe.api.models import ApiToken

MAX_TOKEN_DAYS = 3650
#: What the API shows of a private document (`marketsafe.files.StoredDocument`) with a kind: never its path.
DOCUMENT_FIELDS = ("id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at")


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"}, trim_whitespace=False)
    brand = serializers.SlugField(max_length=80, help_text="The slug of the brand the token acts in.")
    name = serializers.CharField(max_length=100, default="API client", help_text="What the token is for.")
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        required=False,
        allow_null=True,
        default=None,
        help_text="Days until the token stops working (never, when not given).",
    )


class TokenCreatedSerializer(serializers.ModelSerializer):
    token = serializers.CharField(help_text="The secret: shown once, send it as `Authorization: Token <token>`.")
    brand = serializers.CharField(source="membership.brand.slug")
    role = serializers.CharField(source="membership.role")

    class Meta:
        model = ApiToken
        fields = ("token", "prefix", "name", "brand", "role", "created_at", "expires_at")


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
    """The one shape of every API error (`marketsafe.api.exceptions`)."""

    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(help_text="Stable for programs, e.g. invalid, not_found, conflict, throttled.")
    detail = serializers.CharField(help_text="A sentence for people.")
    errors = _ErrorsField(required=False)
