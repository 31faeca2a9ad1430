"""Serializers of the test purchases endpoints: the purchase as read (with its files, its chain of custody
and whether the chain verifies), and the inputs, which the pages' forms then check (`investigations.forms`)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.api.serializers import ListingSerializer
from investigations.choices import MANUAL_EVENT_TYPES, Verdict
from investigations.models import CustodyEvent, TestPurchase, TestPurchaseFile
from investigations.selectors import custody_verify

FILES_HELP = "Multipart only: photos (PNG, JPEG, WebP), PDFs and videos (MP4, MOV, WebM), checked by content."


class TestPurchaseFileSerializer(serializers.ModelSerializer):
    __test__ = False

    class Meta:
        model = TestPurchaseFile
        fields = ("id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at")
        read_only_fields = fields


class CustodyEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustodyEvent
        fields = ("sequence", "event_type", "at", "actor", "note", "files", "data", "previous_hash", "hash")
        read_only_fields = fields


class CustodyStatusSerializer(serializers.Serializer):
    complete = serializers.BooleanField()
    links = serializers.IntegerField()
    summary = serializers.CharField(help_text="“Chain complete: N links verified”, or the first broken link.")


class TestPurchaseSerializer(serializers.ModelSerializer):
    """A purchase in a list: without its files and chain (read one purchase for those)."""

    __test__ = False

    url = serializers.HyperlinkedIdentityField(view_name="investigations-api:test-purchase-detail")
    listing = ListingSerializer(read_only=True)

    class Meta:
        model = TestPurchase
        fields = (
            "id",
            "url",
            "listing",
            "listing_snapshot",
            "order_id",
            "order_confirmation",
            "order_checked_at",
            "purchased_on",
            "received_on",
            "authenticator_name",
            "authenticator_organisation",
            "verdict",
            "verdict_report",
            "verdict_at",
            "recorded_side",
            "created_at",
        )
        read_only_fields = fields


class TestPurchaseDetailSerializer(TestPurchaseSerializer):
    __test__ = False

    files = TestPurchaseFileSerializer(many=True, read_only=True)
    custody = CustodyEventSerializer(many=True, read_only=True)
    custody_status = serializers.SerializerMethodField()

    class Meta(TestPurchaseSerializer.Meta):
        fields = (*TestPurchaseSerializer.Meta.fields, "files", "custody", "custody_status")
        read_only_fields = fields

    @extend_schema_field(CustodyStatusSerializer)
    def get_custody_status(self, purchase: TestPurchase) -> dict[str, Any]:
        report = custody_verify(purchase)
        return CustodyStatusSerializer(
            {"complete": report.complete, "links": report.links, "summary": report.summary}
        ).data


class TestPurchaseInputSerializer(serializers.Serializer):
    __test__ = False

    listing_url = serializers.CharField(max_length=2000, help_text="The listing bought from (created when unknown).")
    order_id = serializers.CharField(max_length=100)
    purchased_on = serializers.DateField()
    received_on = serializers.DateField(required=False, allow_null=True)
    authenticator_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    authenticator_organisation = serializers.CharField(max_length=200, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    files = serializers.ListField(child=serializers.FileField(), required=False, help_text=FILES_HELP)


class CustodyEventInputSerializer(serializers.Serializer):
    event_type = serializers.ChoiceField(choices=list(MANUAL_EVENT_TYPES))
    at = serializers.DateTimeField(required=False, allow_null=True, help_text="When it happened; now by default.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    files = serializers.ListField(child=serializers.FileField(), required=False, help_text=FILES_HELP)


class VerdictInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=[v for v in Verdict.values if v != Verdict.PENDING])
    authenticator_name = serializers.CharField(max_length=200)
    authenticator_organisation = serializers.CharField(max_length=200, required=False, allow_blank=True)
    report = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    report_file = serializers.FileField(required=False, help_text="Multipart only: the report, a PDF or an image.")


class AttachInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="A reported listing (case item) of the brand, on the purchase's listing or its seller's.",
    )


class AttachmentSerializer(serializers.Serializer):
    purchase = serializers.IntegerField(source="purchase_id")
    item = serializers.IntegerField(source="item_id")
    case = serializers.IntegerField(source="item.case_id")
    attached_at = serializers.DateTimeField()
