"""Fixtures of the API tests: tokens and clients that act in a brand with a role."""

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from brands.choices import Role
from brands.models import BrandMembership
from tests import factories
from tests.api_harness import token_client


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Each API test starts with no request counted by the throttles: they count in Redis, which outlives a
    test (and a run), and a test sending many requests from the test client's address (schemathesis, the
    lockout tests) would otherwise throttle the next one. Only the throttles' keys go: the same Redis holds
    the broker's queues."""
    client = cache._cache.get_client(write=True)
    prefix = cache.make_key("throttle_")
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


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
