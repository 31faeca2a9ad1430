"""Fixtures of the integration tests: a marketplace's service token and API client, the settings that
let webhooks reach the local receiver, and the receiver itself."""

from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from integrations import services
from tests import factories
from tests.integrations.receiver import Receiver, local_receiver


@pytest.fixture
def webhook_settings(settings):
    """Webhooks may call 127.0.0.1 over http (the production defaults refuse both); fast retries."""
    settings.MARKETSAFE = {
        **settings.MARKETSAFE,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True,
        "WEBHOOK_REQUIRE_HTTPS": False,
        "WEBHOOK_BACKOFF_SECONDS": 1,
        "WEBHOOK_READ_TIMEOUT": 1.0,
        "WEBHOOK_MAX_ATTEMPTS": 3,
    }
    return settings


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with local_receiver() as running:
        yield running


@pytest.fixture
def staff_user():
    return factories.UserFactory(username="integrator", is_staff=True, is_superuser=True)


@pytest.fixture
def token(marketplace, staff_user) -> str:
    return services.service_token_create(marketplace=marketplace, name="catalogue sync", actor=staff_user)[1]


@pytest.fixture
def api(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def other_marketplace():
    return factories.MarketplaceFactory(name="BuyMore", slug="buymore", hosts=["buymore.example"])


@pytest.fixture
def other_api(other_marketplace, staff_user) -> APIClient:
    raw = services.service_token_create(marketplace=other_marketplace, name="other", actor=staff_user)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
