"""Serializers of the re-listing candidates feed."""

from rest_framework import serializers

from cases.api.serializers import ListingSerializer
from detection.models import ReListingCandidate


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
