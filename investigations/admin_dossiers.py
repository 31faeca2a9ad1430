"""Referral dossiers in the admin (imported by `investigations.admin`): a moderation lead exports a case's
dossier from the case's page (the "Referral dossier" button, `templates/admin/cases/case/change_form.html`)
through `CaseDossierView`, a page on the admin site (`admin:investigations_case_dossier`) that confirms what
the dossier will hold and posts the export; the exports are listed read-only (`DossierExportAdmin`).
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from cases.models import Case, Evidence
from core.admin.mixins import ReadOnlyAdminMixin
from core.views import SERVICE_ERRORS, refusal_text
from investigations.dossiers import SEE_EVIDENCE_PERMISSION, SEE_IDENTITIES_PERMISSION, dossier_sections
from investigations.models import DossierExport
from investigations.services.dossiers import DOSSIER_MAX_BYTES, EXPORT_PERMISSION, dossier_export


@admin.register(DossierExport)
class DossierExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "subject_kind", "case", "exported_by", "exported_at", "identities_in_clear", "files", "size")
    list_select_related = ("case", "exported_by")
    list_filter = ("subject_kind", "identities_in_clear")
    search_fields = ("case__id__exact", "manifest_sha256__exact", "zip_sha256__exact")
    search_help_text = "The case number, or a dossier's exact manifest or ZIP SHA-256."
    raw_id_fields = ("case", "exported_by")


class CaseDossierView(TemplateView):
    """GET: what the dossier of the case will hold; POST: export it (the ZIP as a download)."""

    template_name = "admin/investigations/case_dossier.html"
    admin_site: AdminSite | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        self.case = get_object_or_404(Case.objects.select_related("brand"), pk=kwargs["case_id"])
        return super().dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            result = dossier_export(case_id=self.case.pk, actor=request.user)
        except SERVICE_ERRORS as error:
            messages.error(request, refusal_text(error))
            return redirect(request.path)
        return FileResponse(result.file, as_attachment=True, filename=result.filename, content_type="application/zip")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        evidence = Evidence.objects.filter(case=self.case).aggregate(n=Count("pk"), size=Sum("size"))
        return {
            **super().get_context_data(**kwargs),
            **self.admin_site.each_context(self.request),
            "title": f"Referral dossier of {self.case}",
            "case": self.case,
            "sections": dossier_sections("case"),
            "items": self.case.items.count(),
            "evidence": evidence["n"],
            "evidence_mb": (evidence["size"] or 0) / 2**20,
            "max_mb": DOSSIER_MAX_BYTES // 2**20,
            "identities_in_clear": self.request.user.has_perm(SEE_IDENTITIES_PERMISSION),
            "include_evidence": self.request.user.has_perm(SEE_EVIDENCE_PERMISSION),
            "exports": DossierExport.objects.filter(case=self.case).select_related("exported_by")[:10],
        }


admin.site.register_page(
    "investigations/case/<int:case_id>/dossier/", CaseDossierView, name="investigations_case_dossier"
)
