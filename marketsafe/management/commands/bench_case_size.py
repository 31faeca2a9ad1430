"""Benchmark: cases of more than 1,000 items (issue 16, point 6), to say what `MAX_ITEMS_PER_CASE` the
numbers support.

    createdb marketsafe_bench      # or any database whose name ends with _bench
    python manage.py bench_case_size --database-url postgres://USER@HOST/marketsafe_bench [--sizes 1000 10000 20000]

On the demo data (seeded when missing), for each size it checks the rows as the preview does
(`importing.preview_rows`), files them as one case of the demo member brand (`services.case_submit`, new
listings created from their URLs), then requests, in process through Django's test client, the brand's case
page (first and last page of items), the API's case detail and the admin's case page, and prints seconds,
queries and the process's peak resident memory so far (sizes run in increasing order, so each row's
figure is the peak of the largest filing yet). Each size gets new URLs, so the run
measures filings of unknown listings, the slowest kind.

Runs only on a database whose name ends with `_bench`: the audit events it adds can never be deleted.
"""

import resource
import time
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client, override_settings
from django.test.utils import setup_test_environment
from django.urls import reverse

from brands.models import Brand, IPRight
from cases import importing, services
from cases.choices import ReasonCode
from cases.models import CaseItem
from core.benchmarks import median_ms, page_queries, use_scratch_database
from listings.models import Marketplace

BRAND = "acme"


class Command(BaseCommand):
    help = "Time filing, previewing and showing cases of 1,000 to 20,000 items."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database-url", help="a scratch database whose name ends with _bench")
        parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 20_000])
        parser.add_argument("--repeat", type=int, default=5, help="requests per page (median)")

    def handle(self, *args: Any, database_url: str | None, sizes: list[int], repeat: int, **options: Any) -> None:
        use_scratch_database(database_url)
        setup_test_environment()
        if not Brand.objects.filter(slug=BRAND).exists():
            call_command("seed_demo", stdout=self.stdout)
        brand = Brand.objects.get(slug=BRAND)
        marketplace = Marketplace.objects.get(slug="shopnow")
        user = get_user_model().objects.get(username="reporter")
        rights = tuple(IPRight.objects.for_brand(brand).usable().values_list("pk", flat=True))
        brand_client, admin_client = Client(HTTP_HOST="localhost"), Client(HTTP_HOST="localhost")
        brand_client.force_login(user)
        admin_client.force_login(get_user_model().objects.get(username="admin"))
        rules = {**settings.MARKETSAFE, "MAX_ITEMS_PER_CASE": max(sizes)}
        rows: list[tuple[str, ...]] = []
        with override_settings(MARKETSAFE=rules):
            for size in sizes:
                run = uuid.uuid4().hex[:8]
                urls = [f"https://{marketplace.hosts[0]}/item/CS{run}{n:06d}" for n in range(size)]
                preview_rows = [importing.PreviewRow(number=n + 1, raw=url) for n, url in enumerate(urls)]
                started = time.perf_counter()
                preview = importing.preview_rows(brand=brand, rows=preview_rows)
                preview_seconds = time.perf_counter() - started
                if len(preview.valid) != size:
                    raise CommandError(f"{size - len(preview.valid)} rows of {size} refused: {preview.rows[0].errors}")
                request = services.FilingRequest(
                    brand_id=brand.pk,
                    actor_id=user.pk,
                    reason_code=ReasonCode.COUNTERFEIT,
                    explanation="Benchmark: a large case.",
                    right_ids=rights,
                    signed_name="Rita Reyes",
                ).with_listings(preview.valid)
                started = time.perf_counter()
                case = services.case_submit(request=request)
                filing_seconds = time.perf_counter() - started
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
                assert CaseItem.objects.filter(case=case).count() == size
                page = reverse("cases:case_detail", kwargs={"brand_slug": BRAND, "pk": case.pk})
                last = -(-size // 50)
                timed = {
                    "case page, first": (brand_client, page),
                    "case page, last": (brand_client, f"{page}?page={last}"),
                    "API case detail": (brand_client, f"/api/v1/cases/{case.pk}/"),
                    "admin case page": (admin_client, reverse("admin:cases_case_change", args=[case.pk])),
                }
                pages = {
                    label: (median_ms(client, url, repeat), page_queries(client, url))
                    for label, (client, url) in timed.items()
                }
                rows.append(
                    (
                        f"{size:,}",
                        f"{preview_seconds:.2f}",
                        f"{filing_seconds:.2f}",
                        f"{peak / 2**20:.0f}",
                        *(f"{ms:.0f} ({queries})" for ms, queries in pages.values()),
                    )
                )
        headers = ("items", "preview s", "filing s", "peak RSS MiB", *(f"{label} ms (q)" for label in timed))
        self.stdout.write("\n" + " | ".join(headers))
        for row in rows:
            self.stdout.write(" | ".join(row))
