"""Benchmark the delisting engine against plain SQL doing the same work on the same data, in one run.

    createdb marketsafe_bench
    python manage.py bench_delist --database-url postgres://USER@HOST/marketsafe_bench --listings 1000000

Rates only mean something next to a baseline measured on the same machine, data and moment (the machine
may be shared, PostgreSQL's caches warm up), so one run measures both:

1. seed N listings of one new seller with `listings.bulk.generate_listings` (COPY);
2. plain SQL: the seller's live listings in chunks of `--chunk-size`, each chunk one statement (lock the
   rows, update them, insert one audit event each, as the engine does), on `--workers` connections in
   parallel; then the listings are put back up with one plain UPDATE (their audit events stay). This runs
   three times: a warm-up, once before the engine and once after it;
3. engine: a seller job created through `delist_job_create`, run by a real `celery worker` subprocess
   with `--workers` pool processes, timed from the job row's creation to its completion (both stamps are
   the job row's, so polling adds nothing); the worker's resident memory is sampled meanwhile.

The last line printed is `ratio=<engine rate / SQL rate>`, the SQL rate being the mean of the runs before
and after the engine. Each pass leaves the table a little different (dead tuples, grown indexes); the first
pass over freshly loaded rows was 15% slower than the next ones (300,000 listings). The untimed warm-up
absorbs that, and bracketing the engine cancels a steady drift either way. Run it on a quiet machine all
the same: anything else busy during one run skews the ratio.

Safety: audit events are append-only (a trigger refuses DELETE), so every run leaves four events per
listing (one per pass) for good. The command therefore runs only on a database whose name ends with `_bench`, given by
`--database-url` or by DATABASE_URL, and migrates it first. The worker gets a private redis-server on a
free port (the embedded binary, as in development), so no other worker can take its messages and no
stray message from elsewhere can reach it.
"""

import itertools
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection
from django.db.models import Max, Min, Sum

from core.benchmarks import DATABASE_SUFFIX, use_scratch_database
from devtools import devenv
from listings import delisting
from listings.bulk import generate_listings
from listings.choices import (
    DELIST_JOB_FINISHED,
    LISTING_LIVE_STATUSES,
    DelistJobStatus,
    DelistSelectionKind,
    ListingStatus,
)
from listings.models import DelistChunk, DelistJob, Listing, Marketplace, Seller
from listings.tasks import plan_delist_job, process_delist_chunk

READY_TIMEOUT = 60.0  # seconds the worker gets to answer a ping
STALL_TIMEOUT = 300.0  # seconds without a finished chunk before the engine run is given up
STOP_TIMEOUT = 30.0  # seconds the worker gets for its warm shutdown
SAMPLE_EVERY = 0.1  # seconds between memory samples of the worker's processes
MIB = 1024 * 1024

REMOVE_SQL = """
WITH doomed AS (
    SELECT listing.id, listing.status
    FROM listings_listing AS listing
    WHERE listing.id BETWEEN %(first)s AND %(last)s
      AND listing.seller_id = %(seller)s AND listing.status = ANY(%(live)s)
    ORDER BY listing.id
    FOR UPDATE
),
removed AS (
    UPDATE listings_listing AS listing
    SET status = %(removed)s, status_changed_at = now()
    FROM doomed
    WHERE listing.id = doomed.id
    RETURNING listing.id, doomed.status AS old_status
)
INSERT INTO audit_auditevent
    (occurred_at, actor_id, automated, action, target_type_id, target_id, brand_id,
     from_state, to_state, reason, data)
SELECT now(), %(actor)s, true, 'listing.remove', %(listing_type)s, removed.id, NULL,
       removed.old_status, %(removed)s, %(reason)s, %(data)s::jsonb
FROM removed
"""


@dataclass
class Memory:
    """Resident set sizes in bytes, at rest and at peak, of the worker's main process and largest pool process."""

    idle_main: int = 0
    idle_pool: int = 0
    peak_main: int = 0
    peak_pool: int = 0


