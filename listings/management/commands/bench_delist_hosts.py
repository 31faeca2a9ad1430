"""Delisting throughput with one, two and four worker processes (hosts) in one run, and the scaling ratio.

    createdb marketsafe_bench
    python manage.py bench_delist_hosts --database-url postgres://USER@HOST/marketsafe_bench --listings 150000

One invocation seeds one seller's listings once. Then, for each count of `--hosts` (default 1, 2, 4 and 1
again), it starts that many `celery worker` processes, each a node of its own (`-n benchN@%h`, prefork,
one pool process, consuming the delisting queue), as separate hosts would run them against the same
PostgreSQL and Redis; runs one seller job through them; stops them; and puts the listings back up
(bench_delist's reset). An untimed run with one worker comes first: the first pass over freshly loaded
rows is slower than the next ones (bench_delist).

For each run it prints rows/s over the whole job (its row's creation to its completion, planning
included) and over the chunks alone (planning is one task, which more hosts do not speed up), then each
count's chunk rate against the mean of the one-worker runs (`scaling=`). Running one worker first and last
brackets the others, so a steady drift of the machine shows as a difference between those two.

The worker processes share the machine with PostgreSQL and the command itself: on a machine with fewer
cores than hosts, the ratio says how far the engine gets out of the cores it has, not what separate
machines would reach.

Safety: as bench_delist (audit events are append-only): only a database whose name ends with `_bench`.
"""

import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from celery import current_app
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Sum

from core.benchmarks import use_scratch_database
from listings import delisting
from listings.choices import DelistJobStatus, DelistSelectionKind
from listings.management.commands.bench_delist import (
    READY_TIMEOUT,
    _database_now,
    _private_broker,
    _reset,
    _settle,
    _tail,
    _wait_for,
    add_seed_arguments,
    process_group,
    seed_seller,
)
from listings.tasks import process_delist_chunk

DEFAULT_HOSTS = "1,2,4,1"


@dataclass(frozen=True)
class HostsRun:
    hosts: int
    rows: int
    seconds: float
    planning_seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    @property
    def chunk_rate(self) -> float:
        return self.rows / (self.seconds - self.planning_seconds)


class Command(BaseCommand):
    help = "Delisting throughput with 1, 2 and 4 worker processes in one run; prints rows/s and scaling."

    def add_arguments(self, parser: CommandParser) -> None:
        add_seed_arguments(parser, listings=150_000)
        parser.add_argument("--hosts", default=DEFAULT_HOSTS, help=f"worker processes per run ({DEFAULT_HOSTS})")

    def handle(
        self, *args: Any, listings: int, chunk_size: int, hosts: str, database_url: str | None, **options: Any
    ) -> None:
        counts = [int(count) for count in hosts.split(",")]
        if listings < 1 or chunk_size < 1 or not counts or min(counts) < 1 or 1 not in counts:
            raise CommandError("--listings and --chunk-size must be positive, --hosts positive counts including 1")
        database_url = use_scratch_database(database_url)
        call_command("migrate", interactive=False, verbosity=0)
        marketplace, seller_id = seed_seller(listings, self.stdout)
        seeded_at = _database_now()
        actor, _ = get_user_model().objects.get_or_create(username="bench-delist")

        runs: list[HostsRun] = []
        with tempfile.TemporaryDirectory(prefix="bench-hosts-") as scratch, _private_broker(Path(scratch)) as broker:
            env = {"DATABASE_URL": database_url, "REDIS_URL": broker, "DELIST_CHUNK_SIZE": str(chunk_size)}
            for number, count in enumerate([1, *counts]):
                label = "warm-up" if number == 0 else f"run {number}"
                self.stdout.write(f"{label}: a seller job on {count} worker process(es)")
                key = f"bench-hosts-{marketplace.slug}-{number}"
                run = self._run(count, seller_id, actor, key, Path(scratch), env, number)
                _reset(seller_id, seeded_at)
                self.stdout.write(
                    f"{label}: {count} worker(s): {run.rows:,} rows in {run.seconds:.1f} s = {run.rate:,.0f} rows/s "
                    f"(planning {run.planning_seconds:.1f} s, then chunks at {run.chunk_rate:,.0f} rows/s)"
                )
                if number:
                    runs.append(run)
        if len({run.rows for run in runs}) != 1:
            raise CommandError(f"the runs removed different numbers of rows: {[run.rows for run in runs]}")
        single = [run.chunk_rate for run in runs if run.hosts == 1]
        baseline = sum(single) / len(single)
        self.stdout.write(
            f"one worker: chunks at {', '.join(f'{rate:,.0f}' for rate in single)} rows/s; baseline {baseline:,.0f}"
        )
        for count in sorted({run.hosts for run in runs} - {1}):
            rates = [run.chunk_rate for run in runs if run.hosts == count]
            rate = sum(rates) / len(rates)
            self.stdout.write(f"hosts={count} chunks={rate:,.0f} rows/s scaling={rate / baseline:.2f}")

    def _run(
        self, count: int, seller_id: int, actor: Any, key: str, directory: Path, env: dict[str, str], number: int
    ) -> HostsRun:
        _settle()
        queue = current_app.amqp.router.route({}, process_delist_chunk.name)["queue"].name
        with ExitStack() as stack:
            logs, processes = [], []
            for host in range(1, count + 1):
                logs.append(directory / f"run{number}-host{host}.log")
                command = [sys.executable, "-m", "celery", "-A", "marketsafe", "worker", "--pool", "prefork"]
                command += ["--concurrency", "1", "-Q", queue, "-n", f"bench{host}@%h", "-l", "info"]
                processes.append(stack.enter_context(process_group(command, logs[-1], env)))
            self._wait_for_nodes(count, logs)
            job = delisting.delist_job_create(
                selection_kind=DelistSelectionKind.SELLER,
                selection={"seller_id": seller_id},
                actor=actor,
                reason="Benchmark (hosts).",
                idempotency_key=key,
                automated=True,
            )
            _wait_for(job, psutil.Process(processes[0].pid))  # gives up if that host dies or nothing moves
        job.refresh_from_db()
        if job.status != DelistJobStatus.COMPLETED:
            raise CommandError(f"the job ended {job.status}, see its chunks' last_error")
        return HostsRun(
            hosts=count,
            rows=job.chunks.aggregate(removed=Sum("removed"))["removed"] or 0,
            seconds=(job.finished_at - job.created_at).total_seconds(),
            planning_seconds=(job.started_at - job.created_at).total_seconds(),
        )

    def _wait_for_nodes(self, count: int, logs: list[Path]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while len({node for reply in current_app.control.ping(timeout=0.5) for node in reply}) < count:
            if time.monotonic() > deadline:
                raise CommandError(f"{count} workers did not all start; last log:\n{_tail(logs[-1])}")
