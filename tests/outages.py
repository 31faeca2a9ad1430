"""A Redis server of a test's own, to stop and start again: how tests cause a broker or cache outage.

The suite's shared Redis keeps running; the test points the Celery broker (`broker_at`) or the cache
(Django's `settings` fixture) at this one (`devtools.devenv.RedisServer`), then stops it for real:
nothing stands in for Redis.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from devtools.devenv import RedisServer
from marketsafe.celery import app
from tests.workers import drop_pooled_connections


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Publish Celery messages to the Redis at `url` inside the block."""
    previous = app.conf.broker_url
    app.conf.broker_url = url
    drop_pooled_connections()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        drop_pooled_connections()
