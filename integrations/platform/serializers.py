"""Serializers of the platform endpoints (marketplace systems, service token)."""

import re
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from cases.choices import CounterNoticeReason
from core.filters import WHOLE_NUMBER
from listings.choices import SellerAccountType
from listings.identifiers import MAX_LENGTH as IDENTIFIER_MAX_LENGTH
from listings.identifiers import MAX_PER_KIND as MAX_IDENTIFIERS_PER_KIND

#: NUL and lone surrogates: refused like DRF's text fields refuse them (they cannot be hashed as UTF-8 either).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_IDENTIFIER_KINDS = {
    "address": "Postal addresses (case, punctuation and spacing do not matter).",
    "phone": "Phone numbers (only the digits count; a leading 00 is the same as +).",
    "payment_account": "Payment accounts, e.g. IBANs (letters and digits count, case does not).",
    "tax_id": "Tax or VAT ids (letters and digits count, case does not).",
}


@extend_schema_field(
    {
        "type": "object",
        "description": "What else identifies the seller, in clear: hashed with a key at once and never stored in "
        "clear (seller networks). The object replaces all the seller's stored identifiers: a kind left out is "
        "cleared; leave the object out to keep them.",
        "properties": {
            kind: {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": IDENTIFIER_MAX_LENGTH},
                "maxItems": MAX_IDENTIFIERS_PER_KIND,
                "description": text,
            }
            for kind, text in _IDENTIFIER_KINDS.items()
        },
        "additionalProperties": False,
    }
)
class SellerIdentifiersField(serializers.Field):
    """The seller's identifiers by kind. Checked here, with one flat list of messages (the error shape keeps a
    row's field to a list of messages), none of which repeats a value."""

    default_error_messages = {
        "invalid": "An object of lists of text, by kind: address, phone, payment_account, tax_id."
    }

    def to_internal_value(self, data: Any) -> dict[str, list[str]]:
        if not isinstance(data, dict):
            self.fail("invalid")
        problems = [f"Unknown kind {kind!r}." for kind in data if kind not in _IDENTIFIER_KINDS]
        for kind, values in data.items():
            if kind not in _IDENTIFIER_KINDS:
                continue
            if not isinstance(values, list) or len(values) > MAX_IDENTIFIERS_PER_KIND:
                problems.append(f"{kind}: a list of at most {MAX_IDENTIFIERS_PER_KIND} values.")
                continue
            for n, value in enumerate(values):
                text = isinstance(value, str) and value.strip() and len(value) <= IDENTIFIER_MAX_LENGTH
                if not text or _UNSTORABLE.search(value):
                    problems.append(f"{kind}: value {n} is not text of 1 to {IDENTIFIER_MAX_LENGTH} characters.")
        if problems:
            raise serializers.ValidationError(problems)
        return {kind: list(values) for kind, values in data.items()}

    def to_representation(self, value: Any) -> Any:
        return value


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
    # Seller networks (issue 19): sent → replaces the stored identifiers; left out → they stay as they are.
    identifiers = SellerIdentifiersField(required=False)


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


# --- test purchases: the marketplace confirms the order ----------------------------------------------


class TestPurchaseOrderQuerySerializer(serializers.Serializer):
    """The query of the orders waiting for the marketplace's answer."""

    __test__ = False

    after = WholeNumberField(
        required=False, default=0, min_value=0, help_text="The next_after of the previous page; 0 to start."
    )


class TestPurchaseOrderSerializer(serializers.Serializer):
    """What the marketplace needs to look an order up: nothing of the brand's examination."""

    __test__ = False

    id = serializers.IntegerField()
    listing_url = serializers.CharField(source="listing.url")
    listing_external_id = serializers.CharField(source="listing.external_id", allow_null=True)
    order_id = serializers.CharField()
    purchased_on = serializers.DateField()
    order_confirmation = serializers.CharField(help_text="unconfirmed, confirmed or not_found.")
    order_checked_at = serializers.DateTimeField(allow_null=True)


class TestPurchaseOrderPageSerializer(serializers.Serializer):
    __test__ = False

    orders = TestPurchaseOrderSerializer(many=True)
    next_after = serializers.IntegerField()


class OrderAnswerInputSerializer(serializers.Serializer):
    found = serializers.BooleanField(help_text="Whether the order exists, for this listing.")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
