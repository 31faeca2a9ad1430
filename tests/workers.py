"""A real Celery worker for integration tests: the project's app, in a thread of the test process, on
the real Redis. Messages that an earlier, interrupted run left in the queues are purged first, so a
test only ever sees its own work."""

from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker
from kombu import pools

from marketsafe.celery import app


def drop_pooled_connections() -> None:
    """Forget the app's pooled broker connections: a stopped test worker closes the pool it shared with
    this process, and a later publish would fail with "Acquire on closed pool"."""
    pools.reset()  # kombu's process-wide registry would hand the closed pool back
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def running_worker(*, queues: list[str] | None = None, shutdown_timeout: float = 30) -> Iterator[None]:
    drop_pooled_connections()
    app.control.purge()
    options = {"queues": queues} if queues else {}
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=shutdown_timeout, **options):
            yield
    finally:
        drop_pooled_connections()