@dataclass(frozen=True)
class EngineRun:
    """What the engine run removed, how long it took from the job's creation, and how much of that planning."""

    rows: int
    seconds: float
    planning_seconds: float
    memory: Memory


class Command(BaseCommand):
    help = "Time a delisting job through a real worker against plain SQL on the same listings; prints the ratio."

    def add_arguments(self, parser: CommandParser) -> None:
        add_seed_arguments(parser, listings=1_000_000)  # the chunk size is plain SQL's too
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="worker pool processes, and connections of the plain-SQL run (default 2)",
        )
        parser.add_argument(
            "--small-jobs",
            type=int,
            default=0,
            help="after the large job, also run this many seller jobs at once (default 0: none)",
        )
        parser.add_argument(
            "--small-size", type=int, default=500, help="listings of each small job's seller (default 500)"
        )

    def handle(
        self,
        *args: Any,
        listings: int,
        chunk_size: int,
        workers: int,
        database_url: str | None,
        small_jobs: int,
        small_size: int,
        **options: Any,
    ) -> None:
        if listings < 1 or chunk_size < 1 or workers < 1 or small_jobs < 0 or small_size < 1:
            raise CommandError("--listings, --chunk-size, --workers and --small-size must be positive")
        database_url = use_scratch_database(database_url)
        call_command("migrate", interactive=False, verbosity=0)

        marketplace, seller_id = self._seed(listings)
        seeded_at = _database_now()
        live = Listing.objects.filter(seller_id=seller_id, status__in=LISTING_LIVE_STATUSES).count()
        self.stdout.write(f"{live:,} of them live: each run below removes those")
        actor, _ = get_user_model().objects.get_or_create(username="bench-delist")

        passes: list[tuple[int, float]] = []
        for label in ("warm-up", "sql before"):
            passes.append(self._plain_sql(seller_id, actor.pk, chunk_size, workers, label=label))
            _reset(seller_id, seeded_at)
        engine = self._engine(marketplace, seller_id, actor, database_url, chunk_size, workers)
        _reset(seller_id, seeded_at)
        passes.append(self._plain_sql(seller_id, actor.pk, chunk_size, workers, label="sql after"))
        if {rows for rows, _ in passes} != {engine.rows}:
            raise CommandError(
                f"plain SQL removed {[rows for rows, _ in passes]}, the engine {engine.rows}: not the same work"
            )

        warm_up, before, after = (rows / seconds for rows, seconds in passes)
        engine_rate, sql_rate = engine.rows / engine.seconds, (before + after) / 2
        chunk_rate = engine.rows / (engine.seconds - engine.planning_seconds)
        memory = engine.memory
        self.stdout.write(f"warm-up: {warm_up:,.0f} rows/s (first pass over fresh rows, not compared)")
        self.stdout.write(
            f"engine: {engine.rows:,} rows in {engine.seconds:.1f} s = {engine_rate:,.0f} rows/s "
            f"(planning {engine.planning_seconds:.1f} s, then chunks at {chunk_rate:,.0f} rows/s)"
        )
        self.stdout.write(
            f"worker RSS: main {memory.idle_main / MIB:.0f} MiB idle, {memory.peak_main / MIB:.0f} MiB peak; "
            f"largest pool process {memory.idle_pool / MIB:.0f} MiB idle, {memory.peak_pool / MIB:.0f} MiB peak"
        )
        self.stdout.write(
            f"sql: {engine.rows:,} rows at {before:,.0f} rows/s before the engine and {after:,.0f} after: "
            f"{sql_rate:,.0f} rows/s"
        )
        self.stdout.write(f"ratio={engine_rate / sql_rate:.2f}")
        if small_jobs:
            small_rate = self._small_jobs(small_jobs, small_size, actor, database_url, chunk_size, workers)
            self.stdout.write(
                f"small jobs: {small_rate:,.0f} rows/s, {small_rate / engine_rate:.2f} of the large job's rate"
            )

    def _seed(self, count: int) -> tuple[Marketplace, int]:
        return seed_seller(count, self.stdout)

    def _engine(
        self, marketplace: Marketplace, seller_id: int, actor: Any, database_url: str, chunk_size: int, workers: int
    ) -> EngineRun:
        with _engine_worker(database_url, chunk_size, workers) as worker:
            memory = Memory()
            memory.idle_main, memory.idle_pool = _resident(worker)
            with _sampling(worker, memory):
                self.stdout.write(f"engine: a seller job on a worker with {workers} pool processes")
                job = _seller_job(seller_id, actor, reason="Benchmark (engine).", key=f"bench-{marketplace.slug}")
                _wait_for(job, worker)
        job.refresh_from_db()
        if job.status != DelistJobStatus.COMPLETED:
            raise CommandError(f"the job ended {job.status}, see its chunks' last_error")
        rows = job.chunks.aggregate(removed=Sum("removed"))["removed"] or 0
        return EngineRun(
            rows=rows,
            seconds=(job.finished_at - job.created_at).total_seconds(),
            planning_seconds=(job.started_at - job.created_at).total_seconds(),
            memory=memory,
        )

    def _small_jobs(self, jobs: int, size: int, actor: Any, database_url: str, chunk_size: int, workers: int) -> float:
        """`jobs` sellers of `size` listings each, one seller job each, all created at once on the same kind
        of worker as the large job: rows removed per second from the first job's creation to the last
        job's end (what many small suspensions at once cost per listing)."""
        marketplace, seller_ids = seed_sellers(jobs * size, self.stdout, sellers=jobs)
        with _engine_worker(database_url, chunk_size, workers) as worker:
            self.stdout.write(f"small jobs: {len(seller_ids):,} seller jobs on a worker with {workers} pool processes")
            created = [
                _seller_job(
                    seller_id, actor, reason="Benchmark (small jobs).", key=f"bench-{marketplace.slug}-{seller_id}"
                )
                for seller_id in seller_ids
            ]
            for job in created:
                _wait_for(job, worker)
        finished = DelistJob.objects.filter(pk__in=[job.pk for job in created])
        if finished.exclude(status=DelistJobStatus.COMPLETED).exists():
            raise CommandError("a small job did not complete, see its chunks' last_error")
        span = finished.aggregate(first=Min("created_at"), last=Max("finished_at"))
        rows = DelistChunk.objects.filter(job__in=finished).aggregate(removed=Sum("removed"))["removed"] or 0
        seconds = (span["last"] - span["first"]).total_seconds()
        self.stdout.write(f"small jobs: {rows:,} rows in {seconds:.1f} s ({len(created)} jobs)")
        return rows / seconds

    def _plain_sql(
        self, seller_id: int, actor_id: int, chunk_size: int, workers: int, *, label: str
    ) -> tuple[int, float]:
        """Remove the seller's live listings in chunks of chunk_size on `workers` connections: (rows, seconds)."""
        _settle()
        ranges: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
        for chunk in _chunk_ranges(seller_id, chunk_size):
            ranges.put(chunk)
        params = {
            "seller": seller_id,
            "live": list(LISTING_LIVE_STATUSES),
            "removed": ListingStatus.REMOVED,
            "actor": actor_id,
            "listing_type": ContentType.objects.get_for_model(Listing).pk,
            "reason": "Benchmark (plain SQL).",
            "data": '{"benchmark": "sql"}',
        }
        self.stdout.write(f"{label}: plain SQL, chunks of {chunk_size:,} on {workers} connections")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_remove_ranges, ranges, params) for _ in range(workers)]
            rows = sum(future.result() for future in futures)
        return rows, time.monotonic() - started


