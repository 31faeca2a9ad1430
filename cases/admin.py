"""Notices (cases), their items and everything that follows a decision, in the admin: view-only for now.

State changes happen only through services (`cases.services`; later issues add the moderator console's
admin actions that call them). Everything a case holds was either filed and signed by the brand (the
notice, its declarations and evidence), reported by the marketplace (counter-notices) or written by a
decision service (item statuses, deadlines, deciders, appeals, statements of reasons), so nothing here
is added, changed or deleted by hand; declarations above all, whose signatures must never be edited.

Items number in the hundreds of thousands and point at millions of listings: lists are ordered by
primary key, foreign keys to listings and users use raw-id widgets, and searches stay on one index.
"""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html

from cases.models import Appeal, Case, CaseDraft, CaseItem, CounterNotice, Declaration, Evidence, StatementOfReasons
from marketsafe.admin import (
    ReadOnlyAdminMixin,
    ScaleAdminMixin,
    StoredDocumentAdminMixin,
    StoredDocumentInline,
    changelist_url,
    correlated_aggregate,
)


class CaseItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseItem
    extra = 0
    ordering = ("id",)
    show_change_link = True
    fields = ("listing", "status", "sla_due_at", "assigned_to", "decided_by", "decided_at", "rejection_code")
    raw_id_fields = ("listing", "assigned_to", "decided_by")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[CaseItem]:
        return super().get_queryset(request).select_related("listing", "assigned_to", "decided_by")


class DeclarationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Declaration
    extra = 0
    fields = ("kind", "signed_name", "signed_by", "signed_at", "ip_address", "statement")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Declaration]:
        return super().get_queryset(request).select_related("signed_by")


class EvidenceInline(ReadOnlyAdminMixin, StoredDocumentInline):
    model = Evidence
    fk_name = "case"
    document_fields = ("kind", "item", "description")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Evidence]:
        return super().get_queryset(request).select_related("item")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "brand", "lane", "reason_code", "channel", "status", "item_count", "filed_by", "submitted_at")
    list_select_related = ("brand", "filed_by")
    list_filter = ("status", "lane", "reason_code", "channel")
    search_fields = ("id__exact", "brand__name", "idempotency_key__exact")
    search_help_text = "The case number, part of the brand's name, or the client's exact idempotency key."
    date_hierarchy = "submitted_at"
    ordering = ("-pk",)
    raw_id_fields = ("brand", "filed_by")
    fieldsets = (
        (None, {"fields": ("brand", "status", "lane", "reason_code", "rights", "explanation", "items")}),
        ("Filing", {"fields": ("filed_by", "submitted_at", "channel", "idempotency_key")}),
    )
    readonly_fields = ("items",)
    inlines = (CaseItemInline, DeclarationInline, EvidenceInline)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Case]:
        return (
            super()
            .get_queryset(request)
            .annotate(item_count=correlated_aggregate(CaseItem.objects.all(), fk="case", aggregate=models.Count("pk")))
        )

    @admin.display(description="items", ordering="item_count")
    def item_count(self, obj: Case) -> int:
        return obj.item_count

    @admin.display(description="items")
    def items(self, obj: Case) -> str:
        return format_html(
            '<a href="{}">{} reported listings</a>', changelist_url(CaseItem, case__id__exact=obj.pk), obj.item_count
        )


@admin.register(CaseItem)
class CaseItemAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "case",
        "brand",
        "listing",
        "lane",
        "reason_code",
        "status",
        "sla_due_at",
        "assigned_to",
        "decided_at",
    )
    list_select_related = ("case", "brand", "listing", "assigned_to")
    list_filter = ("status", "lane", "reason_code", "rejection_code")
    # One lookup only: an OR between the item's own columns and the joined listing's would defeat every index.
    search_fields = ("listing__url__exact",)
    search_help_text = "The exact URL of the reported listing."
    ordering = ("-pk",)
    sortable_by = ("id",)
    raw_id_fields = ("case", "brand", "listing", "assigned_to", "decided_by")
    fieldsets = (
        (None, {"fields": ("case", "brand", "listing", "lane", "reason_code", "status", "brand_note")}),
        ("Review", {"fields": ("submitted_at", "sla_due_at", "assigned_to", "assigned_at", "status_changed_at")}),
        ("Decision", {"fields": ("decided_by", "decided_at", "rejection_code", "moderator_message")}),
        (
            "Deadlines",
            {"fields": ("clarification_due_at", "counter_notice_due_at", "brand_answer_due_at", "appeal_until")},
        ),
    )


