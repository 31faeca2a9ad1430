"""The risk rules' permissions of the staff groups (created by cases' 0004).

- Moderators read the rules, their versions and hits, backtests and second approvals.
- Moderation leads also write rules (add, change), start backtests (change), request held decisions
  (add a second approval) and approve another lead's request (approve_secondapproval).

Spelled out here, like cases' 0004, so the migration keeps doing what it did when the code changes later.
"""

from importlib import import_module

from django.db import migrations

MODERATORS = "Moderators"
MODERATION_LEADS = "Moderation leads"
_READ = tuple(
    ("safeguards", f"view_{model}") for model in ("rule", "ruleversion", "rulehit", "backtest", "secondapproval")
)
GRANTED = {
    MODERATORS: _READ,
    MODERATION_LEADS: (
        *_READ,
        ("safeguards", "add_rule"),
        ("safeguards", "change_rule"),
        ("safeguards", "add_secondapproval"),
        ("safeguards", "approve_secondapproval"),
    ),
}


def _apply(apps, schema_editor, *, add, granted=GRANTED):
    """Add (or remove) `granted` permissions to the named groups, creating a group that is missing."""
    using = schema_editor.connection.alias
    import_module("cases.migrations.0004_staff_groups").create_app_permissions(apps, "safeguards", using)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    by_codename = {
        perm.codename: perm for perm in Permission.objects.using(using).filter(content_type__app_label="safeguards")
    }
    for name, perms in granted.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        chosen = [by_codename[codename] for _, codename in perms]
        (group.permissions.add if add else group.permissions.remove)(*chosen)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_staff_groups"),
        ("safeguards", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, editor: _apply(apps, editor, add=True),
            lambda apps, editor: _apply(apps, editor, add=False),
        )
    ]
