"""Case drafts in the admin: filings between preview and submit, visible for support, never edited."""

from django.contrib import admin

from cases.models import CaseDraft
from core.admin.mixins import ReadOnlyAdminMixin, ScaleAdminMixin


@admin.register(CaseDraft)
class CaseDraftAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """Filings between preview and submit: visible for support, never edited."""

    list_display = ("id", "brand", "created_by", "state", "rows_done", "rows_total", "case", "created_at", "expires_at")
    list_select_related = ("brand", "created_by")
    list_filter = ("state",)
    ordering = ("-created_at",)
    raw_id_fields = ("brand", "created_by", "case")
    exclude = ("input_rows", "checked_rows")