@admin.register(Evidence)
class EvidenceAdmin(StoredDocumentAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("original_name", "case", "item", "kind", "content_type", "size", "uploaded_by", "uploaded_at")
    list_select_related = ("case", "item", "uploaded_by")
    list_filter = ("kind",)
    search_fields = ("original_name", "sha256__exact", "case__id__exact")
    search_help_text = "Part of the file name, its exact SHA-256, or the case number."
    ordering = ("-pk",)
    raw_id_fields = ("case", "item", "counter_notice", "uploaded_by")
    fields = ("case", "item", "counter_notice", "kind", "description", *StoredDocumentAdminMixin.stored_document_fields)
    readonly_fields = StoredDocumentAdminMixin.stored_document_fields


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("case", "kind", "signed_name", "signed_by", "signed_at", "ip_address")
    list_select_related = ("case", "signed_by")
    list_filter = ("kind",)
    search_fields = ("signed_name", "case__id__exact")
    search_help_text = "Part of the signer's typed name, or the case number."
    ordering = ("-pk",)
    raw_id_fields = ("case", "signed_by")
    fields = ("case", "kind", "statement", "signed_name", "signed_by", "signed_at", "ip_address")


@admin.register(CounterNotice)
class CounterNoticeAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "item", "attempt", "reason", "answer", "received_at", "answer_due_at", "answered_at")
    list_select_related = ("item",)
    list_filter = ("answer", "reason", "attempt")
    search_fields = ("item__id__exact",)
    search_help_text = "The id of the case item."
    ordering = ("-pk",)
    raw_id_fields = ("item", "recorded_by", "answered_by")
    fieldsets = (
        (None, {"fields": ("item", "attempt", "reason", "explanation", "received_at", "recorded_by")}),
        ("Brand's answer", {"fields": ("answer", "answer_due_at", "answered_at", "answered_by", "answer_note")}),
    )


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "item",
        "appellant",
        "contested_status",
        "status",
        "filed_at",
        "original_decider",
        "decided_by",
        "decided_at",
    )
    list_select_related = ("item", "original_decider", "decided_by")
    list_filter = ("status", "appellant", "contested_status")
    search_fields = ("item__id__exact",)
    search_help_text = "The id of the case item."
    ordering = ("-pk",)
    raw_id_fields = ("item", "filed_by", "original_decider", "decided_by")
    fieldsets = (
        (None, {"fields": ("item", "appellant", "contested_status", "grounds", "filed_at", "filed_by")}),
        ("Decision", {"fields": ("status", "original_decider", "decided_by", "decided_at", "decision_note")}),
    )


@admin.register(StatementOfReasons)
class StatementOfReasonsAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "item",
        "decision_ground",
        "source_type",
        "automated_decision",
        "application_date",
        "moderator",
        "created_at",
    )
    list_select_related = ("item", "moderator")
    list_filter = ("decision_ground", "source_type", "automated_decision", "automated_detection")
    search_fields = ("item__id__exact",)
    search_help_text = "The id of the case item."
    ordering = ("-pk",)
    raw_id_fields = ("item", "moderator")
    fieldsets = (
        (None, {"fields": ("item", "moderator", "created_at")}),
        (
            "Decision",
            {
                "fields": (
                    "decision_visibility",
                    "end_date_visibility_restriction",
                    "decision_ground",
                    "legal_ground",
                    "explanation",
                    "facts",
                    "application_date",
                )
            },
        ),
        ("Classification", {"fields": ("category", "category_specification", "territorial_scope")}),
        ("Process", {"fields": ("source_type", "automated_detection", "automated_decision", "redress")}),
    )


@admin.register(CaseDraft)
class CaseDraftAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """Filings between preview and submit: visible for support, never edited."""

    list_display = ("id", "brand", "created_by", "state", "rows_done", "rows_total", "case", "created_at", "expires_at")
    list_select_related = ("brand", "created_by")
    list_filter = ("state",)
    ordering = ("-created_at",)
    raw_id_fields = ("brand", "created_by", "case")
    exclude = ("input_rows", "checked_rows")
