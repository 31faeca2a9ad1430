"""Measure how fast a delisting job recovers from each fault operators will meet, and that it stays exact.

    createdb marketsafe_bench
    python manage.py bench_faults --database-url postgres://USER@HOST/marketsafe_bench --listings 150000

One invocation seeds one seller's listings once, then runs the same seller job once per fault on a real
`celery worker` (prefork, `--workers` pool processes) and a real `celery beat` (which sends the reaper every
DELIST_REAP_SECONDS), both on a private redis-server with an append-only file (as bench_delist does):

- `clean`: no fault; the baseline the others are compared with;
- `child-kill`: one pool process killed with SIGKILL once a third of the chunks are done;
- `worker-kill`: the worker's whole process group killed with SIGKILL at that point, and a new worker
  started `--restart-after` seconds later;
- `redis-restart`: the broker stopped gracefully and started again at once;
- `redis-down`: the broker killed with SIGKILL and started again `--outage` seconds later (its
  append-only file keeps what it had written);
- `postgres-down`: the embedded PostgreSQL server (devtools.devenv) stopped with a fast shutdown and
  started again `--outage` seconds later; skipped when the scratch database lives on another server.
  The restarted server is no longer the one devenv started, so it outlives the devenv session (the next
  session reuses it).

Between runs the listings are put back up (bench_delist's reset). For each run it prints the job's
duration (its row's creation to its completion) against the clean run's, the time from the fault clearing
to the job's end, how many chunks took more than one attempt, and the exactness check: the job completed,
removed = selected, no listing of the seller still live, and exactly one `listing.remove` audit event per
listing the job removed (none missing, none twice, none for a listing it did not remove).

Safety: as bench_delist (audit events are append-only): only a database whose name ends with `_bench`.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from core.benchmarks import use_scratch_database
from devtools import devenv
from listings import delisting
from listings.choices import DELIST_JOB_FINISHED, LISTING_LIVE_STATUSES, DelistJobStatus, DelistSelectionKind
from listings.management.commands.bench_delist import (
    STOP_TIMEOUT,
    _database_now,
    _reset,
    _settle,
    _tail,
    _use_broker,
    _worker,
    add_seed_arguments,
    process_group,
    seed_seller,
)
from listings.models import DelistJob, Listing

FAULTS = ("clean", "child-kill", "worker-kill", "redis-restart", "redis-down", "postgres-down")
FINISH_TIMEOUT = 900.0  # seconds a faulted job gets to finish before the run is reported as stalled
POLL_EVERY = 0.1  # seconds


@dataclass(frozen=True)
class Run:
    fault: str
    seconds: float | None  # None: did not finish within FINISH_TIMEOUT
    after_clear: float | None  # from the fault clearing to the job's end
    retaken: int  # chunks that took more than one attempt
    selected: int
    removed: int
    events: int
    event_listings: int
    unaudited: int  # removed listings without an event
    still_live: int
    status: str

    @property
    def exact(self) -> bool:
        return (
            self.status == DelistJobStatus.COMPLETED
            and self.removed == self.selected
            and self.events == self.event_listings == self.removed
            and self.unaudited == 0
            and self.still_live == 0
        )


class Rig:
    """The broker, beat and the current worker of one invocation; everything is stopped by `stack`."""

    def __init__(self, stack: ExitStack, directory: Path, env: dict[str, str], workers: int) -> None:
        self.stack, self.directory, self.env, self.workers = stack, directory, env, workers
        self.worker: psutil.Process | None = None
        self.started = 0

    def start_worker(self) -> None:
        self.started += 1
        log = self.directory / f"worker-{self.started}.log"
        self.worker = self.stack.enter_context(_worker(log, concurrency=self.workers, env=self.env))

    def kill_worker(self) -> None:
        """SIGKILL the worker's whole process group (its session, started by `_worker`)."""
        assert self.worker is not None
        with suppress(ProcessLookupError):
            os.killpg(self.worker.pid, signal.SIGKILL)
        with suppress(psutil.NoSuchProcess):
            self.worker.wait(STOP_TIMEOUT)

    def kill_child(self) -> None:
        assert self.worker is not None
        child = self.worker.children()[0]
        child.kill()
        child.wait(STOP_TIMEOUT)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{_tail(log)}" for log in sorted(self.directory.glob("*.log")))


def _beat(directory: Path, env: dict[str, str]) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """`celery beat` with the project's schedule (the reaper among it), always stopped."""
    command = [sys.executable, "-m", "celery", "-A", "marketsafe", "beat", "-l", "info"]
    command += ["-s", str(directory / "beat-schedule")]
    return process_group(command, directory / "beat.log", env)


