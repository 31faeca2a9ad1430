"""Helpers for tests that run service calls concurrently, each thread with its own database connection."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from tests.workers import poll

TIMEOUT = 30  # seconds; a deadlock or a lock never released shows up as a thread still alive


def run_together(*calls: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run the calls in parallel threads released by one barrier; ("ok", result) or ("error", exc) each."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, Any]] = [("not run", None)] * len(calls)

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            outcomes[index] = ("ok", call())
        except Exception as exc:  # reported to the test, which asserts on it
            outcomes[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a service call hung (deadlock or stuck lock)"
    return outcomes


def wait_for_a_lock_wait(timeout: float = 10) -> bool:
    """Whether a session of this database waits for a lock within `timeout` seconds (it is then surely blocked)."""

    def a_session_waits() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
                " WHERE NOT granted AND datname = current_database()"
            )
            return bool(cursor.fetchone()[0])

    return poll(a_session_waits, timeout=timeout, interval=0.02)


@contextmanager
def held_in_another_session(take: Callable[[], Any]) -> Iterator[None]:
    """Inside the block, another database session holds what `take()` takes (a row lock inside a
    transaction, an advisory lock): as a request or a worker busy elsewhere would. Let go on leaving."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                take()
                taken.set()
                release.wait(TIMEOUT)
        finally:
            connection.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        assert taken.wait(10), "the other session could not take the lock"
        yield
    finally:
        release.set()
        holder.join(TIMEOUT)
