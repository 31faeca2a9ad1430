"""Who takes part in quality audits (issue 18, point 4).

- Quality auditors (a new group): the blind audit queue and the report; they re-decide sampled items
  (`audit_audititem`). The service refuses an auditor's own decisions.
- Moderation leads: the queue and the report, and they resolve disagreements (`resolve_audititem`).
"""

from importlib import import_module

from django.db import migrations

QUALITY_AUDITORS = "Quality auditors"
MODERATION_LEADS = "Moderation leads"
_READ = (("safeguards", "view_audititem"), ("safeguards", "view_auditround"))
GRANTED = {
    QUALITY_AUDITORS: (*_READ, ("safeguards", "audit_audititem")),
    MODERATION_LEADS: (*_READ, ("safeguards", "resolve_audititem")),
}


def _apply(apps, schema_editor, *, add):
    staff = import_module("safeguards.migrations.0002_staff_permissions")
    staff._apply(apps, schema_editor, add=add, granted=GRANTED)


class Migration(migrations.Migration):
    dependencies = [("safeguards", "0003_audits")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: _apply(apps, editor, add=True),
            lambda apps, editor: _apply(apps, editor, add=False),
        )
    ]
