"""Delisting jobs survive a worker killed with SIGKILL and a Redis restart, with real processes.

Celery's in-process test worker cannot be killed without killing the test, so here the worker is a
`celery worker` subprocess (prefork pool, as in production) in its own session, and each test runs its
own redis-server with an append-only file, so a restart keeps the queued messages as the production
broker does. The worker uses the test database; the test process creates the job, publishes to the
private Redis and plays beat by calling the reaper.

To crash the worker in the middle of a chunk, not merely between two, the test holds a row lock on one
listing of a chunk from a second database connection: the worker blocks inside that chunk's transaction,
and the crash comes while PostgreSQL shows it waiting for the lock. Nothing is left to timing.

Every wait has a deadline, and subprocesses and servers are killed in finalizers whatever happens.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import psutil
import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count, Sum

from core.audit.models import AuditEvent
from devtools import devenv
from listings import delisting
from listings.choices import DELIST_JOB_FINISHED, DelistChunkState, DelistJobStatus, DelistSelectionKind
from listings.models import DelistJob, Listing
from listings.tasks import plan_delist_job, process_delist_chunk
from marketsafe.celery import app
from tests import factories
from tests.workers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LISTINGS = 3000
CHUNK_SIZE = 200
#: The chunk (1-based) whose transaction the worker is caught in when the crash comes.
HELD_CHUNK = 3
#: The reaper's "no progress for this long" and "not re-sent for this long", instead of thirty seconds.
REQUEUE_AFTER_SECONDS = 2
REAP_EVERY = 1.0  # seconds between the test's reaper runs (beat's is DELIST_REAP_SECONDS)
WAIT = 60  # seconds, for any one step to happen
FINISH_WITHIN = 120  # seconds, for the job to complete once the fault is over
STOP_TIMEOUT = 20  # seconds a worker gets for its warm shutdown before it is killed


class Worker:
    """`celery worker` in a session of its own, so that its pool children can be killed along with it."""

    def __init__(self, env: dict[str, str], queues: list[str], log: Path, name: str | None = None) -> None:
        self.log = log
        command = [sys.executable, "-m", "celery", "-A", "marketsafe", "worker"]
        options = ["--pool", "prefork", "--concurrency", "1", "-l", "info", "-Q", ",".join(queues)]
        if name:  # a host of its own: its node name, and its database sessions' application_name
            options += ["-n", f"{name}@%h"]
            env = {**env, "DATABASE_URL": _with_query(env["DATABASE_URL"], application_name=name)}
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [*command, *options],
                cwd=settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the main process and its pool children at once: no warm shutdown, no acks, no rejects."""
        # The group's id is the main process's pid, which the kernel does not hand out again while any
        # member of the group lives: this reaches the worker's processes and nothing else.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL for anything of the group still there (a hung child)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT)
        self.kill()

    def kill_child(self) -> None:
        """SIGKILL the pool process (the main process lives on, reports the loss and starts a new one)."""
        [child] = psutil.Process(self.process.pid).children()
        child.kill()
        child.wait(STOP_TIMEOUT)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def logged(self, text: str) -> int:
        return self.log.read_text(errors="replace").count(text)


def worker_database_url() -> str:
    """DATABASE_URL with the test database's name: the worker must read and write what the test sees."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return url._replace(path="/" + quote(connection.settings_dict["NAME"])).geturl()


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    return parts._replace(query="&".join(filter(None, [parts.query, urlencode(params)]))).geturl()


def _use_broker(url: str) -> None:
    """Point the app's producers at url: drop the pooled connections, which are bound to the old broker."""
    if app._pool is not None:
        app._pool.force_close_all()
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[devenv.RedisServer]:
    """A private Redis for one test, also receiving what the test process publishes; always stopped."""
    server = devenv.RedisServer(tmp_path / "redis")
    previous = app.conf.broker_url
    try:
        _use_broker(server.url)
        yield server
    finally:
        _use_broker(previous)
        server.stop()