def _on_embedded_postgres() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data_directory = Path(cursor.fetchone()[0])
    return data_directory.resolve() == devenv.embedded_pgdata().resolve()


class Command(BaseCommand):
    help = "Run a delisting job once per injected fault on a real worker; prints durations and exactness."

    def add_arguments(self, parser: CommandParser) -> None:
        add_seed_arguments(parser, listings=150_000)
        parser.add_argument("--workers", type=int, default=2, help="worker pool processes (default 2)")
        parser.add_argument("--outage", type=float, default=30.0, help="seconds Redis or PostgreSQL stay down")
        parser.add_argument(
            "--restart-after", type=float, default=8.0, help="seconds before a killed worker's successor starts"
        )
        parser.add_argument("--faults", default=",".join(FAULTS), help=f"runs, in order (default {','.join(FAULTS)})")

    def handle(self, *args: Any, **options: Any) -> None:
        faults = [fault.strip() for fault in options["faults"].split(",") if fault.strip()]
        if unknown := set(faults) - set(FAULTS):
            raise CommandError(f"unknown faults: {', '.join(sorted(unknown))}; choose from {', '.join(FAULTS)}")
        if "clean" not in faults:
            faults.insert(0, "clean")
        database_url = use_scratch_database(options["database_url"])
        call_command("migrate", interactive=False, verbosity=0)
        if "postgres-down" in faults and not _on_embedded_postgres():
            self.stdout.write("postgres-down skipped: the scratch database is not on the embedded server")
            faults.remove("postgres-down")

        marketplace, seller_id = seed_seller(options["listings"], self.stdout)
        seeded_at = _database_now()
        actor, _ = get_user_model().objects.get_or_create(username="bench-faults")
        self.outage, self.restart_after = options["outage"], options["restart_after"]

        runs: list[Run] = []
        with tempfile.TemporaryDirectory(prefix="bench-faults-") as scratch, ExitStack() as stack:
            directory = Path(scratch)
            broker = devenv.RedisServer(directory / "redis")
            stack.callback(broker.stop)
            _use_broker(broker.url)
            stack.callback(_use_broker, settings.CELERY_BROKER_URL)
            env = {"DATABASE_URL": database_url, "REDIS_URL": broker.url}
            env["DELIST_CHUNK_SIZE"] = str(options["chunk_size"])
            rig = Rig(stack, directory, env, options["workers"])
            rig.start_worker()
            stack.enter_context(_beat(directory, env))
            for number, fault in enumerate(faults, start=1):
                if number > 1:
                    _reset(seller_id, seeded_at)
                _settle()
                self.stdout.write(f"{fault}: a seller job of {options['listings']:,} listings")
                run = self._run(fault, rig, broker, seller_id, actor, f"{marketplace.slug}-{number}")
                runs.append(run)
                self.stdout.write(self._line(run, runs[0]))
                if run.seconds is None:
                    self.stdout.write(rig.logs())
                    break
        self._summary(runs)

    def _run(self, fault: str, rig: Rig, broker: devenv.RedisServer, seller_id: int, actor: Any, key: str) -> Run:
        job = delisting.delist_job_create(
            selection_kind=DelistSelectionKind.SELLER,
            selection={"seller_id": seller_id},
            actor=actor,
            reason=f"Benchmark (fault: {fault}).",
            idempotency_key=f"bench-faults-{key}",
            automated=True,
        )
        cleared: datetime | None = None
        if fault != "clean":
            self._wait_for_a_third(job)
            self.stdout.write(f"  injecting {fault}")
            cleared = self._inject(fault, rig, broker)
        finished = self._wait_for_end(job)
        job.refresh_from_db()
        return _measure(job, seller_id, fault, finished, cleared)

    def _inject(self, fault: str, rig: Rig, broker: devenv.RedisServer) -> datetime:
        """Inject the fault and return when it cleared (the system is whole again)."""
        injections: dict[str, Callable[[], None]] = {
            "child-kill": rig.kill_child,
            "worker-kill": lambda: (rig.kill_worker(), time.sleep(self.restart_after), rig.start_worker()),
            "redis-restart": lambda: (broker.stop(), broker.start()),
            "redis-down": lambda: (broker.kill(), time.sleep(self.outage), broker.start()),
            "postgres-down": self._postgres_down,
        }
        injections[fault]()
        return timezone.now()

    def _postgres_down(self) -> None:
        connection.close()
        socket_dir = devenv.stop_postgres()
        time.sleep(self.outage)
        devenv.start_postgres(socket_dir)

    def _wait_for_a_third(self, job: DelistJob) -> None:
        deadline = time.monotonic() + FINISH_TIMEOUT
        while True:
            job.refresh_from_db(fields=["status"])
            if job.status in DELIST_JOB_FINISHED:
                raise CommandError("the job finished before the fault could be injected: use more --listings")
            tally = job.chunks.aggregate(chunks=Count("pk"), done=Count("pk", filter=~Q(finished_at=None)))
            if job.status == DelistJobStatus.RUNNING and tally["done"] * 3 >= tally["chunks"] > 0:
                return
            if time.monotonic() > deadline:
                raise CommandError("the job did not get a third of the way")
            time.sleep(POLL_EVERY)

    def _wait_for_end(self, job: DelistJob) -> datetime | None:
        """The job's finished_at, or None if it did not finish within FINISH_TIMEOUT (the database may be
        coming back: connection errors are waited out)."""
        deadline = time.monotonic() + FINISH_TIMEOUT
        while time.monotonic() < deadline:
            try:
                job.refresh_from_db(fields=["status", "finished_at"])
                if job.status in DELIST_JOB_FINISHED:
                    return job.finished_at
            except (OperationalError, InterfaceError):
                connection.close()
            time.sleep(POLL_EVERY)
        return None

    def _line(self, run: Run, clean: Run) -> str:
        if run.seconds is None:
            return f"  {run.fault}: did NOT finish within {FINISH_TIMEOUT:.0f} s"
        versus = "baseline"
        if clean.seconds and run is not clean:
            versus = f"{run.seconds - clean.seconds:+.1f} s against clean"
        after = f", {run.after_clear:.1f} s from the fault clearing to the end" if run.after_clear is not None else ""
        return (
            f"  {run.fault}: {run.seconds:.1f} s ({versus}){after}; chunks retaken {run.retaken}; "
            f"removed {run.removed:,} of {run.selected:,} selected; {run.events:,} audit events for "
            f"{run.event_listings:,} listings, {run.unaudited} removed without one; still live {run.still_live}: "
            f"{'EXACT' if run.exact else 'NOT EXACT'} ({run.status})"
        )

    def _summary(self, runs: list[Run]) -> None:
        clean = runs[0].seconds
        self.stdout.write("| Fault | Job (s) | Against clean (s) | Fault cleared → end (s) | Chunks retaken | Exact |")
        self.stdout.write("|---|---|---|---|---|---|")
        for run in runs:
            seconds = f"{run.seconds:.1f}" if run.seconds is not None else "did not finish"
            versus = f"{run.seconds - clean:+.1f}" if run.seconds is not None and clean and run is not runs[0] else "—"
            after = f"{run.after_clear:.1f}" if run.after_clear is not None else "—"
            exact = "yes" if run.exact else "NO"
            self.stdout.write(f"| {run.fault} | {seconds} | {versus} | {after} | {run.retaken} | {exact} |")


