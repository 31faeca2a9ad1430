"""A real Celery worker for integration tests: the project's app, in a thread of the test process, on
the real Redis. Messages that an earlier, interrupted run left in the queues are purged first, so a
test only ever sees its own work."""

from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker

from marketsafe.celery import app


@contextmanager
def running_worker(*, queues: list[str] | None = None, shutdown_timeout: float = 30) -> Iterator[None]:
    app.control.purge()
    options = {"queues": queues} if queues else {}
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=shutdown_timeout, **options):
        yield
