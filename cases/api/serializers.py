"""Serializers of the brand's case endpoints. Input serializers type and document the request; the
validation that matters is the web form's (`cases.api.filing`, `cases.action_forms`), so the API and the
pages refuse the same things with the same words."""

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.action_forms import available_actions
from cases.choices import FILING_REASON_CHOICES, EvidenceKind
from cases.importing import NOTE_MAX_CHARS, URL_MAX_CHARS
from cases.models import Appeal, Case, CaseItem, CounterNotice, Declaration, Evidence
from core.api.serializers import DOCUMENT_FIELDS

MAX_ITEMS = settings.MARKETSAFE["MAX_ITEMS_PER_CASE"]

__all__ = [
    "CaseAnswerSerializer",
    "CaseAppealSerializer",
    "CaseCreateSerializer",
    "CaseDetailSerializer",
    "CaseImportResultSerializer",
    "CaseImportSerializer",
    "CaseItemDetailSerializer",
    "CaseItemSerializer",
    "CaseListSerializer",
    "CaseResubmitSerializer",
    "CaseWithdrawResultSerializer",
    "CaseWithdrawSerializer",
]


# --- output ---------------------------------------------------------------------------------------

#: What the case list and a case's page both show.
CASE_FIELDS = ("id", "url", "status", "reason_code", "lane", "channel", "automated", "submitted_at")


class CaseListSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="cases-api:case-detail")
    item_count = serializers.IntegerField(read_only=True)
    open_count = serializers.IntegerField(read_only=True, help_text="Items still waiting for a first decision.")
    waiting_count = serializers.IntegerField(read_only=True, help_text="Items waiting for the brand's answer.")

    class Meta:
        model = Case
        fields = (*CASE_FIELDS, "item_count", "open_count", "waiting_count")


class DeclarationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Declaration
        fields = ("kind", "statement", "signed_name", "signed_at")


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = DOCUMENT_FIELDS


class CaseDetailSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="cases-api:case-detail")
    filed_by = serializers.StringRelatedField()
    rights = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    declarations = DeclarationSerializer(many=True, read_only=True)
    evidence = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField(help_text="The case's items: the item list filtered by this case.")

    class Meta:
        model = Case
        fields = (
            *CASE_FIELDS,
            "explanation",
            "rights",
            "filed_by",
            "idempotency_key",
            "declarations",
            "evidence",
            "items",
        )

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, case: Case) -> list[dict[str, Any]]:
        # The case page's prefetch holds the case-wide evidence only (not the items' own).
        return EvidenceSerializer(case.evidence.all(), many=True).data

    @extend_schema_field(serializers.URLField())
    def get_items(self, case: Case) -> str:
        url = f"{reverse('cases-api:item-list')}?case={case.pk}"
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ListingSerializer(serializers.Serializer):
    url = serializers.CharField()
    title = serializers.CharField()
    marketplace = serializers.CharField(source="marketplace.slug")
    seller_id = serializers.CharField(source="seller.external_id", default=None, allow_null=True)
    seller_name = serializers.CharField(source="seller.name", default=None, allow_null=True)
    status = serializers.CharField()


#: Formats a moment as the generic path's DateTimeField does (ISO 8601 in the current time zone, "Z" for UTC).
_MOMENT = serializers.DateTimeField()


class CaseItemSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="cases-api:item-detail")
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    listing = ListingSerializer(read_only=True)
    how_to_fix = serializers.CharField(read_only=True, help_text="What to change after a rejection.")
    actions = serializers.SerializerMethodField(help_text="The brand's actions the item's status allows now.")

    class Meta:
        model = CaseItem
        fields = (
            "id",
            "url",
            "case",
            "listing",
            "status",
            "reason_code",
            "lane",
            "brand_note",
            "submitted_at",
            "sla_due_at",
            "decided_at",
            "rejection_code",
            "how_to_fix",
            "moderator_message",
            "clarification_due_at",
            "counter_notice_due_at",
            "brand_answer_due_at",
            "appeal_until",
            "actions",
        )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, item: CaseItem) -> list[str]:
        now = self.context.setdefault("now", timezone.now())
        return [action.name for action in available_actions(item, now=now)]

    #: The columns `to_representation` and the actions read: the list loads only these (the listing's
    #: snapshot JSON and the other tables' remaining columns were decoded on every row for nothing).
    LIST_COLUMNS = (
        *(name for name in Meta.fields if name not in ("url", "case", "listing", "how_to_fix", "actions")),
        "case_id",
        "listing__url",
        "listing__title",
        "listing__status",
        "listing__marketplace__slug",
        "listing__seller__external_id",
        "listing__seller__name",
    )

    def to_representation(self, item: CaseItem) -> dict[str, Any]:
        """The same dict as ModelSerializer's generic path (tests/api/test_cases_api.py compares them), built
        directly: the generic path walks ~25 field objects per row and reverses the item's URL once per
        row, and was 40% of the list's time. Reads only the row and its joined listing, marketplace and
        seller; the actions read the prefetched counter-notices (no query per row)."""
        url_prefix, url_suffix = self._item_url()
        listing, moment = item.listing, _MOMENT.to_representation
        seller = listing.seller

        def when(value: Any) -> str | None:
            return moment(value) if value else None

        return {
            "id": item.pk,
            "url": f"{url_prefix}{item.pk}{url_suffix}",
            "case": item.case_id,
            "listing": {
                "url": listing.url,
                "title": listing.title,
                "marketplace": listing.marketplace.slug,
                "seller_id": seller.external_id if seller else None,
                "seller_name": seller.name if seller else None,
                "status": listing.status,
            },
            "status": item.status,
            "reason_code": item.reason_code,
            "lane": item.lane,
            "brand_note": item.brand_note,
            "submitted_at": when(item.submitted_at),
            "sla_due_at": when(item.sla_due_at),
            "decided_at": when(item.decided_at),
            "rejection_code": item.rejection_code,
            "how_to_fix": item.how_to_fix,
            "moderator_message": item.moderator_message,
            "clarification_due_at": when(item.clarification_due_at),
            "counter_notice_due_at": when(item.counter_notice_due_at),
            "brand_answer_due_at": when(item.brand_answer_due_at),
            "appeal_until": when(item.appeal_until),
            "actions": self.get_actions(item),
        }

    def _item_url(self) -> tuple[str, str]:
        """(prefix, suffix) of an item's absolute API URL around its id, worked out once per response."""
        cached = self.context.get("_item_url")
        if cached is None:
            sentinel = 2_147_483_647
            url = reverse("cases-api:item-detail", kwargs={"pk": sentinel})
            request = self.context.get("request")
            url = request.build_absolute_uri(url) if request else url
            prefix, suffix = url.rsplit(str(sentinel), 1)
            cached = self.context["_item_url"] = (prefix, suffix)
        return cached


class CounterNoticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CounterNotice
        fields = (
            "attempt",
            "reason",
            "explanation",
            "received_at",
            "answer",
            "answer_due_at",
            "answered_at",
            "answer_note",
        )


class AppealSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appeal
        fields = ("id", "appellant", "grounds", "filed_at", "contested_status", "status", "decided_at", "decision_note")


class CaseItemDetailSerializer(CaseItemSerializer):
    counter_notices = CounterNoticeSerializer(many=True, read_only=True)
    appeals = AppealSerializer(many=True, read_only=True)

    class Meta(CaseItemSerializer.Meta):
        fields = (*CaseItemSerializer.Meta.fields, "counter_notices", "appeals")

    # One item at a time: the generic path, which knows the nested fields above.
    to_representation = serializers.ModelSerializer.to_representation


# --- filing ---------------------------------------------------------------------------------------


class ListingInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=URL_MAX_CHARS, allow_blank=True, help_text="The listing's URL.")
    note = serializers.CharField(
        max_length=NOTE_MAX_CHARS, required=False, allow_blank=True, default="", help_text="For the moderator."
    )


