"""Fixtures of the seller networks' tests: staff in the moderation groups, and a marketplace's service token and
API client (the platform's)."""

import pytest
from django.contrib.auth.models import Group

from tests import factories

# The platform API's client and its token, for the seller upsert with identifiers.
from tests.integrations.conftest import api, staff_user, token  # noqa: F401


@pytest.fixture
def staff(db):
    """staff(group, username) → a staff user in that staff group (created by the migrations)."""

    def make(group: str, username: str):
        user = factories.UserFactory(username=username, is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        return user

    return make
