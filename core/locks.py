"""Keeping periodic work from overlapping: a PostgreSQL session-level advisory lock per task name.

Beat may fire a task again while the previous run is still going (a slow run, or two beat processes);
the second run sees the lock taken and does nothing. PostgreSQL releases the lock if the connection dies,
so a killed worker never leaves it behind.
"""

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def lock_key(name: str) -> int:
    """The advisory lock number of `name`: stable across processes and releases."""
    return zlib.crc32(name.encode())


@contextmanager
def run_exclusively(name: str) -> Iterator[bool]:
    """`with run_exclusively("task name") as acquired:` — `acquired` is False when another run holds it."""
    key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def claim_is_free(name: str) -> bool:
    """Whether no session holds `name`'s lock: a run that held it has finished or its worker died (the
    lock is taken and let go at once, so it cannot stop the run it is asked about from starting)."""
    key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        free = bool(cursor.fetchone()[0])
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    return free
