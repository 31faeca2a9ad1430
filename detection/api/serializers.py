"""Serializers of the re-listing candidates feed and of the brand watch."""

from decimal import Decimal

from rest_framework import serializers

from cases.api.serializers import ListingSerializer
from detection.choices import WatchMatchState
from detection.hashing import HEX_RE
from detection.models import ReListingCandidate, WatchMatch, WatchSearch


class CandidateSignalsSerializer(serializers.Serializer):
    image_distance = serializers.IntegerField(allow_null=True, help_text="Bits of 256 that differ (PDQ).")
    title_similarity = serializers.FloatField()
    same_seller = serializers.BooleanField()
    linked_seller = serializers.BooleanField(help_text="Another account under the same shop name.")
    matched = serializers.ListField(child=serializers.CharField())


class ReListingCandidateSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="detection-api:candidate-detail")
    listing = ListingSerializer(read_only=True)
    signals = CandidateSignalsSerializer(read_only=True)
    earlier_case = serializers.IntegerField(source="fingerprint.case_id", read_only=True)
    earlier_item = serializers.IntegerField(source="fingerprint.source_item_id", read_only=True)
    earlier_listing_url = serializers.CharField(source="fingerprint.listing.url", read_only=True)

    class Meta:
        model = ReListingCandidate
        fields = (
            "id",
            "url",
            "listing",
            "earlier_case",
            "earlier_item",
            "earlier_listing_url",
            "signals",
            "score",
            "strength",
            "status",
            "automated",
            "filed_case",
            "filed_item",
            "created_at",
        )
        read_only_fields = fields


# --- brand watch ----------------------------------------------------------------------------------------


class WatchSearchSerializer(serializers.ModelSerializer):
    """A saved search as the API shows it and takes it. Ids of a marketplace and of a seller (the platform's
    own ids, as the listings show them); `digest`: whether the caller gets its daily e-mail."""

    url = serializers.HyperlinkedIdentityField(view_name="detection-api:watch-search-detail")
    marketplace = serializers.IntegerField(source="marketplace_id", allow_null=True, required=False, min_value=1)
    seller = serializers.IntegerField(source="seller_id", allow_null=True, required=False, min_value=1)
    price_min = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), allow_null=True, required=False
    )
    price_max = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), allow_null=True, required=False
    )
    image_hash = serializers.RegexField(
        HEX_RE.pattern,
        allow_null=True,
        required=False,
        help_text="PDQ hash of the product image: 64 hexadecimal characters.",
    )
    words = serializers.CharField(
        max_length=200, allow_blank=True, required=False, help_text="Every word (3 characters or more) in the title."
    )
    digest = serializers.BooleanField(
        required=False, write_only=True, help_text="Whether you get the daily digest e-mail of its new matches."
    )

    class Meta:
        model = WatchSearch
        fields = (
            "id",
            "url",
            "name",
            "words",
            "marketplace",
            "seller",
            "price_min",
            "price_max",
            "image_hash",
            "active",
            "notify_webhook",
            "digest",
            "created_at",
            "last_run_at",
            "last_run_capped",
        )
        read_only_fields = ("id", "url", "created_at", "last_run_at", "last_run_capped")


class WatchMatchSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="detection-api:watch-match-detail")
    listing = ListingSerializer(read_only=True)
    price = serializers.DecimalField(source="listing.price", max_digits=12, decimal_places=2, read_only=True)
    currency = serializers.CharField(source="listing.currency", read_only=True)
    matched = serializers.ListField(source="signals.matched", child=serializers.CharField(), read_only=True)
    image_distance = serializers.IntegerField(
        source="signals.image_distance", allow_null=True, read_only=True, help_text="Bits of 256 that differ (PDQ)."
    )

    class Meta:
        model = WatchMatch
        fields = (
            "id",
            "url",
            "search",
            "listing",
            "price",
            "currency",
            "matched",
            "image_distance",
            "state",
            "matched_at",
            "decided_at",
            "filed_case",
        )
        read_only_fields = fields


class WatchMatchStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[WatchMatchState.SEEN, WatchMatchState.DISMISSED, WatchMatchState.NEW],
        help_text="seen, dismissed, or new again (filing has its own action).",
    )
