"""Fixtures of the risk rules' tests: staff in the real groups (created by migration), and rules saved
through the real service."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group

from safeguards.models import Rule
from safeguards.services.rules import rule_save
from tests import factories


def _in_group(username: str, group: str):
    user = factories.UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def rules_lead(db):
    return _in_group("rules-lead", "Moderation leads")


@pytest.fixture
def second_lead(db):
    return _in_group("second-lead", "Moderation leads")


@pytest.fixture
def rules_moderator(db):
    return _in_group("rules-moderator", "Moderators")


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
