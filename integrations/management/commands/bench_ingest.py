"""Platform ingest throughput with one, two and four concurrent clients in one run, and the scaling ratio.

    createdb marketsafe_bench
    python manage.py bench_ingest --database-url postgres://USER@HOST/marketsafe_bench

A marketplace's system pushes its listings through `POST /api/v1/platform/listings/bulk/` (set-based
upserts, listings/upserts.py). This command serves the portal with gunicorn (deploy/gunicorn.conf.py,
production settings, `--server-workers` processes, the platform rate limit lifted), registers a new
marketplace with a service token and its sellers, then for each count of `--clients` (default 1, 2, 4 and 1
again) sends the same amount of work, `--batches` requests of `--rows` new listings each, from that many
client threads taking requests from one queue. Every response must be 200 with every row created.

It prints rows/s per run, each client count's rate against the mean of the one-client runs (`scaling=`),
and last the same rows written by COPY straight into the table in as many transactions, with one client's
ingest rate as a fraction of it (issue 16, point 3: at least 10,000 rows/s and 0.5 x COPY). Clients, server
and PostgreSQL share the machine, so on a machine with few cores the scaling ratio shows how much of them the
stack uses, not what separate hosts would reach.

Safety: only a database whose name ends with `_bench` (bench_delist's rule); the listings stay there.
"""

import json
import queue
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from core.benchmarks import use_scratch_database
from devtools.bench_web import _production_env, _wait_ready
from devtools.devenv import free_port
from integrations.services import service_token_create
from listings.bulk import COPY_SQL
from listings.choices import ListingStatus
from listings.management.commands.bench_delist import _tail, process_group
from listings.models import Marketplace, Seller

SELLERS = 100
DEFAULT_CLIENTS = "1,2,4,1"
REQUEST_TIMEOUT = 120.0  # seconds


