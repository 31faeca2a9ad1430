"""A real Celery worker for integration tests: the project's app, in a thread of the test process, on
the real Redis. Messages that an earlier, interrupted run left in the queues are purged first, so a
test only ever sees its own work.

And the one way a test waits for what a worker does: `wait_until` polls a condition with a deadline, so
a lost message fails the test with what it waited for instead of hanging it.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker
from django.conf import settings
from kombu import pools

from marketsafe.celery import app

#: Whether the running test is marked `integration` (set for each test by tests/conftest.py): a real worker
#: only runs in such a test, so `make test-fast` (-m "not integration") never starts one.
integration_test = False


def drop_pooled_connections() -> None:
    """Forget the app's pooled broker connections: a stopped test worker closes the pool it shared with
    this process, and a later publish would fail with "Acquire on closed pool"."""
    pools.reset()  # kombu's process-wide registry would hand the closed pool back
    app._pool = None
    app.amqp._producer_pool = None


def consume_every_queue() -> None:
    """Have the app consume (and purge) every declared queue again: a worker started with `queues` narrows
    the app's own queue selection, which would otherwise carry over to the next test's worker."""
    app.amqp.queues.select(list(settings.QUEUE_NAMES))


@contextmanager
def running_worker(*, queues: list[str] | None = None, shutdown_timeout: float = 30) -> Iterator[None]:
    assert integration_test, "a test that runs a real worker is marked @pytest.mark.integration"
    drop_pooled_connections()
    consume_every_queue()
    app.control.purge()
    options = {"queues": queues} if queues else {}
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=shutdown_timeout, **options):
            yield
    finally:
        consume_every_queue()
        drop_pooled_connections()


#: Seconds a test waits for any one thing a worker should do.
WAIT = 60


def poll(condition: Callable[[], object], *, timeout: float = WAIT, interval: float = 0.1) -> bool:
    """Call `condition` every `interval` seconds until it is true (→ True) or `timeout` passes (→ False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def wait_until(condition: Callable[[], object], what: str, *, timeout: float = WAIT, interval: float = 0.1) -> None:
    """Wait for `condition` to hold; fail the test naming `what` it waited for after `timeout` seconds."""
    assert poll(condition, timeout=timeout, interval=interval), f"timed out after {timeout}s waiting for {what}"
