"""Fixtures of the risk rules' tests: staff in the real groups (created by migration), and rules saved
through the real service."""

from collections.abc import Callable
from functools import cache
from importlib import import_module

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from safeguards.models import Rule
from safeguards.services.rules import rule_save
from tests import factories

GROUPS = ("cases", "0004_staff_groups")
PERMISSIONS = ("safeguards", "0002_staff_permissions")
AUDIT_PERMISSIONS = ("safeguards", "0004_audit_permissions")


@cache
def _state(target: tuple[str, str]):
    return MigrationLoader(None, ignore_no_migrations=True).project_state(target).apps


@pytest.fixture(autouse=True)
def staff_groups(request) -> None:
    """The staff groups with the risk rules' permissions, as their migrations make them, run again in this
    test's transaction: a transactional test (a Celery worker) empties every table when it ends, groups too."""
    if "db" not in request.fixturenames and request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    make_staff_groups()


def make_staff_groups() -> None:
    """Run the staff groups' migrations again (idempotent), in the current transaction."""
    with connection.schema_editor() as editor:
        import_module(f"{GROUPS[0]}.migrations.{GROUPS[1]}").create_groups(_state(GROUPS), editor)
        for target in (PERMISSIONS, AUDIT_PERMISSIONS):
            import_module(f"{target[0]}.migrations.{target[1]}")._apply(_state(target), editor, add=True)


def in_group(username: str, group: str):
    user = factories.UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def rules_lead(db):
    return in_group("rules-lead", "Moderation leads")


@pytest.fixture
def second_lead(db):
    return in_group("second-lead", "Moderation leads")


@pytest.fixture
def rules_moderator(db):
    return in_group("rules-moderator", "Moderators")


@pytest.fixture
def auditor(db):
    return in_group("auditor", "Quality auditors")


@pytest.fixture
def make_rule(rules_lead) -> Callable[..., Rule]:
    counter = iter(range(1, 10_000))

    def make(expression: str, action: str = "flag", mode: str = "live", **fields) -> Rule:
        return rule_save(
            actor=rules_lead,
            name=fields.pop("name", f"rule {next(counter)}"),
            expression=expression,
            action=action,
            mode=mode,
            reason=fields.pop("reason", "Checked by a person"),
            **fields,
        )

    return make
