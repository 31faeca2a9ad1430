"""The staff groups with the safeguards' permissions, as their migrations make them: for tests that need
them after a transactional test emptied every table (groups too)."""

from functools import cache
from importlib import import_module

from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from tests import factories

GROUPS = ("cases", "0004_staff_groups")
PERMISSIONS = ("safeguards", "0002_staff_permissions")
AUDIT_PERMISSIONS = ("safeguards", "0004_audit_permissions")


@cache
def _state(target: tuple[str, str]):
    return MigrationLoader(None, ignore_no_migrations=True).project_state(target).apps


def make_staff_groups() -> None:
    """Run the staff groups' migrations again (idempotent), in the current transaction."""
    with connection.schema_editor() as editor:
        import_module(f"{GROUPS[0]}.migrations.{GROUPS[1]}").create_groups(_state(GROUPS), editor)
    make_safeguards_permissions()


def make_safeguards_permissions() -> None:
    """Run only the safeguards' group migrations again (they add the Quality auditors group)."""
    with connection.schema_editor() as editor:
        for target in (PERMISSIONS, AUDIT_PERMISSIONS):
            import_module(f"{target[0]}.migrations.{target[1]}")._apply(_state(target), editor, add=True)


def in_group(username: str, group: str):
    user = factories.UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user
