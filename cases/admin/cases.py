"""Notices (cases) in the admin: the case with its items, declarations and evidence inline, and the
declarations alone. Everything here was filed and signed by the brand, so it is view-only."""

from django.contrib import admin
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html

from cases.admin.filters import QueueStatusFilter
from cases.models import Case, CaseItem, Declaration, Evidence
from core.admin.mixins import (
    ReadOnlyAdminMixin,
    ScaleAdminMixin,
    StoredDocumentInline,
    changelist_url,
    correlated_aggregate,
)


class FirstItemsFormSet(BaseInlineFormSet):
    """The case's first SHOWN items only: a case may hold tens of thousands (MAX_ITEMS_PER_CASE), and the
    admin renders every inline row as a form. The case's "items" field links to the item list with all of
    them. View-only, so no form of the formset is ever saved."""

    SHOWN = 100

    def get_queryset(self) -> models.QuerySet[CaseItem]:
        if not hasattr(self, "_first_items"):
            self._first_items = super().get_queryset()[: self.SHOWN]
        return self._first_items


class CaseItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseItem
    formset = FirstItemsFormSet
    verbose_name_plural = f"case items (the first {FirstItemsFormSet.SHOWN}; all of them: the items link above)"
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
    # A date filter rather than a date_hierarchy, whose year links read every case (core/audit/admin.py).
    list_filter = (("submitted_at", admin.DateFieldListFilter), "status", "lane", "reason_code", "channel")
    search_fields = ("id__exact", "brand__name", "idempotency_key__exact")
    search_help_text = "The case number, part of the brand's name, or the client's exact idempotency key."
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
        # Every status: the item list alone defaults to the items waiting for a decision.
        url = changelist_url(CaseItem, case__id__exact=obj.pk, status=QueueStatusFilter.ALL)
        return format_html('<a href="{}">{} reported listings</a>', url, obj.item_count)


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