@pytest.fixture
def start_worker(broker: devenv.RedisServer, tmp_path: Path, settings) -> Iterator[Callable[..., Worker]]:
    """start_worker(name=None) → a new worker subprocess on the test database and the private Redis, named
    `name@host` if given; all are stopped."""
    # Read by the reaper, which runs here; the worker reads its own settings from env.
    settings.MARKETSAFE = {**settings.MARKETSAFE, "DELIST_REQUEUE_AFTER_SECONDS": REQUEUE_AFTER_SECONDS}
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketsafe.settings",
        "MARKETSAFE_ENV": "development",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": broker.url,
        "DELIST_CHUNK_SIZE": str(CHUNK_SIZE),
        "PYTHONUNBUFFERED": "1",
    }
    queues = sorted(
        {app.amqp.router.route({}, task.name)["queue"].name for task in (plan_delist_job, process_delist_chunk)}
    )
    workers: list[Worker] = []

    def start(name: str | None = None) -> Worker:
        workers.append(Worker(env, queues, tmp_path / f"worker-{len(workers) + 1}.log", name))
        return workers[-1]

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture
def seller_listings() -> tuple[int, list[int]]:
    """(seller id, ids of its LISTINGS active listings, ascending)."""
    seller = factories.SellerFactory()
    host = seller.marketplace.hosts[0]
    listings = Listing.objects.bulk_create(
        Listing(marketplace=seller.marketplace, seller=seller, url=f"https://{host}/item/K{n}") for n in range(LISTINGS)
    )
    return seller.pk, sorted(listing.pk for listing in listings)


def in_held_chunk(listing_ids: list[int]) -> int:
    """A listing of the held chunk: chunks are cut from a seller's listings in id order."""
    return listing_ids[(HELD_CHUNK - 1) * CHUNK_SIZE + CHUNK_SIZE // 2]


class HeldListing:
    """A row lock on one listing, held from a database connection of its own until released.

    FOR NO KEY UPDATE, the lock an UPDATE of the listing takes: it blocks the chunk's FOR UPDATE but not
    the planner, which reads the seller's listings without locking them.
    """

    def __init__(self, listing_id: int) -> None:
        self.listing_id = listing_id
        self.holder = connections.create_connection(DEFAULT_DB_ALIAS)

    def __enter__(self) -> "HeldListing":
        try:
            self.holder.set_autocommit(False)
            with self.holder.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.backend = cursor.fetchone()[0]
                cursor.execute("SELECT id FROM listings_listing WHERE id = %s FOR NO KEY UPDATE", [self.listing_id])
        except BaseException:
            self.holder.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.holder.close()  # rolls back if still held

    def blocks_someone(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid)))", [self.backend]
            )
            return cursor.fetchone()[0]

    def release(self) -> None:
        self.holder.rollback()


def submit_job(seller_id: int, actor: Any) -> DelistJob:
    return delisting.delist_job_create(
        selection_kind=DelistSelectionKind.SELLER,
        selection={"seller_id": seller_id},
        actor=actor,
        reason="Seller suspended.",
        idempotency_key=f"crash-{seller_id}",
        automated=True,
    )


def caught_in_held_chunk(job: DelistJob, held: HeldListing) -> None:
    """Wait until the worker is mid-job and blocked by our lock inside the held chunk's transaction."""

    def held_chunk_blocked() -> bool:
        states = dict(job.chunks.values_list("seq", "state"))
        done = sum(state == DelistChunkState.DONE for state in states.values())
        return states.get(HELD_CHUNK) == DelistChunkState.RUNNING and done > 0 and held.blocks_someone()

    wait_until(held_chunk_blocked, f"the worker to block in chunk {HELD_CHUNK}", timeout=WAIT, interval=0.05)


def drive_to_completion(job: DelistJob, workers: list[Worker]) -> None:
    """Play beat (the reaper, every REAP_EVERY seconds) until the job is finished.

    No lease is shortened or expired: a dead claim is told from a live one by its claim lock alone."""
    deadline = time.monotonic() + FINISH_WITHIN
    next_reap = 0.0
    while DelistJob.objects.get(pk=job.pk).status not in DELIST_JOB_FINISHED:
        if time.monotonic() > deadline:
            chunks = list(job.chunks.order_by("seq").values_list("seq", "state", "attempts"))
            logs = "\n".join(f"--- {worker.log.name}\n{worker.tail()}" for worker in workers)
            pytest.fail(f"the job did not finish within {FINISH_WITHIN}s; chunks {chunks}\n{logs}")
        if time.monotonic() >= next_reap:
            delisting.delist_reap()
            next_reap = time.monotonic() + REAP_EVERY
        time.sleep(0.1)


def assert_each_listing_removed_once(job: DelistJob, listing_ids: list[int]) -> None:
    job.refresh_from_db()
    assert (job.status, job.total) == (DelistJobStatus.COMPLETED, LISTINGS)
    assert set(Listing.objects.filter(pk__in=listing_ids).values_list("status", flat=True)) == {"removed"}
    removals = (
        AuditEvent.objects.filter(action="listing.remove", target_id__in=listing_ids)
        .values_list("target_id")
        .annotate(n=Count("pk"))
    )
    assert dict(removals) == dict.fromkeys(listing_ids, 1)  # one each: none missing, none twice
    assert set(job.chunks.values_list("state", flat=True)) == {DelistChunkState.DONE}
    totals = job.chunks.aggregate(removed=Sum("removed"), skipped=Sum("skipped"), failed=Sum("failed"))
    assert totals == {"removed": LISTINGS, "skipped": 0, "failed": 0}