class Command(BaseCommand):
    help = "Platform listing upserts through gunicorn with 1, 2 and 4 concurrent clients; prints rows/s and scaling."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batches", type=int, default=40, help="requests per run (default 40)")
        parser.add_argument("--rows", type=int, default=1000, help="listings per request (default 1,000)")
        parser.add_argument("--clients", default=DEFAULT_CLIENTS, help=f"client threads per run ({DEFAULT_CLIENTS})")
        parser.add_argument("--server-workers", type=int, default=4, help="gunicorn worker processes (default 4)")
        parser.add_argument("--database-url", help="the scratch database, whose name must end with _bench")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = [int(count) for count in options["clients"].split(",")]
        if min(counts, default=0) < 1 or 1 not in counts or options["batches"] < 1 or options["rows"] < 1:
            raise CommandError("--clients must be positive counts including 1; --batches and --rows positive")
        database_url = use_scratch_database(options["database_url"])
        call_command("migrate", interactive=False, verbosity=0)
        tag = uuid.uuid4().hex[:12]
        marketplace = Marketplace.objects.create(
            name=f"Ingest {tag}", slug=f"ingest-{tag}", hosts=[f"ingest-{tag}.example"], listing_id_pattern=""
        )
        actor, _ = get_user_model().objects.get_or_create(username="bench-ingest")
        _, token = service_token_create(marketplace=marketplace, name="bench", actor=actor)

        with self._server(database_url, options["server_workers"]) as base:
            client = Client(base, token)
            sellers = [{"external_id": f"S{n}", "name": f"Seller {n}"} for n in range(SELLERS)]
            client.post("sellers", sellers)
            runs: list[tuple[int, float]] = []
            for number, count in enumerate([1, *counts]):
                label = "warm-up" if number == 0 else f"run {number}"
                batches = 5 if number == 0 else options["batches"]
                work = [
                    [
                        {
                            "external_id": f"L{number}-{batch}-{row}",
                            "url": f"https://{marketplace.hosts[0]}/item/{number}-{batch}-{row}",
                            "seller_external_id": f"S{row % SELLERS}",
                            "title": "Benchmark listing",
                        }
                        for row in range(options["rows"])
                    ]
                    for batch in range(batches)
                ]
                seconds = client.send_all(work, clients=count)
                rate = batches * options["rows"] / seconds
                self.stdout.write(
                    f"{label}: {count} client(s): {batches} x {options['rows']:,} rows in {seconds:.1f} s "
                    f"= {rate:,.0f} rows/s"
                )
                if number:
                    runs.append((count, rate))
        single = [rate for count, rate in runs if count == 1]
        baseline = sum(single) / len(single)
        rates = ", ".join(f"{rate:,.0f}" for rate in single)
        self.stdout.write(f"one client: {rates} rows/s; baseline {baseline:,.0f}")
        copy_rate = self._copy_rate(marketplace, options["batches"], options["rows"])
        self.stdout.write(
            f"COPY of the same rows ({options['batches']} transactions of {options['rows']:,}): "
            f"{copy_rate:,.0f} rows/s; one client's ingest = {baseline / copy_rate:.2f} x COPY"
        )
        for count in sorted({count for count, _ in runs} - {1}):
            rates = [rate for c, rate in runs if c == count]
            rate = sum(rates) / len(rates)
            self.stdout.write(f"clients={count} rows/s={rate:,.0f} scaling={rate / baseline:.2f}")

    @staticmethod
    def _copy_rate(marketplace: Marketplace, batches: int, rows: int) -> float:
        """Rows/s of COPY writing the same listings straight into the table (one transaction per batch, as
        one request each), the floor of what any ingest path can reach: no HTTP, JSON, checks or upsert."""
        sellers = list(Seller.objects.for_marketplace(marketplace).values_list("pk", flat=True))
        now = timezone.now()
        started = time.monotonic()
        for batch in range(batches):
            with transaction.atomic(), connection.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
                for row in range(rows):
                    external_id = f"C-{batch}-{row}"
                    copy.write_row(
                        (
                            marketplace.pk,
                            sellers[row % len(sellers)],
                            external_id,
                            f"https://{marketplace.hosts[0]}/item/{external_id}",
                            "Benchmark listing",
                            None,
                            "",
                            "{}",
                            ListingStatus.ACTIVE.value,
                            None,
                            now,
                        )
                    )
        return batches * rows / (time.monotonic() - started)

    @contextmanager
    def _server(self, database_url: str, workers: int) -> Iterator[str]:
        """gunicorn on a free loopback port with production settings on the scratch database; yields its URL."""
        port = free_port()
        env = _production_env(port) | {"DATABASE_URL": database_url}
        command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--workers", str(workers)]
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as scratch:
            log = Path(scratch) / "gunicorn.log"
            with process_group([*command, "marketsafe.wsgi"], log, env) as server:
                base = f"http://127.0.0.1:{port}"
                try:
                    _wait_ready(f"{base}/healthz")
                except RuntimeError as error:
                    raise CommandError(f"{error}; exit {server.poll()}; the log ends with:\n{_tail(log)}") from error
                self.stdout.write(f"gunicorn with {workers} worker processes at {base}")
                yield base


class Client:
    """The marketplace's system: bulk upserts with its service token, checked row by row."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def post(self, kind: str, rows: list[dict[str, Any]]) -> None:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.base}/api/v1/platform/{kind}/bulk/",
            data=json.dumps({kind: rows}).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310 (loopback)
            body = json.loads(response.read())
        if response.status != 200 or body["created"] != len(rows):
            raise CommandError(f"{kind}: answered {response.status}, {body.get('created')} created of {len(rows)}")

    def send_all(self, batches: list[list[dict[str, Any]]], *, clients: int) -> float:
        """Post every batch from `clients` threads taking them from one queue; the seconds it took."""
        pending: queue.SimpleQueue[list[dict[str, Any]]] = queue.SimpleQueue()
        for batch in batches:
            pending.put(batch)

        def client() -> None:
            while True:
                try:
                    batch = pending.get_nowait()
                except queue.Empty:
                    return
                self.post("listings", batch)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            for future in [pool.submit(client) for _ in range(clients)]:
                future.result()
        return time.monotonic() - started
