"""Benchmark of the DSA transparency report (`reports.dsa`, issue 19 point 4) at the brief's scale.

    createdb marketsafe_bench      # or any database whose name ends with _bench
    python manage.py bench_dsa_report --database-url postgres://USER@HOST/marketsafe_bench [--items 500000]

Seeds, once (a later run reuses what it finds): `--items` case items over as many listings (`cases.bulk`),
spread over the last year, half of them decided (accepted with a statement of reasons, or rejected), one in
fifty appealed, and seller penalties. Then it times the report for the last year, all marketplaces and one
marketplace, and prints the query count and the median of `--repeat` runs. docs/performance.md keeps the
figures. Runs only on a database whose name ends with `_bench`.
"""

import statistics
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brands.models import Brand
from cases.bulk import generate_case_items
from cases.models import CaseItem, StatementOfReasons
from core.benchmarks import use_scratch_database
from listings.bulk import generate_listings
from listings.models import Listing, Marketplace
from reports.dsa import Period, dsa_report


class Command(BaseCommand):
    help = "Time the DSA transparency report over hundreds of thousands of items."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database-url", help="a scratch database whose name ends with _bench")
        parser.add_argument("--items", type=int, default=500_000)
        parser.add_argument("--repeat", type=int, default=5)

    def handle(self, *args: Any, database_url: str | None, items: int, repeat: int, **options: Any) -> None:
        use_scratch_database(database_url)
        self._seed(items=items)
        today = timezone.localdate()
        period = Period(today - timedelta(days=365), today)
        marketplace = Marketplace.objects.order_by("pk").first()
        self.stdout.write(f"{CaseItem.objects.count():,} items; period {period.label}")
        for name, scope in (("all marketplaces", None), (marketplace.name, marketplace)):
            dsa_report(period=period, marketplace=scope)  # plans and caches warm
            timings = []
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    report = dsa_report(period=period, marketplace=scope)
                    timings.append((time.perf_counter() - started) * 1000)
            figures = {figure.id: figure.value for _, figure in report.figures()}
            self.stdout.write(
                f"{name}: {len(queries)} queries, median {statistics.median(timings):,.0f} ms; "
                f"notices {figures['notices.received.total']:,}, actions {figures['notices.actions.total']:,}, "
                f"median hours to action {figures['notices.median_hours_to_action']}"
            )

    def _seed(self, *, items: int) -> None:
        have = CaseItem.objects.count()
        marketplaces = [
            Marketplace.objects.get_or_create(
                slug=f"bench-dsa-{n}", defaults={"name": f"Bench DSA {n}", "hosts": [f"bench-dsa-{n}.example"]}
            )[0]
            for n in range(2)
        ]
        missing = items - Listing.objects.count()
        if missing > 0:
            self.stdout.write(f"seeding {missing:,} listings")
            generate_listings(count=missing, marketplaces=marketplaces, stdout=self.stdout)
        user = get_user_model().objects.get_or_create(username="bench-dsa", defaults={"is_staff": True})[0]
        brand = Brand.objects.get_or_create(slug="bench-dsa", defaults={"name": "Bench DSA"})[0]
        if have < items:
            self.stdout.write(f"seeding {items - have:,} items")
            generate_case_items(brand_id=brand.pk, user_id=user.pk, count=items - have)
        if StatementOfReasons.objects.exists():
            return
        self.stdout.write("deciding half of them, with statements, appeals")
        with connection.cursor() as cursor:
            # Spread over the last year; every second item decided some hours later, accepted or rejected.
            cursor.execute(
                """
                UPDATE cases_caseitem SET
                    submitted_at = now() - make_interval(mins => ((id * 7919) %% 525600)::int),
                    lane = CASE WHEN id %% 3 = 0 THEN 'expedited' ELSE 'standard' END
                """,
                [],
            )
            cursor.execute(
                """
                UPDATE cases_caseitem SET
                    status = CASE WHEN id %% 4 = 0 THEN 'rejected' ELSE 'accepted' END,
                    rejection_code = CASE WHEN id %% 4 = 0 THEN 'insufficient_evidence' ELSE '' END,
                    decided_at = submitted_at + make_interval(mins => ((id * 31) %% 4320)::int)
                WHERE id %% 2 = 0
                """,
                [],
            )
            cursor.execute(
                """
                INSERT INTO cases_statementofreasons (item_id, created_at, decision_visibility, decision_ground,
                    legal_ground, explanation, facts, category, category_specification, territorial_scope,
                    application_date, source_type, automated_detection, automated_decision, redress)
                SELECT id, decided_at, ARRAY['DECISION_VISIBILITY_CONTENT_REMOVED'],
                    CASE WHEN id %% 10 = 0 THEN 'DECISION_GROUND_INCOMPATIBLE_CONTENT'
                         ELSE 'DECISION_GROUND_ILLEGAL_CONTENT' END,
                    'Bench', 'Bench', 'Bench', 'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS', '{}', '{}',
                    decided_at::date, 'SOURCE_ARTICLE_16', false, 'AUTOMATED_DECISION_NOT_AUTOMATED', '{}'
                FROM cases_caseitem WHERE status = 'accepted'
                """,
                [],
            )
            cursor.execute(
                """
                INSERT INTO cases_appeal (item_id, appellant, grounds, filed_at, contested_status, status,
                    decided_at, decided_by_id, decision_note)
                SELECT id, CASE WHEN status = 'rejected' THEN 'brand' ELSE 'seller' END, 'Bench',
                    decided_at + interval '1 day', status, CASE WHEN id %% 100 = 0 THEN 'overturned' ELSE 'upheld' END,
                    decided_at + interval '2 days', %s, ''
                FROM cases_caseitem WHERE id %% 50 = 0 AND decided_at IS NOT NULL
                """,
                [user.pk],
            )
            cursor.execute("ANALYZE cases_caseitem; ANALYZE cases_statementofreasons; ANALYZE cases_appeal")
