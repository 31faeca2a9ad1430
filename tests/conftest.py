"""Fixtures shared by the whole suite: a brand with a member of every role, a second brand, a
marketplace with listings, a moderator, a way to file cases through the real service, and the delisting
engine's lock checks, off or isolated per test."""

import secrets
from collections.abc import Callable
from contextlib import suppress

import pytest
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

from brands.choices import Role
from cases import services as case_services
from cases.models import Case
from cases.views.lists import FILTER_CHOICES_VERSION_KEY
from core.api.throttling import CACHE_UNREACHABLE
from core.tasks import send_email
from listings import delisting
from listings.delisting import chunks
from tests import factories, workers

#: `own_redis`, a Redis server a test may stop and start (broker and cache outages).
pytest_plugins = ["tests.outages"]


@pytest.fixture(autouse=True)
def _integration_marker(request, monkeypatch):
    """Lets `tests.workers.running_worker` refuse to start in a test not marked `integration`."""
    monkeypatch.setattr(workers, "integration_test", request.node.get_closest_marker("integration") is not None)


@pytest.fixture(autouse=True)
def _fresh_list_filter_fragments():
    """The lists' cached filter forms (cases/views/lists.py) of an earlier test or run are not reused: ids
    restart with a new test database, while the cache outlives it."""
    with suppress(*CACHE_UNREACHABLE):
        cache.set(FILTER_CHOICES_VERSION_KEY, secrets.randbelow(2**62), timeout=None)


@pytest.fixture(autouse=True)
def _mail_sent_in_process(request, monkeypatch):
    """Outside integration tests, an e-mail handed to the worker (`core.mail.mail_on_commit`) is sent in this
    process when it is published, so a test reads it in `mail.outbox` without a worker. Integration tests
    publish it to the real broker for a real worker (tests/core/test_mail.py)."""
    if request.node.get_closest_marker("integration") is None:
        monkeypatch.setattr(send_email, "apply_async", lambda args=(), kwargs=None, **_: send_email.apply(args, kwargs))


@pytest.fixture
def no_lock_checks(monkeypatch):
    """The delisting engine without registered lock checks (cases registers its dispute check in its
    AppConfig): for tests of the engine on its own. A check a test registers is gone after it."""
    monkeypatch.setattr(delisting, "_lock_checks", [])


@pytest.fixture
def lock_checks(monkeypatch) -> list:
    """The registered lock checks, on as in production; a check a test registers is gone after it."""
    checks = list(delisting._lock_checks)
    monkeypatch.setattr(delisting, "_lock_checks", checks)
    return checks


@pytest.fixture
def claimant():
    """claimant(chunk_id) → a database session holding a delisting chunk's claim lock, as a live worker
    does; `.close()` it to end the session as a dead worker's ends. All are closed after the test."""
    sessions = []

    def hold(chunk_id: int):
        session = connections.create_connection(DEFAULT_DB_ALIAS)
        sessions.append(session)
        with session.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [chunks.claim_key(chunk_id)])
        return session

    yield hold
    for session in sessions:
        session.close()


@pytest.fixture
def brand():
    return factories.BrandFactory(name="Acme Leather", slug="acme")


@pytest.fixture
def other_brand():
    return factories.BrandFactory(name="Globex Watches", slug="globex")


@pytest.fixture
def member_of(brand) -> Callable:
    """member_of(role, brand=...) → a user with that role in the brand."""

    def make(role: str = Role.OWNER, of=None):
        return factories.MembershipFactory(brand=of or brand, role=role).user

    return make


@pytest.fixture
def owner(member_of):
    return member_of(Role.OWNER)


@pytest.fixture
def reporter(member_of):
    return member_of(Role.REPORTER)


@pytest.fixture
def moderator():
    return factories.UserFactory(username="moderator", is_staff=True)


@pytest.fixture
def lead():
    return factories.UserFactory(username="lead", is_staff=True)


@pytest.fixture
def marketplace():
    return factories.MarketplaceFactory(name="ShopNow", slug="shopnow", hosts=["shopnow.example"])


@pytest.fixture
def right(brand):
    return factories.IPRightFactory(brand=brand)


@pytest.fixture
def file_case(brand, reporter, right, marketplace) -> Callable[..., Case]:
    """file_case(n=1, **overrides) → a case filed through `case_submit` with n listing URLs."""
    counter = iter(range(1, 1_000_000))

    def make(n: int = 1, **overrides) -> Case:
        urls = [f"https://shopnow.example/item/X{next(counter)}" for _ in range(n)]
        kwargs = {
            "brand": brand,
            "actor": reporter,
            "rights": [right],
            "listing_urls": urls,
            "ip_address": "192.0.2.10",
        } | overrides
        return case_services.case_submit(request=factories.filing_request(**kwargs))

    return make
