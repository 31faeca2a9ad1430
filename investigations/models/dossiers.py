"""A record of each referral dossier exported (issue 19 point 3): who exported which subject, when, whether
sellers' identities were in clear, and the hashes the receiver can check the dossier against.

The dossier itself is handed to the lead and not kept: its ZIP holds copies of stored evidence and
snapshots, and the record (with its audit event) is what proves later what was sent.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class DossierSubject(models.TextChoices):
    CASE = "case", "Case"


class DossierExport(models.Model):
    subject_kind = models.CharField(max_length=16, choices=DossierSubject, default=DossierSubject.CASE)
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="For a case's dossier.",
    )
    exported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    exported_at = models.DateTimeField(db_default=Now(), editable=False)
    identities_in_clear = models.BooleanField(help_text="Sellers' names and identifiers in clear, not pseudonymised.")
    sections = models.JSONField(default=list, blank=True, help_text="The keys of the sections the dossier holds.")
    files = models.PositiveIntegerField(help_text="Files in the ZIP, the manifests included.")
    size = models.PositiveBigIntegerField(help_text="The ZIP's size in bytes.")
    manifest_sha256 = models.CharField(max_length=64, help_text="SHA-256 of MANIFEST.sha256 in the ZIP.")
    zip_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the ZIP file as downloaded.")

    class Meta:
        ordering = ["-exported_at", "-id"]
        permissions = [("export_dossier", "Can export referral dossiers")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(subject_kind=DossierSubject.CASE) | models.Q(case__isnull=False),
                name="dossierexport_case_has_case",
            ),
        ]
        indexes = [models.Index(fields=["case", "exported_at"], name="dossierexport_case_idx")]

    def __str__(self) -> str:
        return (
            f"Dossier of {self.get_subject_kind_display().lower()} #{self.case_id} ({self.exported_at:%Y-%m-%d %H:%M})"
        )
