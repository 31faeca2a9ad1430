"""The nightly accuracy check's columns on memberships, and the program report's permission, granted to
the "Association reviewers" group (created by cases.0004_staff_groups) like its other permissions."""

from django.db import migrations, models

REVIEWERS = "Association reviewers"
REPORT_PERMISSION = ("view_program_report", "Can view the MarketSafe program report")


def grant_report_permission(apps, schema_editor):
    """The permission is normally created after `migrate`; create it now so the group can hold it."""
    using = schema_editor.connection.alias
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.using(using).get_or_create(app_label="brands", model="programmembership")
    permission, _ = Permission.objects.using(using).get_or_create(
        content_type=content_type, codename=REPORT_PERMISSION[0], defaults={"name": REPORT_PERMISSION[1]}
    )
    group, _ = Group.objects.using(using).get_or_create(name=REVIEWERS)
    group.permissions.add(permission)


def revoke_report_permission(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.using(schema_editor.connection.alias).filter(
        content_type__app_label="brands", codename=REPORT_PERMISSION[0]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0002_invitation"),
        ("cases", "0004_staff_groups"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="programmembership",
            options={
                "ordering": ["-started_at"],
                "permissions": [("view_program_report", "Can view the MarketSafe program report")],
            },
        ),
        migrations.AddField(
            model_name="programmembership",
            name="accuracy_note",
            field=models.TextField(blank=True, help_text="The figures behind the last warning or suspension."),
        ),
        migrations.AddField(
            model_name="programmembership",
            name="below_thresholds_since",
            field=models.DateTimeField(
                blank=True, help_text="Since when the accuracy has been below a threshold without a break.", null=True
            ),
        ),
        migrations.AddField(
            model_name="programmembership",
            name="checked_on",
            field=models.DateField(blank=True, help_text="The last night the accuracy was checked.", null=True),
        ),
        migrations.AddField(
            model_name="programmembership",
            name="renewal_reminder_days",
            field=models.PositiveSmallIntegerField(
                blank=True, help_text="The last renewal reminder sent, in days before the renewal date.", null=True
            ),
        ),
        migrations.RunPython(grant_report_permission, revoke_report_permission),
    ]
