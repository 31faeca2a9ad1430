"""Evidence in the admin: the files a brand attached to its cases and counter-notice answers, downloaded
by staff allowed to see evidence (private storage serves no URL)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from django.utils.html import format_html

from cases.admin.console import VIEW_EVIDENCE_PERMISSION, ConsoleAdminMixin
from cases.models import Evidence
from core.admin.mixins import ReadOnlyAdminMixin, ScaleAdminMixin, StoredDocumentAdminMixin


@admin.register(Evidence)
class EvidenceAdmin(ConsoleAdminMixin, StoredDocumentAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("original_name", "case", "item", "kind", "content_type", "size", "uploaded_by", "uploaded_at")
    list_select_related = ("case", "item", "uploaded_by")
    list_filter = ("kind",)
    search_fields = ("original_name", "sha256__exact", "case__id__exact")
    search_help_text = "Part of the file name, its exact SHA-256, or the case number."
    ordering = ("-pk",)
    raw_id_fields = ("case", "item", "counter_notice", "uploaded_by")
    fields = (
        "case",
        "item",
        "counter_notice",
        "kind",
        "description",
        "download",
        *StoredDocumentAdminMixin.stored_document_fields,
    )
    readonly_fields = ("download", *StoredDocumentAdminMixin.stored_document_fields)

    def get_urls(self) -> list[URLPattern]:
        download = path(
            "<int:object_id>/download/", self.admin_site.admin_view(self.download_view), name=self._url_name("download")
        )
        return [download, *super().get_urls()]

    def download_view(self, request: HttpRequest, object_id: int) -> FileResponse:
        """The evidence file as a download, for staff allowed to see evidence (private storage has no URL)."""
        if not request.user.has_perm(VIEW_EVIDENCE_PERMISSION):
            raise PermissionDenied
        return get_object_or_404(Evidence, pk=object_id).as_attachment()

    @admin.display(description="file")
    def download(self, obj: Evidence) -> str:
        return format_html('<a href="{}">Download {}</a>', self._url("download", obj.pk), obj.original_name)
