"""Benchmark of the risk rules (issue 18, point 3): a backtest over N decided items, and the time evaluation
adds per item with 20 live rules, each against a plain-SQL baseline measured in the same run.

    manage.py bench_rules --items 100000 [--database-url postgres:///marketsafe_bench]

Runs only on a scratch database whose name ends in _bench (rules, hits and seeded items stay there). The
seeded items are reused by later runs when there are enough. The backtest runs in this process (the
service the Celery task calls), so the figure is the work itself, without queueing.

The evaluation is timed one item per call (a one-item filing) over random decided items: first with no
rule, then with 20 live rules on the items read cold (mostly from disk at 1,000,000 items), then again on
the same items warm (as a filing's hook finds the items it has just written); and for whole 1,000-item
notices in one call each (a large filing's hook). `--no-backtest` times the evaluation only.
"""

import statistics
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from brands.models import Brand, IPRight
from cases.models import CaseItem
from core.benchmarks import use_scratch_database
from listings.models import Marketplace, Seller
from safeguards.choices import HitTrigger
from safeguards.models import Rule
from safeguards.services import backtests, evaluation
from safeguards.services.rules import rule_save

#: The backtested rule, and its plain-SQL equivalent over the same decided items.
BACKTEST_RULE = "listing.price > 500.0 and item.reason_code == 'counterfeit'"
BASELINE_SQL = """
SELECT count(*) FROM cases_caseitem i JOIN listings_listing l ON l.id = i.listing_id
WHERE i.status = ANY(%s) AND l.price > 500 AND i.reason_code = 'counterfeit'
"""
#: 20 live rules reading every field (the evaluation figure).
LIVE_RULES = [
    "listing.price > 1500.0",
    "listing.price < 1.0 and item.lane == 'expedited'",
    "seller.live_listings > 500",
    "seller.status == 'suspended'",
    "brand.is_member and case.item_count > 900",
    "right.age_days < 7",
    "item.reason_code == 'patent'",
    "listing.title =~ '.*Rolex.*'",
    "case.channel == 'api' and listing.price > 1000.0",
    "listing.status == 'removed'",
    "item.lane == 'standard' and seller.live_listings > 100",
    "case.item_count > 999",
    "listing.price > 1900.0 and seller.status == 'active'",
    "not brand.is_member and listing.price > 1800.0",
    "right.age_days < 1 and case.item_count > 100",
    "seller.status in ['restricted', 'terminated']",
    "listing.title == ''",
    "item.reason_code == 'design' and listing.price > 100.0",
    "listing.price > 0.0 and listing.price < 2.0",
    "seller.live_listings == 0",
]
ITEMS_PER_CASE = 1_000
#: Whole notices evaluated in one call each (the filing hook's batch).
NOTICES = 3
SELLERS = 1_000


