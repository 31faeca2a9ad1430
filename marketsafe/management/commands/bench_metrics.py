"""`manage.py bench_metrics`: what a `/metrics` scrape costs on large tables, against naive queries measured
in the same run (docs/performance.md, "Metrics scrape").

Run it on the demo data (`manage.py seed_demo`) with the services of devenv::

    .venv/bin/python -m devtools.devenv exec -- .venv/bin/python manage.py bench_metrics [--items 200000]

Inside one transaction that is rolled back at the end (nothing is left behind), it adds synthetic history
with ids rising with time, as real rows arrive: `--items` decided case items over 90 days (the demo
listings reported by many cases), one outbox event per item and as many webhook attempts (the delisting
chunks stay as the demo has them). Then it times, median of `--repeat` runs:

- the scrape: the whole `/metrics` body (request metrics, the broker's queue depths, the business
  figures from PostgreSQL), and the business queries alone;
- the baseline: the same business figures the naive way, each a WHERE on the time column over the whole
  table (what a first version would write, and what an index on each time column would otherwise need);

and prints both with their ratio, then the plan of each business query (`--explain`).
"""

import statistics
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from prometheus_client import generate_latest

from brands.models import Brand
from cases.models import Case
from core.metrics import scrape_registry
from listings.models import Listing
from marketsafe import metrics

