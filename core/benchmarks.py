"""What the benchmark commands share (they print figures and never run in the suite; docs/performance.md).

- `use_scratch_database`: benchmarks seed rows they never delete (audit events cannot be deleted at all), so
  they run only on a database whose name ends with `_bench`, given by `--database-url` or DATABASE_URL.
- `page_queries` and `median_ms`: a page requested in process through Django's test client, counted and
  timed; a page that does not answer 200 stops the benchmark instead of timing an error.
"""

import os
import statistics
import time

import environ
from django.core.management.base import CommandError
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

DATABASE_SUFFIX = "_bench"


def use_scratch_database(url: str | None) -> str:
    """Switch to the database of url (if given) and return its URL; refuse any not named *_bench."""
    if url:
        parsed = environ.Env.db_url_config(url)
        connection.close()
        # Connections (this thread's and any a benchmark opens in its own threads) are built from this dict.
        connection.settings_dict.update(
            {"HOST": "", "PORT": "", "USER": "", "PASSWORD": "", "OPTIONS": {}} | parsed,
        )
    name = connection.settings_dict["NAME"]
    if not name.endswith(DATABASE_SUFFIX):
        raise CommandError(
            f"refusing to run on database {name!r}: benchmarks leave rows that can never be deleted (audit events), "
            f"so use a scratch database whose name ends with {DATABASE_SUFFIX} "
            f"(createdb marketsafe{DATABASE_SUFFIX}; --database-url or DATABASE_URL)"
        )
    return url or os.environ["DATABASE_URL"]


def page_queries(client: Client, url: str) -> int:
    """The queries one request of `url` runs; refuses a page that does not answer 200."""
    reset_queries()  # DEBUG keeps a log that each request clears: count from an empty one
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    if response.status_code != 200:
        raise CommandError(f"{url} answered {response.status_code}")
    return len(queries)


def median_ms(client: Client, url: str, repeat: int) -> float:
    """The median of `repeat` requests of `url`, in milliseconds, after one untimed request (caches, plans)."""
    page_queries(client, url)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)
