"""Fixtures of the risk rules' tests: staff in the real groups (created by migration), and rules saved
through the real service."""

from collections.abc import Callable

import pytest

from safeguards.models import Rule
from safeguards.services.rules import rule_save
from tests.safeguards.groups import in_group, make_staff_groups


@pytest.fixture(autouse=True)
def staff_groups(request) -> None:
    """The staff groups with the risk rules' permissions, as their migrations make them, run again in this
    test's transaction: a transactional test (a Celery worker) empties every table when it ends, groups too."""
    if "db" not in request.fixturenames and request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    make_staff_groups()


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