def add_seed_arguments(parser: CommandParser, *, listings: int) -> None:
    """--listings, --chunk-size and --database-url, as every delisting benchmark takes them."""
    parser.add_argument("--listings", type=int, default=listings, help=f"listings to seed (default {listings:,})")
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=settings.MARKETSAFE.get("DELIST_CHUNK_SIZE", delisting.DEFAULT_CHUNK_SIZE),
        help="listings per chunk (default DELIST_CHUNK_SIZE)",
    )
    parser.add_argument(
        "--database-url",
        help=f"the scratch database, whose name must end with {DATABASE_SUFFIX} (default DATABASE_URL)",
    )


def seed_seller(count: int, stdout: Any) -> tuple[Marketplace, int]:
    """A new marketplace with one seller owning `count` new listings: the run's own, whatever ran before."""
    marketplace, (seller_id,) = seed_sellers(count, stdout, sellers=1)
    return marketplace, seller_id


def seed_sellers(count: int, stdout: Any, *, sellers: int) -> tuple[Marketplace, list[int]]:
    """A new marketplace with `sellers` sellers sharing `count` new listings; returns it and the seller ids."""
    tag = uuid.uuid4().hex[:12]
    marketplace = Marketplace.objects.create(
        name=f"Benchmark {tag}", slug=f"bench-{tag}", hosts=[f"bench-{tag}.example"], listing_id_pattern=""
    )
    stdout.write(f"seeding {count:,} listings of {sellers:,} seller(s)")
    started = time.monotonic()
    generate_listings(count=count, marketplaces=[marketplace], sellers_per_marketplace=sellers, stdout=stdout)
    stdout.write(f"seeded in {time.monotonic() - started:.1f} s")
    return marketplace, list(Seller.objects.filter(marketplace=marketplace).order_by("pk").values_list("pk", flat=True))


