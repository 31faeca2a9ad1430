"""Fixtures of the seller networks' tests: staff in the moderation groups, and a marketplace's service token and
API client (the platform's)."""

from importlib import import_module

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from tests import factories

# The platform API's client and its token, for the seller upsert with identifiers.
from tests.integrations.conftest import api, staff_user, token  # noqa: F401
from tests.safeguards.groups import _state, make_staff_groups

NETWORK_PERMISSIONS = ("investigations", "0002_networks")


def make_network_groups() -> None:
    """The staff groups with the networks' permissions, as the migrations make them (idempotent): a
    transactional test (the browser's) empties every table, groups too."""
    make_staff_groups()
    with connection.schema_editor() as editor:
        module = import_module(f"{NETWORK_PERMISSIONS[0]}.migrations.{NETWORK_PERMISSIONS[1]}")
        module._grant(_state(NETWORK_PERMISSIONS), editor, add=True)


@pytest.fixture
def staff(db):
    """staff(group, username) → a staff user in that staff group."""
    make_network_groups()

    def make(group: str, username: str):
        user = factories.UserFactory(username=username, is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        return user

    return make
