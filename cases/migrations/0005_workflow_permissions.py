"""Permissions the moderation leads gained with issue 13's workflow fixes.

- `brands.verify_ipright`: verifying or refusing the brands' IP rights (the rights verification queue);
- `listings.add_penaltypolicy`: adding a repeat-infringer policy (they could change one, not add one).

Spelled out here, like 0004, so the migration keeps doing what it did when the code changes later.
Starting a delisting job from a list or a file needs `listings.add_delistjob` and `listings.change_delistjob`,
which the leads hold since 0004.
"""

from importlib import import_module

from django.db import migrations

MODERATION_LEADS = "Moderation leads"
ADDED = {MODERATION_LEADS: (("brands", "verify_ipright"), ("listings", "add_penaltypolicy"))}


def _permissions(apps, using):
    """The added permissions' rows, created first from the migration state if post_migrate has not run."""
    # 0004's helper, for the apps these permissions belong to (its module name starts with a digit).
    staff_groups = import_module("cases.migrations.0004_staff_groups")
    for label in sorted({app_label for perms in ADDED.values() for app_label, _ in perms}):
        staff_groups.create_app_permissions(apps, label, using)
    Permission = apps.get_model("auth", "Permission")
    return {
        (perm.content_type.app_label, perm.codename): perm
        for perm in Permission.objects.using(using)
        .select_related("content_type")
        .filter(codename__in={codename for perms in ADDED.values() for _, codename in perms})
    }


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    found = _permissions(apps, using)
    Group = apps.get_model("auth", "Group")
    for name, perms in ADDED.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*(found[perm] for perm in perms))


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    found = _permissions(apps, using)
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.using(using).filter(name__in=ADDED):
        group.permissions.remove(*(found[perm] for perm in ADDED[group.name]))


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0004_ipright_verification"),
        ("listings", "0005_delist_selection_kinds_registered"),
        ("cases", "0004_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
