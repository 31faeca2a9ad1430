"""Serializers of the platform endpoints (marketplace systems, service token)."""

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.fields import empty

from cases.choices import CounterNoticeReason
from core.filters import WHOLE_NUMBER
from listings.choices import SellerAccountType


class SellerRowSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=120)
    name = serializers.CharField(max_length=200)
    account_type = serializers.ChoiceField(choices=SellerAccountType.choices, default=SellerAccountType.BUSINESS)
    country = serializers.RegexField(
        r"^[A-Z]{2}$",
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": "An ISO 3166-1 alpha-2 code in capitals, e.g. DE."},
    )


class FlatErrorsListField(serializers.ListField):
    """A list whose items' refusals come back as one flat list of messages, each naming its item: the API's
    error shape holds a list of messages per field, where DRF would nest them by item index."""

    def to_internal_value(self, data: Any) -> list:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError(
                [f"Item {index}: {' '.join(map(str, messages))}" for index, messages in exc.detail.items()]
            ) from exc


class ListingRowSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=120)
    url = serializers.CharField(
        max_length=2000,
        # The shape `normalise_listing_url` needs, in the schema too; the host must also be the marketplace's.
        validators=[
            RegexValidator(
                r"^\s*[hH][tT][tT][pP][sS]?://[^/?#\s:@\x00][^\x00]*$", message="Not an absolute http(s) URL."
            )
        ],
        help_text="The listing's absolute http(s) URL on one of the marketplace's hosts.",
    )
    seller_external_id = serializers.CharField(max_length=120, required=False, allow_null=True, default=None)
    title = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": "An ISO 4217 code in capitals, e.g. EUR."},
    )
    # Stay-down detection (issue 17): perceptual hashes of the listing's images; sent → replaces the stored ones.
    image_hashes = FlatErrorsListField(
        child=serializers.RegexField(
            r"^[0-9a-fA-F]{64}$", error_messages={"invalid": "A PDQ hash: 64 hexadecimal characters (256 bits)."}
        ),
        required=False,
        max_length=16,
    )


def bulk_rows_field(child: serializers.Serializer) -> serializers.ListField:
    """Documentation of a bulk body's array (the view checks the array and its rows itself, for errors per row)."""
    return serializers.ListField(child=child, min_length=1, max_length=settings.MARKETSAFE["PLATFORM_BULK_MAX_ROWS"])


class SellerBulkSerializer(serializers.Serializer):
    sellers = bulk_rows_field(SellerRowSerializer())


class ListingBulkSerializer(serializers.Serializer):
    listings = bulk_rows_field(ListingRowSerializer())


class UpsertedSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    id = serializers.IntegerField()
    created = serializers.BooleanField()


class UpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    results = UpsertedSerializer(many=True)


class CounterNoticeInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=CounterNoticeReason.choices)
    explanation = serializers.CharField(max_length=5000)
    received_at = serializers.DateTimeField(
        required=False,
        help_text=(
            "When the seller filed it (now when left out); must lie between the decision it answers and now, "
            "within the counter-notice window."
        ),
    )


class AppealInputSerializer(serializers.Serializer):
    grounds = serializers.CharField(max_length=5000)


class ItemStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    status = serializers.CharField()
    brand_answer_due_at = serializers.DateTimeField(allow_null=True)


class DecisionSerializer(serializers.Serializer):
    event_id = serializers.UUIDField(source="uuid")
    occurred_at = serializers.DateTimeField()
    item = serializers.DictField(source="payload.data.item")
    listing = serializers.DictField(source="payload.data.listing")


class WholeNumberField(serializers.IntegerField):
    """DRF's IntegerField without its leniency: it reads "0.0" as 0, and an empty query value as none
    given, neither of which the schema calls an integer."""

    def get_value(self, dictionary: Any) -> Any:
        value = super().get_value(dictionary)
        if value is empty and dictionary.get(self.field_name) == "":
            return ""  # refused by `to_internal_value`, not replaced by the default
        return value

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and not WHOLE_NUMBER.fullmatch(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)


class DecisionFeedQuerySerializer(serializers.Serializer):
    """The decision feed's query parameters (the schema's, and the view's check of them)."""

    cursor = serializers.CharField(
        required=False, allow_blank=True, help_text="The next_cursor of the previous page; none (or empty) to start."
    )
    limit = WholeNumberField(
        required=False,
        default=100,
        min_value=1,
        max_value=settings.MARKETSAFE["PLATFORM_FEED_MAX_PAGE"],
        help_text="At most this many decisions (default 100).",
    )


class DSABatchQuerySerializer(serializers.Serializer):
    """The DSA batch's query parameter (the schema's, and the view's check of it)."""

    after = WholeNumberField(
        required=False, default=0, min_value=0, help_text="The next_after of the previous batch; 0 to start."
    )


class DecisionPageSerializer(serializers.Serializer):
    results = DecisionSerializer(many=True)
    next_cursor = serializers.CharField()
    has_more = serializers.BooleanField()


class DSABatchSerializer(serializers.Serializer):
    statements = serializers.ListField(child=serializers.DictField(), max_length=100)
    next_after = serializers.IntegerField(allow_null=True)
