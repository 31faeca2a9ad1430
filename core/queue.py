"""Handing committed work to Celery without making the request depend on the broker, and retrying a task
that met a database outage.

PostgreSQL is the source of truth: every task sent from a request acts on rows that the request's
transaction committed (webhook deliveries, filing drafts), and a periodic sweep re-sends from those rows
whatever the broker never got. So a message that cannot be published is not an error of the request:
`send_on_commit` publishes after the commit and, when the broker is unreachable, logs a warning and
leaves the work to the sweep instead of raising out of the commit (which answered 500 for a decision
that was saved).

Publishing is kept short so an outage does not hold the request: a bounded retry here, and the broker's
`socket_connect_timeout` in `CELERY_BROKER_TRANSPORT_OPTIONS` for a host that does not answer at all.

On the worker's side, `RETRY_ON_DATABASE_ERRORS` are the `shared_task` options of every task that does
real work: a database that is down or restarting makes the task retry with back-off (up to about a quarter
of an hour; the sweeps take over after that) instead of failing the message; the tasks are idempotent, so
a retry after a half-done attempt is safe.
"""

import logging
import time
from functools import partial
from typing import Any

import redis.exceptions
from celery import Task, current_app
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerOperationalError

logger = logging.getLogger(__name__)

#: What publishing raises when the broker cannot be reached: kombu wraps the transport's connection
#: errors in its OperationalError; the raw ones are listed for a transport that does not.
BROKER_UNREACHABLE: tuple[type[BaseException], ...] = (
    BrokerOperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,  # the built-in one: a socket refused or reset
    TimeoutError,
)

#: One quick second try (a broker restarting), then the sweep's turn: about half a second at most on a
#: refused connection.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.2}


#: What a task meets when PostgreSQL is down, restarting or dropped its connection (Django's wrappers).
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)

#: `@shared_task(**RETRY_ON_DATABASE_ERRORS)`: back-off 1, 2, 4 … 60 s (with jitter), 20 retries.
RETRY_ON_DATABASE_ERRORS: dict[str, Any] = {
    "autoretry_for": DATABASE_UNAVAILABLE,
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 20,
}


def send(task: Task, *args: Any, **kwargs: Any) -> bool:
    """Publish `task(*args, **kwargs)` now; False (with a warning logged) when the broker is unreachable."""
    try:
        task.apply_async(args, kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except BROKER_UNREACHABLE as exc:
        logger.warning(
            "Broker unreachable, %s%r not sent; the sweep will send it from the database: %s",
            task.name,
            args,
            exc,
        )
        return False
    return True


def send_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Publish `task(*args, **kwargs)` once the current transaction commits (at once outside one).

    Only for work the sweep can find again in the committed rows: a broker outage is logged, not raised.
    """
    transaction.on_commit(partial(send, task, *args, **kwargs))


#: How long one answer of `broker_reachable` is reused: a page polled every two seconds by several people
#: costs one connection attempt per process every few seconds, however many look.
BROKER_CHECK_SECONDS = 5.0
#: How long `broker_reachable` waits for the broker: a host that does not answer is "unreachable" for the
#: page rather than a page that hangs.
BROKER_CHECK_TIMEOUT = 1.0
_broker_checks: dict[str, tuple[float, bool]] = {}  # broker URL → (monotonic time checked, reachable)


def broker_reachable() -> bool:
    """Whether the Celery broker answers now (one connection attempt with a short timeout, the answer
    kept BROKER_CHECK_SECONDS per process and broker URL): for pages that say why work waits."""
    url = current_app.conf.broker_url
    checked = _broker_checks.get(url)
    if checked and time.monotonic() - checked[0] < BROKER_CHECK_SECONDS:
        return checked[1]
    try:
        with current_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_CHECK_TIMEOUT)
        reachable = True
    except Exception as exc:  # whatever the transport raises, the answer is the same: not reachable now
        logger.warning("Broker unreachable (checked for a page): %s", exc)
        reachable = False
    _broker_checks[url] = (time.monotonic(), reachable)
    return reachable