@contextmanager
def _engine_worker(database_url: str, chunk_size: int, workers: int) -> Iterator[psutil.Process]:
    """A settled database, a private broker and a worker with `workers` pool processes; yields the worker."""
    _settle()
    with tempfile.TemporaryDirectory(prefix="bench-delist-") as scratch:
        directory = Path(scratch)
        with (
            _private_broker(directory) as broker_url,
            _worker(
                directory / "worker.log",
                concurrency=workers,
                env={"DATABASE_URL": database_url, "REDIS_URL": broker_url, "DELIST_CHUNK_SIZE": str(chunk_size)},
            ) as worker,
        ):
            yield worker


def _seller_job(seller_id: int, actor: Any, *, reason: str, key: str) -> DelistJob:
    return delisting.delist_job_create(
        selection_kind=DelistSelectionKind.SELLER,
        selection={"seller_id": seller_id},
        actor=actor,
        reason=reason,
        idempotency_key=key,
        automated=True,
    )


def _settle() -> None:
    """Start each timed run alike: fresh statistics and visibility map, and no checkpoint debt."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) listings_listing, audit_auditevent")
        # Without it, whichever run a checkpoint falls into pays for it. Needs superuser or pg_checkpoint.
        with suppress(DatabaseError):
            cursor.execute("CHECKPOINT")


@contextmanager
def _private_broker(directory: Path) -> Iterator[str]:
    """A redis-server of our own, and the app's producers pointed at it; yields its URL."""
    app = current_app._get_current_object()
    port = devenv.free_port()
    server = devenv.start_redis(port, directory)
    url = f"redis://127.0.0.1:{port}/0"
    previous = app.conf.broker_url
    try:
        _use_broker(url)
        yield url
    finally:
        _use_broker(previous)
        devenv.stop_redis(server.pid, server)


