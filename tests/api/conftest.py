"""Fixtures of the API tests: tokens and clients that act in a brand with a role."""

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from brands.choices import Role
from brands.models import BrandMembership
from tests import factories
from tests.api_harness import token_client


@pytest.fixture
def api_for() -> Callable[..., APIClient]:
    """api_for(user, brand) → an APIClient with a fresh token of the user's membership in the brand."""

    def make(user, brand) -> APIClient:
        return token_client(BrandMembership.objects.get(user=user, brand=brand))

    return make


@pytest.fixture
def owner_api(api_for, owner, brand) -> APIClient:
    return api_for(owner, brand)


@pytest.fixture
def reporter_api(api_for, reporter, brand) -> APIClient:
    return api_for(reporter, brand)


@pytest.fixture
def expedited(brand):
    """Make `brand` a MarketSafe member: its notices need no evidence for reasons visible on the listing."""
    return factories.ProgramMembershipFactory(brand=brand)


@pytest.fixture
def viewer(member_of):
    return member_of(Role.VIEWER)