def _measure(job: DelistJob, seller_id: int, fault: str, finished: datetime | None, cleared: datetime | None) -> Run:
    """What the job did, checked against the database: removals, their audit events, what is still live."""
    tally = job.chunks.aggregate(removed=Sum("removed"), retaken=Count("pk", filter=Q(attempts__gt=1)))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH removed AS (SELECT unnest(removed_ids) AS id FROM listings_delistchunk WHERE job_id = %(job)s),
            events AS (
                SELECT target_id AS id FROM audit_auditevent
                WHERE action = 'listing.remove' AND data = %(data)s::jsonb
            )
            SELECT (SELECT count(*) FROM events), (SELECT count(DISTINCT id) FROM events),
                   (SELECT count(*) FROM removed WHERE NOT EXISTS (SELECT FROM events WHERE events.id = removed.id))
            """,
            {"job": job.pk, "data": json.dumps({"delist_job": job.pk})},
        )
        events, event_listings, unaudited = cursor.fetchone()
    return Run(
        fault=fault,
        seconds=(finished - job.created_at).total_seconds() if finished else None,
        after_clear=(finished - cleared).total_seconds() if finished and cleared else None,
        retaken=tally["retaken"],
        selected=job.total,
        removed=tally["removed"] or 0,
        events=events,
        event_listings=event_listings,
        unaudited=unaudited,
        still_live=Listing.objects.filter(seller_id=seller_id, status__in=LISTING_LIVE_STATUSES).count(),
        status=job.status,
    )
