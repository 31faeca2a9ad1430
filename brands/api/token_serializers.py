"""Serializers of the token endpoint (POST /api/v1/auth/token/)."""

from rest_framework import serializers

from brands.api.models import ApiToken

MAX_TOKEN_DAYS = 3650


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
