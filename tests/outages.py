"""A Redis server of a test's own, to stop and start again: how tests cause a broker or cache outage.

The suite's shared Redis keeps running; the test points the Celery broker (`broker_at`) or the cache
(Django's `settings` fixture) at this one, then stops it for real: nothing stands in for Redis.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen

import pytest
import redis

from devtools.devenv import free_port, start_redis, stop_redis
from marketsafe.celery import app
from tests.workers import drop_pooled_connections


@dataclass
class RedisServer:
    port: int
    directory: Path
    process: Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (again, on the same port and append-only file: what it held comes back)."""
        self.process = start_redis(self.port, self.directory)

    def stop(self) -> None:
        assert self.process is not None, "the test's Redis is not running"
        stop_redis(self.process.pid, self.process)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(port=free_port(), directory=tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
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