class Command(BaseCommand):
    help = "Time a rule's backtest over N decided items and the per-item evaluation with 20 live rules."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--items", type=int, default=100_000)
        parser.add_argument("--samples", type=int, default=500, help="items evaluated one by one for the p95")
        parser.add_argument("--database-url", default=None)
        parser.add_argument("--no-backtest", action="store_true", help="measure the evaluation only")

    def handle(
        self, *args: Any, items: int, samples: int, database_url: str | None, no_backtest: bool, **options: Any
    ) -> None:
        use_scratch_database(database_url)
        call_command("migrate", interactive=False, verbosity=0)
        user = self._user()
        seeded = self._seed(items, user)
        self.stdout.write(f"{seeded:,} decided items in the database")

        if not no_backtest:
            self._backtest(user)
        # Evaluation per item: the same items one by one, with no rule evaluated, then with 20 live rules.
        ids = list(CaseItem.objects.order_by("?").values_list("pk", flat=True)[:samples])
        for version_rule in Rule.objects.filter(name__startswith="bench live").exclude(mode="draft"):
            self._rule(user, version_rule.name, version_rule.expression, mode="draft", rule_id=version_rule.pk)
        case_ids = CaseItem.objects.filter(pk__in=ids[:NOTICES]).values_list("case_id", flat=True)
        notices = [list(CaseItem.objects.filter(case_id=case_id).values_list("pk", flat=True)) for case_id in case_ids]
        bare, bare_notices = self._per_item(ids), self._per_item_of_notices(notices)
        for n, expression in enumerate(LIVE_RULES, 1):
            self._rule(user, f"bench live {n:02}", expression, mode="live")
        with_rules, notices_with_rules = self._per_item(ids), self._per_item_of_notices(notices)
        # The same items again, now in PostgreSQL's and the system's caches, as a filing's items are when
        # its hook evaluates them (it has just written them); the pass above read most of them from disk.
        warm = self._per_item(ids)
        for rule in Rule.objects.filter(name__startswith="bench live"):
            self._rule(user, rule.name, rule.expression, mode="draft", rule_id=rule.pk)
        passes = (("no rule", bare), ("20 live rules, items cold", with_rules), ("20 live rules, items warm", warm))
        for label, times in passes:
            q = statistics.quantiles(times, n=100)
            self.stdout.write(
                f"evaluation, {label}: p50 {statistics.median(times) * 1000:.2f} ms, p95 {q[94] * 1000:.2f} ms "
                f"per item over {len(times)} items"
            )
        for label, times in passes[1:]:
            added = statistics.quantiles(times, n=100)[94] - statistics.quantiles(bare, n=100)[94]
            self.stdout.write(f"p95 added by 20 live rules, {label.split(', ')[1]}: {added * 1000:.2f} ms per item")
        for label, times in (("no rule", bare_notices), ("20 live rules", notices_with_rules)):
            self.stdout.write(
                f"evaluation of whole {ITEMS_PER_CASE:,}-item notices in one call (a filing's hook), {label}: "
                f"{', '.join(f'{t * 1000:.3f}' for t in times)} ms per item"
            )

    def _backtest(self, user) -> None:
        """A backtest against plain SQL counting the same matches over the same items."""
        statuses = list(backtests.SCORED)
        sql_seconds, sql_count = self._timed_sql(statuses)
        rule = self._rule(user, "bench backtest", BACKTEST_RULE, mode="draft")
        backtest = backtests.backtest_start(version_id=rule.current_version_id, actor=user)
        started = time.perf_counter()
        backtest = backtests.backtest_run(backtest_id=backtest.pk)
        seconds = time.perf_counter() - started
        sql_after, _ = self._timed_sql(statuses)
        if backtest.matched != sql_count:
            raise SystemExit(f"the backtest matched {backtest.matched:,}, plain SQL {sql_count:,}: not the same work")
        done, b = backtest.items_done, backtest
        self.stdout.write(
            f"backtest: {done:,} items in {seconds:.1f} s = {done / seconds:,.0f} items/s; {b.matched:,} hits "
            f"(accepted {b.matched_accepted:,}, rejected {b.matched_rejected:,}, reinstated {b.matched_reinstated:,})"
        )
        self.stdout.write(
            f"plain SQL count of the same matches: {sql_seconds:.2f} s before, {sql_after:.2f} s after; "
            f"ratio backtest/sql = {seconds / ((sql_seconds + sql_after) / 2):.1f}"
        )

    def _user(self):
        user, _ = get_user_model().objects.get_or_create(
            username="bench-rules", defaults={"is_staff": True, "is_superuser": True}
        )
        return user

    def _rule(self, user, name: str, expression: str, *, mode: str, rule_id: int | None = None) -> Rule:
        existing = rule_id or Rule.objects.filter(name=name).values_list("pk", flat=True).first()
        return rule_save(
            actor=user,
            rule_id=existing,
            name=name,
            expression=expression,
            action="flag",
            mode=mode,
            reason="benchmark",
        )

    def _timed_sql(self, statuses: list[str]) -> tuple[float, int]:
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(BASELINE_SQL, [statuses])
            count = cursor.fetchone()[0]
        return time.perf_counter() - started, count

    def _per_item(self, ids: list[int]) -> list[float]:
        """Seconds `items_evaluate` takes for each item on its own (the hook's work on a one-item filing),
        each in a transaction rolled back so that every pass sees the same database."""
        times = []
        for item_id in ids:
            with transaction.atomic():
                started = time.perf_counter()
                evaluation.items_evaluate(item_ids=[item_id], trigger=HitTrigger.ITEM_SUBMITTED)
                times.append(time.perf_counter() - started)
                transaction.set_rollback(True)
        return times

    def _per_item_of_notices(self, notices: list[list[int]]) -> list[float]:
        """Seconds per item of `items_evaluate` over each notice's items at once, rolled back like `_per_item`."""
        times = []
        for item_ids in notices:
            with transaction.atomic():
                started = time.perf_counter()
                evaluation.items_evaluate(item_ids=item_ids, trigger=HitTrigger.ITEM_SUBMITTED)
                times.append((time.perf_counter() - started) / len(item_ids))
                transaction.set_rollback(True)
        return times

    def _seed(self, count: int, user) -> int:
        have = backtests.decided_items().count()
        if have >= count:
            return have
        marketplace, _ = Marketplace.objects.get_or_create(
            slug="bench-rules", defaults={"name": "Bench rules", "hosts": ["bench-rules.example"]}
        )
        brand, _ = Brand.objects.get_or_create(slug="bench-rules", defaults={"name": "Bench rules brand"})
        right = IPRight.objects.filter(brand=brand).first() or IPRight.objects.create(
            brand=brand,
            kind="trademark",
            name="BENCH",
            registration_number="BENCH-1",
            office="EUIPO",
            owner_name="Bench",
        )
        Seller.objects.bulk_create(
            [Seller(marketplace=marketplace, external_id=f"BS{n}", name=f"Bench seller {n}") for n in range(SELLERS)],
            ignore_conflicts=True,
        )
        sellers = list(Seller.objects.filter(marketplace=marketplace).values_list("pk", flat=True))
        start = have + 1
        end = count
        cases = (end - start) // ITEMS_PER_CASE + 1
        self.stdout.write(f"seeding items {start:,} to {end:,} ...")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO listings_listing
                   (marketplace_id, seller_id, external_id, url, title, price, currency, snapshot, status, created_at)
                   SELECT %s, (%s::bigint[])[1 + g %% %s], 'BR' || g, 'https://bench-rules.example/item/BR' || g,
                          'Bench listing ' || g, (g %% 2000)::numeric, 'EUR', '{}',
                          CASE WHEN g %% 3 = 0 THEN 'removed' ELSE 'active' END, now()
                   FROM generate_series(%s, %s) g ON CONFLICT DO NOTHING""",
                [marketplace.pk, sellers, len(sellers), start, end],
            )
            cursor.execute(
                """INSERT INTO cases_case (brand_id, filed_by_id, lane, reason_code, explanation, channel, status,
                                          idempotency_key, submitted_at)
                   SELECT %s, %s, 'standard', 'counterfeit', 'Benchmark notice', 'api', 'processed', '', now()
                   FROM generate_series(1, %s) RETURNING id""",
                [brand.pk, user.pk, cases],
            )
            case_ids = sorted(row[0] for row in cursor.fetchall())
            cursor.execute(
                "INSERT INTO cases_case_rights (case_id, ipright_id) SELECT unnest(%s::bigint[]), %s",
                [case_ids, right.pk],
            )
            cursor.execute(
                """INSERT INTO cases_caseitem
                   (case_id, brand_id, listing_id, lane, reason_code, status, brand_note, submitted_at, sla_due_at,
                    decided_at, decided_by_id, rejection_code, moderator_message, status_changed_at)
                   SELECT (%s::bigint[])[1 + (g - %s) / %s], %s, l.id, 'standard',
                          CASE WHEN g %% 4 = 0 THEN 'trademark_title' ELSE 'counterfeit' END,
                          CASE WHEN g %% 10 < 7 THEN 'accepted' WHEN g %% 10 < 9 THEN 'rejected' ELSE 'reinstated' END,
                          '', now(), now(), now(), %s,
                          CASE WHEN g %% 10 BETWEEN 7 AND 8 THEN 'wrong_reason' ELSE '' END, '', now()
                   FROM generate_series(%s, %s) g
                   JOIN listings_listing l ON l.url = 'https://bench-rules.example/item/BR' || g""",
                [case_ids, start, ITEMS_PER_CASE, brand.pk, user.pk, start, end],
            )
            cursor.execute("ANALYZE cases_caseitem; ANALYZE listings_listing")
        return backtests.decided_items().count()