def _use_broker(url: str) -> None:
    """Point the app's producers at url: drop the pooled connections, which are bound to the old broker."""
    app = current_app._get_current_object()
    if app._pool is not None:
        app._pool.force_close_all()
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def process_group(command: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`command` (a `celery` process) in a session of its own, its output appended to log; on exit a warm
    shutdown (SIGTERM), then SIGKILL to whatever of its group is left."""
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 (our own fixed command)
            command,
            cwd=settings.BASE_DIR,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT)
        # Pool processes left behind, if any. The group's id is the main process's pid, which the kernel does
        # not hand out again while any member of the group lives: this reaches the worker and nothing else.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def _worker(log: Path, *, concurrency: int, env: dict[str, str]) -> Iterator[psutil.Process]:
    """A `celery worker` subprocess on the delisting queues, ready when yielded, always stopped."""
    app = current_app._get_current_object()
    queues = sorted(
        {app.amqp.router.route({}, task.name)["queue"].name for task in (plan_delist_job, process_delist_chunk)}
    )
    command = [sys.executable, "-m", "celery", "-A", "marketsafe", "worker", "--pool", "prefork"]
    command += ["--concurrency", str(concurrency), "-Q", ",".join(queues), "-l", "info"]
    with process_group(command, log, env) as process:
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while not app.control.ping(timeout=0.5):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise CommandError("the worker did not start")
            yield psutil.Process(process.pid)
        except CommandError as error:
            raise CommandError(f"{error}; the worker's log ends with:\n{_tail(log)}") from error


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _resident(worker: psutil.Process) -> tuple[int, int]:
    """(RSS of the main process, largest RSS among its pool processes) right now."""
    pool = []
    for child in worker.children(recursive=True):
        with suppress(psutil.NoSuchProcess):
            pool.append(child.memory_info().rss)
    return worker.memory_info().rss, max(pool, default=0)


@contextmanager
def _sampling(worker: psutil.Process, memory: Memory) -> Iterator[None]:
    """Record the peak RSS of the worker's processes while the block runs (pool processes come and go)."""
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_EVERY):
            with suppress(psutil.NoSuchProcess):
                main, pool = _resident(worker)
                memory.peak_main = max(memory.peak_main, main)
                memory.peak_pool = max(memory.peak_pool, pool)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield
    finally:
        done.set()
        sampler.join()


def _wait_for(job: DelistJob, worker: psutil.Process) -> None:
    """Poll until the job is finished; give up if the worker dies or no chunk finishes for STALL_TIMEOUT."""
    last_progress, progress_at = -1, time.monotonic()
    while True:
        job.refresh_from_db(fields=["status"])
        if job.status in DELIST_JOB_FINISHED:
            return
        if not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE:
            raise CommandError("the worker exited before the job finished")
        progress = job.chunks.exclude(finished_at=None).count()
        if progress != last_progress:
            last_progress, progress_at = progress, time.monotonic()
        elif time.monotonic() - progress_at > STALL_TIMEOUT:
            raise CommandError(f"no chunk finished for {STALL_TIMEOUT:.0f} s")
        time.sleep(0.2)


def _database_now() -> datetime:
    """PostgreSQL's clock, the one that stamps status_changed_at."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


def _reset(seller_id: int, since: datetime) -> None:
    """Put the listings a run removed back up, in one plain UPDATE; their audit events stay.

    A run stamps status_changed_at with its transaction's time, later than `since` (taken after seeding);
    the listings generated as removed carry older stamps and stay removed.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE listings_listing
            SET status = %s, status_changed_at = NULL
            WHERE seller_id = %s AND status = %s AND status_changed_at >= %s
            """,
            [ListingStatus.ACTIVE, seller_id, ListingStatus.REMOVED, since],
        )


def _chunk_ranges(seller_id: int, size: int) -> list[tuple[int, int]]:
    """(first id, last id) ranges holding `size` of the seller's live listings each, as the planner cuts them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT numbered.id FROM (
                SELECT listing.id, row_number() OVER (ORDER BY listing.id) AS n
                FROM listings_listing AS listing
                WHERE listing.seller_id = %s AND listing.status = ANY(%s)
            ) AS numbered
            WHERE (numbered.n - 1) %% %s = 0
            ORDER BY numbered.id
            """,
            [seller_id, list(LISTING_LIVE_STATUSES), size],
        )
        starts = [first for (first,) in cursor.fetchall()]
    return [(first, following - 1) for first, following in itertools.pairwise([*starts, delisting.MAX_BIGINT + 1])]


def _remove_ranges(ranges: queue.SimpleQueue[tuple[int, int]], params: dict[str, Any]) -> int:
    """One plain-SQL connection: take ranges until none is left, one autocommitted statement each; rows removed."""
    rows = 0
    try:
        with connection.cursor() as cursor:
            while True:
                try:
                    first, last = ranges.get_nowait()
                except queue.Empty:
                    return rows
                cursor.execute(REMOVE_SQL, {**params, "first": first, "last": last})
                rows += cursor.rowcount
    finally:
        connection.close()  # this thread's own connection