#: The naive way: the window's figures straight from each table's time column.
BASELINE = {
    "filed": "SELECT lane, count(*) FROM {items} WHERE submitted_at >= %(since)s GROUP BY lane",
    "decisions": """SELECT lane, status, count(*), count(*) FILTER (WHERE decided_at > sla_due_at) FROM {items}
                    WHERE decided_at >= %(since)s GROUP BY 1, 2""",
    "queue": """SELECT lane, count(*), count(*) FILTER (WHERE sla_due_at < %(now)s) FROM {items}
                WHERE status = ANY(%(queued)s) GROUP BY lane""",
    "delisting": "SELECT coalesce(sum(removed), 0) FROM {chunks} WHERE finished_at >= %(since)s",
    "attempts": """SELECT count(*), count(*) FILTER (WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299)
                   FROM {attempts} WHERE attempted_at >= %(since)s""",
}


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time a /metrics scrape on large synthetic tables against naive full-table queries (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--items", type=int, default=200_000, help="Synthetic case items (default 200,000).")
        parser.add_argument("--repeat", type=int, default=15, help="Timed runs of each side (default 15).")
        parser.add_argument("--explain", action="store_true", help="Print the plan of each business query.")

    def handle(self, *args: Any, items: int, repeat: int, explain: bool, **options: Any) -> None:
        template = Case.objects.order_by("pk").first()
        listings = list(Listing.objects.order_by("pk").values_list("pk", flat=True)[:1000])
        if template is None or not listings:
            raise CommandError("Load the demo data first (manage.py seed_demo).")
        try:
            with transaction.atomic():
                self._fill(template, listings, items)
                self._measure(repeat, explain)
                raise Rollback
        except Rollback:
            self.stdout.write("Synthetic rows rolled back.")

    def _fill(self, template: Case, listings: list[int], items: int) -> None:
        started = time.perf_counter()
        cases = max(1, items // len(listings))
        now = timezone.now()
        span = timedelta(days=90).total_seconds()
        t = metrics.TABLES
        with connection.cursor() as cursor:
            # 1,000 brands (the skip scans PostgreSQL 18 can make over a handful would flatter the baseline).
            cursor.execute(
                f"""INSERT INTO {Brand._meta.db_table} (name, slug, legal_name, country, website, created_at)
                SELECT 'Bench ' || n, 'bench-' || n, '', '', '', now() FROM generate_series(1, 1000) n
                RETURNING id"""  # noqa: S608 (model table names only)
            )
            brand_ids = [row[0] for row in cursor.fetchall()]
            # Cases spread over 90 days and over the brands; each reports every demo listing.
            cursor.execute(
                f"""INSERT INTO {Case._meta.db_table}
                    (brand_id, filed_by_id, lane, reason_code, explanation, channel, status, idempotency_key,
                     submitted_at)
                SELECT (%(brands)s::bigint[])[1 + n %% 1000], filed_by_id, lane, reason_code, 'bench', channel,
                       status, '', %(now)s - make_interval(secs => %(span)s * (%(cases)s - n) / %(cases)s)
                FROM {Case._meta.db_table}, generate_series(1, %(cases)s) n WHERE id = %(template)s
                RETURNING id""",  # noqa: S608 (model table names only)
                {"now": now, "span": span, "cases": cases, "template": template.pk, "brands": brand_ids},
            )
            case_ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                f"""INSERT INTO {t["items"]}
                    (case_id, brand_id, listing_id, lane, reason_code, status, brand_note, submitted_at, sla_due_at,
                     decided_at, rejection_code, moderator_message, status_changed_at)
                SELECT c.id, c.brand_id, l, c.lane, c.reason_code, 'accepted', '', c.submitted_at,
                       c.submitted_at + interval '24 hours', c.submitted_at + interval '2 hours', '', '',
                       c.submitted_at + interval '2 hours'
                FROM {Case._meta.db_table} c, unnest(%(listings)s::bigint[]) l
                WHERE c.id = ANY(%(cases)s) ORDER BY c.id, l""",  # noqa: S608
                {"listings": listings, "cases": case_ids},
            )
            # One outbox event per item decision, in time order.
            cursor.execute(
                f"""INSERT INTO {t["events"]} (uuid, type, brand_id, item_id, from_status, to_status, payload,
                                              occurred_at)
                SELECT gen_random_uuid(), 'item.status_changed', brand_id, id, 'in_review', 'accepted', '{{}}',
                       decided_at
                FROM {t["items"]} WHERE case_id = ANY(%(cases)s) ORDER BY decided_at, id""",  # noqa: S608
                {"cases": case_ids},
            )
            # Webhook attempts spread over deliveries (one per ten attempts), 1 in 10 failing.
            cursor.execute(
                """INSERT INTO integrations_webhookendpoint (brand_id, url, description, secret, is_active, created_at)
                SELECT brand_id, 'https://bench.invalid/hook', 'bench', 'bench', false, now()
                FROM cases_case WHERE id = %s RETURNING id""",
                [template.pk],
            )
            endpoint_id = cursor.fetchone()[0]
            cursor.execute(
                f"""INSERT INTO {t["deliveries"]} (event_id, endpoint_id, state, attempts, next_attempt_at,
                                                  last_error, created_at)
                SELECT id, %(endpoint)s, 'succeeded', 10, occurred_at, '', occurred_at
                FROM {t["events"]} ORDER BY id DESC LIMIT %(n)s RETURNING id""",  # noqa: S608
                {"endpoint": endpoint_id, "n": max(1, items // 10)},
            )
            delivery_ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                f"""INSERT INTO {t["attempts"]} (delivery_id, attempted_at, status_code, duration_ms, error)
                SELECT (%(deliveries)s::bigint[])[1 + n %% %(d)s],
                       %(now)s - make_interval(secs => %(span)s * (%(n)s - n) / %(n)s),
                       CASE WHEN n %% 10 = 0 THEN 500 ELSE 200 END, 50, ''
                FROM generate_series(1, %(n)s) n""",  # noqa: S608
                {"deliveries": delivery_ids, "d": len(delivery_ids), "now": now, "span": span, "n": items},
            )
            for table in metrics.TABLES.values():
                cursor.execute(f"ANALYZE {table}")
        self.stdout.write(
            f"Filled {len(case_ids) * len(listings):,} items of 1,000 brands, as many events and attempts "
            f"in {time.perf_counter() - started:.1f} s."
        )

    def _measure(self, repeat: int, explain: bool) -> None:
        parameters = metrics.query_parameters()
        baseline = {name: sql.format(**metrics.TABLES) for name, sql in BASELINE.items()}

        def scrape() -> None:
            generate_latest(scrape_registry())

        def naive() -> None:
            with connection.cursor() as cursor:
                for sql in baseline.values():
                    cursor.execute(sql, parameters)
                    cursor.fetchall()

        sides = {"scrape": scrape, "business": metrics.run_queries, "naive": naive}
        for run in sides.values():  # warm up: caches, the broker connection
            run()
        timings: dict[str, list[float]] = {name: [] for name in sides}
        for _run in range(repeat):  # alternated, so a noisy machine slows every side alike
            for name, run in sides.items():
                started = time.perf_counter()
                run()
                timings[name].append(time.perf_counter() - started)
        ms = {name: statistics.median(values) * 1000 for name, values in timings.items()}
        self.stdout.write(f"Whole /metrics scrape (median of {repeat}): {ms['scrape']:.1f} ms")
        self.stdout.write(f"  of which the business queries: {ms['business']:.1f} ms")
        self.stdout.write(f"Naive business queries (median of {repeat}): {ms['naive']:.1f} ms")
        self.stdout.write(f"Ratio naive / business queries: {ms['naive'] / ms['business']:.1f}x")
        if explain:
            with connection.cursor() as cursor:
                parameters, _saturated = metrics.bounded_parameters(cursor)
                for name, sql in {"bounds": metrics.BOUNDS, **metrics.QUERIES}.items():
                    cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}", parameters)
                    self.stdout.write(f"\n-- {name}")
                    self.stdout.write("\n".join(row[0] for row in cursor.fetchall()))
