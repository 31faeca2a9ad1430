"""The record of referral dossier exports, and its permissions for the "Moderation leads" group (created by
cases' 0004): `export_dossier` (export a case's dossier) and `view_dossierexport` (the list of exports).

Spelled out here, like cases' 0004, so the migration keeps doing what it did when the code changes later.
"""

from importlib import import_module

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


MODERATION_LEADS = "Moderation leads"
GRANTED = (("investigations", "export_dossier"), ("investigations", "view_dossierexport"))


def _grant(apps, schema_editor, *, add):
    using = schema_editor.connection.alias
    import_module("cases.migrations.0004_staff_groups").create_app_permissions(apps, "investigations", using)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    chosen = Permission.objects.using(using).filter(
        content_type__app_label="investigations", codename__in=[codename for _, codename in GRANTED]
    )
    group, _ = Group.objects.using(using).get_or_create(name=MODERATION_LEADS)
    (group.permissions.add if add else group.permissions.remove)(*chosen)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_portal_list_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("investigations", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DossierExport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("subject_kind", models.CharField(choices=[("case", "Case")], default="case", max_length=16)),
                (
                    "exported_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False),
                ),
                (
                    "identities_in_clear",
                    models.BooleanField(help_text="Sellers' names and identifiers in clear, not pseudonymised."),
                ),
                (
                    "sections",
                    models.JSONField(blank=True, default=list, help_text="The keys of the sections the dossier holds."),
                ),
                ("files", models.PositiveIntegerField(help_text="Files in the ZIP, the manifests included.")),
                ("size", models.PositiveBigIntegerField(help_text="The ZIP's size in bytes.")),
                (
                    "manifest_sha256",
                    models.CharField(help_text="SHA-256 of MANIFEST.sha256 in the ZIP.", max_length=64),
                ),
                ("zip_sha256", models.CharField(help_text="SHA-256 of the ZIP file as downloaded.", max_length=64)),
                (
                    "case",
                    models.ForeignKey(
                        blank=True,
                        help_text="For a case's dossier.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cases.case",
                    ),
                ),
                (
                    "exported_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["-exported_at", "-id"],
                "permissions": [("export_dossier", "Can export referral dossiers")],
                "indexes": [models.Index(fields=["case", "exported_at"], name="dossierexport_case_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("subject_kind", "case"), _negated=True), ("case__isnull", False), _connector="OR"
                        ),
                        name="dossierexport_case_has_case",
                    )
                ],
            },
        ),
        migrations.RunPython(
            lambda apps, editor: _grant(apps, editor, add=True),
            lambda apps, editor: _grant(apps, editor, add=False),
        ),
    ]
