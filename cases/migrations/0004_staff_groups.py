"""The deciding permissions of case items, and the three staff groups with exactly their permissions.

Groups are data that the admin's access rules depend on, so a migration creates them: every database
(production, a developer's, the test database) has them with the same permissions, and `seed_demo` only
puts the demo staff in them by name. The permission lists are spelled out here rather than imported, so
the migration keeps doing what it did when the app's code changes later.

- Moderators see everything a decision needs (cases and their items, listings and sellers, penalties,
  delisting jobs, brands' rights, the audit trail), decide reported listings and start delisting jobs.
- Moderation leads also decide appeals, pause, resume and cancel delisting jobs, and tune the
  repeat-infringer policy and the penalties it applied.
- Association reviewers work on MarketSafe applications and memberships and see the brands' rights they
  rely on: nothing of cases or listings, so case items stay out of their reach in the admin.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATORS = "Moderators"
MODERATION_LEADS = "Moderation leads"
ASSOCIATION_REVIEWERS = "Association reviewers"

_CASES_MODELS = (
    "case",
    "caseitem",
    "evidence",
    "declaration",
    "counternotice",
    "appeal",
    "statementofreasons",
    "casedraft",
)
_LISTINGS_MODELS = (
    "marketplace",
    "seller",
    "listing",
    "strike",
    "sellerpenalty",
    "penaltypolicy",
    "penaltythreshold",
    "delistjob",
    "delisttarget",
    "delistchunk",
)
_RIGHTS_MODELS = ("brand", "ipright", "iprightdocument")
_PROGRAM_MODELS = ("programapplication", "programmembership", "informationrequest", "applicationdocument")

_MODERATOR_PERMISSIONS = (
    *(("cases", f"view_{model}") for model in _CASES_MODELS),
    *(("listings", f"view_{model}") for model in _LISTINGS_MODELS),
    *(("brands", f"view_{model}") for model in _RIGHTS_MODELS),
    ("audit", "view_auditevent"),
    ("cases", "change_caseitem"),
    ("cases", "decide_caseitem"),
    # Starting a delisting job; pausing, resuming and cancelling one (change) is the leads'.
    ("listings", "add_delistjob"),
)

GROUP_PERMISSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    MODERATORS: _MODERATOR_PERMISSIONS,
    MODERATION_LEADS: (
        *_MODERATOR_PERMISSIONS,
        ("cases", "decide_appeal"),
        ("listings", "change_delistjob"),
        ("listings", "add_penaltythreshold"),
        ("listings", "change_penaltythreshold"),
        ("listings", "delete_penaltythreshold"),
        ("listings", "change_penaltypolicy"),
        ("listings", "change_sellerpenalty"),
    ),
    ASSOCIATION_REVIEWERS: (
        *(("brands", f"{action}_{model}") for model in _PROGRAM_MODELS for action in ("view", "change")),
        *(("brands", f"view_{model}") for model in _RIGHTS_MODELS),
    ),
}


def _create_missing_permissions(apps, using):
    """Permissions are normally created after `migrate` (post_migrate); on a fresh database they do not
    exist yet when this runs, so create them now from the migration state (idempotent)."""
    for label in sorted({app_label for perms in GROUP_PERMISSIONS.values() for app_label, _ in perms}):
        create_app_permissions(apps, label, using)


def create_app_permissions(apps, label, using):
    """Create the permissions of app `label` from the migration state (idempotent); 0005 uses it too."""
    app_config = apps.get_app_config(label)
    # The migration state's app configs have no models module, which create_permissions reads as
    # "this app has no models".
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    try:
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
    finally:
        app_config.models_module = models_module


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    _create_missing_permissions(apps, using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = {perm for perms in GROUP_PERMISSIONS.values() for perm in perms}
    found = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.using(using)
        .filter(codename__in={codename for _, codename in wanted})
        .values_list("pk", "content_type__app_label", "codename")
    }
    missing = wanted - found.keys()
    if missing:
        raise RuntimeError(f"Permissions not found: {sorted(missing)}")
    for name, perms in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set([found[perm] for perm in perms])


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("audit", "0002_occurred_at_brin"),
        ("brands", "0002_invitation"),
        ("listings", "0002_list_indexes"),
        ("cases", "0003_list_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="caseitem",
            options={
                "ordering": ["case", "id"],
                "permissions": [
                    ("decide_caseitem", "Can decide reported listings"),
                    ("decide_appeal", "Can decide appeals"),
                ],
            },
        ),
        migrations.RunPython(create_groups, remove_groups),
    ]
