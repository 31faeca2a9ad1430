"""The harness's own checks: waits fail with what they waited for, and pytest-xdist workers never share
a Redis database (each has its own cache and Celery broker, as it has its own test database)."""

import os
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

from marketsafe.celery import app
from tests.workers import poll, wait_until


def test_wait_until_fails_naming_what_it_waited_for():
    assert poll(lambda: True, timeout=0)
    assert not poll(lambda: False, timeout=0.05, interval=0.01)
    with pytest.raises(AssertionError, match="waiting for the impossible"):
        wait_until(lambda: False, "the impossible", timeout=0.05, interval=0.01)


@pytest.mark.django_db
@pytest.mark.skipif(not os.environ.get("PYTEST_XDIST_WORKER"), reason="runs under pytest-xdist")
def test_each_xdist_worker_has_its_own_database_and_redis_database():
    number = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    assert connection.settings_dict["NAME"].endswith(f"_gw{number}")
    own = f"/{number + 1}"
    assert urlsplit(app.conf.broker_url).path == own
    assert urlsplit(settings.CACHES["default"]["LOCATION"]).path == own
