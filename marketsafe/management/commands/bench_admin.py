"""Benchmark of the moderator console's changelists at the brief's scale (issue 16, point 1).

    createdb marketsafe_bench      # or any database whose name ends with _bench
    python manage.py bench_admin --database-url postgres://USER@HOST/marketsafe_bench [--listings 1000000]

Seeds, once (a later run reuses what it finds): `--listings` marketplace listings, as many audit events,
and `--items` case items of one brand (cases of 1,000 items each: `cases.bulk`), by COPY and INSERT ... SELECT. Then, as
a superuser through Django's test client (in process: no network, no server), it times for each changelist
the first page, the deepest page reachable by number, and searches and filters, and prints the query count,
the median of `--repeat` requests and each one's ratio to the first page of the same list. The targets:
every page at most 1.5 times the first and under 300 ms. docs/performance.md keeps the figures.

Runs only on a database whose name ends with `_bench`: the audit events it adds can never be deleted.
"""

import statistics
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment

from brands.models import Brand
from cases.bulk import generate_case_items
from cases.models import CaseItem
from core.audit.models import AuditEvent
from core.benchmarks import page_queries, use_scratch_database
from listings.bulk import generate_listings
from listings.models import Listing, Marketplace


class Command(BaseCommand):
    help = "Time the admin changelists (first, deepest page, searches) at millions of rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database-url", help="a scratch database whose name ends with _bench")
        parser.add_argument("--listings", type=int, default=1_000_000)
        parser.add_argument("--items", type=int, default=200_000)
        parser.add_argument("--repeat", type=int, default=7)

    def handle(self, *args: Any, database_url: str | None, listings: int, items: int, repeat: int, **options: Any):
        use_scratch_database(database_url)
        setup_test_environment()  # the test client then returns each response's template context
        self._seed(listings=listings, items=items)
        user = get_user_model().objects.filter(username="bench-admin").first()
        if user is None:
            user = get_user_model().objects.create_superuser("bench-admin", "bench@example.invalid", None)
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        listing = Listing.objects.order_by("pk").only("external_id", "url").first()
        item = CaseItem.objects.select_related("listing").order_by("-pk").first()
        lists = {
            "listings": (
                "/admin/listings/listing/",
                {
                    "deepest page": "?p={deepest}",
                    "search: exact id": f"?q={listing.external_id}",
                    "search: exact URL": f"?q={listing.url}",
                    "search: title words": "?q=strap",
                    "filter: removed": "?status=removed",
                    "filter: active, deepest": "?status=active&p={deepest}",
                },
            ),
            "sellers": ("/admin/listings/seller/", {"deepest page": "?p={deepest}", "search: name": "?q=seller 12"}),
            "audit events": (
                "/admin/audit/auditevent/",
                {
                    "deepest page": "?p={deepest}",
                    "search: target id": f"?q={listing.pk}",
                    "filter: automated": "?automated__exact=1",
                },
            ),
            "review queue": (
                "/admin/cases/caseitem/",
                {
                    "deepest page": "?p={deepest}",
                    "search: exact URL": f"?q={item.listing.url}" if item else "?q=none",
                    "search: title words": "?q=strap",
                },
            ),
            "cases": ("/admin/cases/case/", {"deepest page": "?p={deepest}", "search: number": "?q=42"}),
        }
        self.stdout.write(f"\nmedian of {repeat} requests, in process; ratio to the list's first page")
        self.stdout.write("(a list's pages are requested in turns, so that the machine's load falls on all alike)")
        self.stdout.write(f"{'page':<44} {'status':>6} {'queries':>7} {'ms':>8} {'ratio':>6}")
        for name, (url, variants) in lists.items():
            urls = {"first page": url} | {
                label: url + query.replace("{deepest}", str(self._deepest(client, url + query)))
                for label, query in variants.items()
            }
            queries = {label: page_queries(client, page) for label, page in urls.items()}
            timings: dict[str, list[float]] = {label: [] for label in urls}
            for _ in range(repeat):
                for label, page in urls.items():
                    started = time.perf_counter()
                    client.get(page)
                    timings[label].append((time.perf_counter() - started) * 1000)
            first = statistics.median(timings["first page"])
            for label in urls:
                ms = statistics.median(timings[label])
                self.stdout.write(
                    f"{name + ': ' + label:<44} {200:>6} {queries[label]:>7} {ms:>8.1f} {ms / first:>6.2f}"
                )

    @staticmethod
    def _deepest(client: Client, url: str) -> int:
        """The last page reachable by number of the list at `url` (its `p` parameter ignored)."""
        response = client.get(url.replace("p={deepest}", "p=1"))
        return response.context["cl"].paginator.num_pages

    def _seed(self, *, listings: int, items: int) -> None:
        have = Listing.objects.count()
        if have < listings:
            marketplaces = [
                Marketplace.objects.get_or_create(
                    slug=f"bench-admin-{n}",
                    defaults={"name": f"Bench admin {n}", "hosts": [f"bench-admin-{n}.example"]},
                )[0]
                for n in range(2)
            ]
            self.stdout.write(f"seeding {listings - have:,} listings")
            generate_listings(count=listings - have, marketplaces=marketplaces, stdout=self.stdout)
        listing_type = ContentType.objects.get_for_model(Listing)
        events = AuditEvent.objects.count()
        if events < listings:
            self.stdout.write(f"seeding {listings - events:,} audit events")
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO audit_auditevent (occurred_at, automated, action, target_id, from_state, to_state,"
                    " reason, data, target_type_id)"
                    " SELECT now() - g * interval '1 second', g %% 3 = 0, 'listing.remove', l.id, 'active',"
                    " 'removed', 'bench', '{}', %s"
                    " FROM (SELECT id, row_number() OVER (ORDER BY id) AS g FROM listings_listing LIMIT %s) l",
                    [listing_type.pk, listings - events],
                )
                cursor.execute("ANALYZE audit_auditevent")
        have_items = CaseItem.objects.count()
        if have_items < items:
            self.stdout.write(f"seeding {items - have_items:,} case items")
            user, _ = get_user_model().objects.get_or_create(username="bench-filer")
            brand, _ = Brand.objects.get_or_create(slug="bench-admin", defaults={"name": "Bench admin brand"})
            generate_case_items(brand_id=brand.pk, user_id=user.pk, count=items - have_items)