class _FilingFields(serializers.Serializer):
    """What every filing gives. The fields only type the input; whether it is complete and acceptable is
    decided by the web filing form (`cases.forms.CaseFilingForm`), so its messages are the API's too (hence
    the lenient defaults here: a missing declaration is the form's "Tick the … declaration"). The schema
    says what the form requires all the same (`required_by_form`, core.api.schema)."""

    required_by_form = (
        "rights",
        "explanation",
        "declare_good_faith",
        "declare_accuracy",
        "declare_authority",
        "signed_name",
    )

    rights = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
        help_text="Ids of the brand's verified, unexpired IP rights relied on (at least one).",
    )
    # The filing form's reasons: one that needs a test purchase on every item is filed from the purchase.
    reason_code = serializers.ChoiceField(choices=FILING_REASON_CHOICES)
    explanation = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="Evidence files (multipart only): PDF, PNG, JPEG or WebP. Required unless the brand files in the "
        "expedited lane for a reason visible on the listing.",
    )
    evidence_kind = serializers.ChoiceField(choices=EvidenceKind.choices, default=EvidenceKind.SCREENSHOT)
    declare_good_faith = serializers.BooleanField(default=False, help_text="Must be true: the good-faith declaration.")
    declare_accuracy = serializers.BooleanField(default=False, help_text="Must be true: the accuracy declaration.")
    declare_authority = serializers.BooleanField(default=False, help_text="Must be true: the authority declaration.")
    signed_name = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        default="",
        help_text="The signer's full name, as signature.",
    )


class CaseCreateSerializer(_FilingFields):
    listings = serializers.ListField(
        child=ListingInputSerializer(),
        required=False,
        max_length=MAX_ITEMS,
        help_text=f"The reported listings (JSON), up to {MAX_ITEMS:,}; problems are reported per item index.",
        error_messages={"max_length": f"A case holds at most {MAX_ITEMS:,} listings. Split them over several cases."},
    )
    listing_urls = serializers.ListField(
        child=serializers.CharField(max_length=URL_MAX_CHARS),
        required=False,
        max_length=MAX_ITEMS,
        help_text="The listing URLs without notes (for multipart requests, one field per URL).",
        error_messages={"max_length": f"A case holds at most {MAX_ITEMS:,} listings. Split them over several cases."},
    )


class CaseImportSerializer(_FilingFields):
    listing_file = serializers.FileField(help_text="CSV UTF-8 with the header url,note (the web form's template).")
    dry_run = serializers.BooleanField(default=False, help_text="Check every row and file nothing.")
    skip_invalid = serializers.BooleanField(
        default=False, help_text="File the valid rows even if some rows have errors (otherwise nothing is filed)."
    )


class PreviewRowSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The row in the spreadsheet (the header is row 1).")
    raw = serializers.CharField()
    url = serializers.CharField()
    marketplace = serializers.CharField()
    note = serializers.CharField()
    status = serializers.ChoiceField(choices=["ok", "warning", "error"])
    errors = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())


class CaseImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    valid_count = serializers.IntegerField()
    invalid_count = serializers.IntegerField()
    warning_count = serializers.IntegerField()
    rows = PreviewRowSerializer(many=True)
    case = CaseDetailSerializer(allow_null=True, help_text="The filed case (null in a dry run).")


class CaseImportStatusSerializer(serializers.Serializer):
    """A CSV import handed to the background (202 from `cases/import/`), as `case-imports/<id>/` shows it."""

    id = serializers.UUIDField()
    url = serializers.CharField(help_text="This status, to poll until `state` is ready, filed or failed.")
    state = serializers.ChoiceField(choices=["checking", "ready", "filing", "filed", "failed"])
    dry_run = serializers.BooleanField()
    rows_total = serializers.IntegerField()
    rows_done = serializers.IntegerField()
    valid_count = serializers.IntegerField(allow_null=True, help_text="Null until the rows are checked.")
    invalid_count = serializers.IntegerField(allow_null=True)
    warning_count = serializers.IntegerField(allow_null=True)
    rows = PreviewRowSerializer(many=True, help_text="Every row with its problems, once checked.")
    case = serializers.IntegerField(allow_null=True, help_text="The filed case's id, once filed.")
    errors = serializers.ListField(child=serializers.CharField(), help_text="Why nothing was filed.")


# --- item actions ---------------------------------------------------------------------------------


class CaseWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class CaseWithdrawResultSerializer(serializers.Serializer):
    withdrawn = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the withdrawn items.")
    refused = serializers.DictField(child=serializers.CharField(), help_text="Item id → why it was not withdrawn.")


class CaseResubmitSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, help_text="The amended explanation, answering the moderator.")


class CaseAnswerSerializer(serializers.Serializer):
    answer = serializers.ChoiceField(choices=["accept", "reject"])
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    evidence = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="Required to reject (multipart)."
    )
    evidence_kind = serializers.ChoiceField(choices=EvidenceKind.choices, required=False, allow_blank=True, default="")


class CaseAppealSerializer(serializers.Serializer):
    grounds = serializers.CharField(max_length=5000, help_text="Why the decision is wrong.")