def crashed_mid_chunk(
    seller_id: int, listing_ids: list[int], actor: Any, crash: Callable[[], None]
) -> tuple[DelistJob, datetime]:
    """A job whose worker `crash()` hits while it is inside the held chunk's transaction, and the lease of
    the claim that died."""
    with HeldListing(in_held_chunk(listing_ids)) as held:
        job = submit_job(seller_id, actor)
        caught_in_held_chunk(job, held)
        dead_lease = job.chunks.get(seq=HELD_CHUNK).lease_until
        crash()
        # The killed process's backend still waits for our lock (or has noticed its client is gone and
        # ended); either way it rolls back. Nothing of the crashed attempt can commit.
        held.release()
    return job, dead_lease


def assert_taken_over_before_its_lease(job: DelistJob, dead_lease: datetime) -> None:
    """The held chunk's killed attempt counted and one more did the work, long before the killed claim's
    lease (DELIST_LEASE_SECONDS after its claim) lapsed: a dead claim, taken over as such."""
    assert job.chunks.get(seq=HELD_CHUNK).attempts == 2
    assert job.finished_at < dead_lease


def test_a_worker_killed_mid_chunk_is_replaced_and_the_job_completes_exactly_once(
    start_worker, seller_listings, moderator
):
    first = start_worker()
    job, dead_lease = crashed_mid_chunk(*seller_listings, moderator, first.kill)

    second = start_worker()
    drive_to_completion(job, [first, second])

    assert_each_listing_removed_once(job, seller_listings[1])
    assert_taken_over_before_its_lease(job, dead_lease)


def test_a_pool_process_killed_mid_chunk_has_its_claim_taken_over(start_worker, seller_listings, moderator):
    worker = start_worker()
    job, dead_lease = crashed_mid_chunk(*seller_listings, moderator, worker.kill_child)

    drive_to_completion(job, [worker])

    assert_each_listing_removed_once(job, seller_listings[1])
    assert_taken_over_before_its_lease(job, dead_lease)
    assert worker.process.poll() is None


def test_a_redis_restart_mid_job_loses_nothing_and_duplicates_nothing(broker, start_worker, seller_listings, moderator):
    seller_id, listing_ids = seller_listings
    worker = start_worker()
    with HeldListing(in_held_chunk(listing_ids)) as held:
        job = submit_job(seller_id, moderator)
        caught_in_held_chunk(job, held)
        broker.kill()
        time.sleep(1)  # an outage the worker notices: its next read fails
        broker.start()
        held.release()

    drive_to_completion(job, [worker])

    assert_each_listing_removed_once(job, listing_ids)
    assert worker.process.poll() is None, "the worker should have reconnected, not exited"
    # The broker outage did not cancel the running chunk: its one attempt finished it.
    assert job.chunks.get(seq=HELD_CHUNK).attempts == 1


class DatabaseOutage:
    """The test database refusing every connection but the test's own, as a stopped server would.

    The server itself cannot stop under the test process, so the outage is played inside it: new
    connections are refused (ALLOW_CONNECTIONS false) and every other session on the database is ended.
    The worker sees what it would see if PostgreSQL went away: broken connections, then refused ones.
    Run from the maintenance database (a database cannot refuse connections while one asks it to).
    """

    def _run(self, allow: bool) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            ours = cursor.fetchone()[0]
        name = connection.settings_dict["NAME"]
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allow).lower()}')
            if not allow:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                    [name, ours],
                )

    def __enter__(self) -> "DatabaseOutage":
        self._run(allow=False)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._run(allow=True)


def test_a_database_outage_makes_chunk_tasks_retry_instead_of_failing(start_worker, seller_listings, moderator):
    seller_id, listing_ids = seller_listings
    worker = start_worker()
    with HeldListing(in_held_chunk(listing_ids)) as held:
        job = submit_job(seller_id, moderator)
        caught_in_held_chunk(job, held)
        with DatabaseOutage():
            # Queued chunk messages are consumed during the outage: each fails to reach the database and
            # is retried with back-off, none is acknowledged as failed.
            wait_until(lambda: worker.logged("Retry in") >= 3, "chunk tasks to retry", timeout=WAIT)

    drive_to_completion(job, [worker])

    assert_each_listing_removed_once(job, listing_ids)
    assert worker.logged("OperationalError")
    assert worker.logged("raised unexpected") == 0, worker.tail()
