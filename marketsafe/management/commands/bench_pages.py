"""Benchmark the brand portal's list pages and the API's lists at production size, in one run.

    createdb marketsafe_bench
    DATABASE_URL=postgres://USER@HOST/marketsafe_bench python manage.py bench_pages [--scale 0.2]

Seeds (or reuses) one brand with `33,000 * scale` reported items in cases of 1,000, over
`1,000,000 * scale` listings of two marketplaces (the sizes of issue 16), then prints for every list:

- the queries of its first page;
- the median latency of its first page, of its deepest page (the last one, reached through a cursor
  pointing just before the end, as a user paging on would reach it) and of a search, and their ratios
  to the first page;
- its throughput (requests per second, sequential, in-process through the whole middleware stack)
  against a bare view (an empty 200 answer behind the same middleware and the same login) in the same run.

Figures only mean something next to the bare view measured in the same run on the same machine: the
machine may be shared. Requests go through Django's test `Client` in this process, so the figures are
the application's own CPU and database time, without a web server's parsing and network; the API's
rate limit is raised for the run (its cache round trip still happens).

Safety: it runs only on a database whose name ends with `_bench`, so it never seeds the development
database; it migrates that database first.
"""

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import override_settings
from django.urls import include, path
from rest_framework.throttling import SimpleRateThrottle

from brands.api.services import token_create
from brands.choices import Role
from brands.models import Brand, BrandMembership
from cases.bulk import generate_case_items
from cases.models import Case, CaseItem
from core.benchmarks import median_ms, page_queries, use_scratch_database
from core.pagination import encode_cursor, ordering_keys
from listings.bulk import generate_listings
from listings.models import Listing, Marketplace

BRAND_SLUG = "bench-pages"
ITEMS_PER_CASE = 1000
FULL_LISTINGS = 1_000_000
FULL_ITEMS = 33_000
PAGE_SIZE = 50  # the pages' and the API's default


def bare_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


#: The project's URLs plus the bare view, used for the run only.
urlpatterns = [path("__bench__/bare/", bare_view), path("", include("marketsafe.urls"))]


@dataclass
class Figures:
    name: str
    queries: int
    first_ms: float
    deep_ms: float | None
    search_ms: float | None
    rps: float

    def row(self, bare_rps: float) -> str:
        def ms(value: float | None) -> str:
            return f"{value:.1f}" if value is not None else "-"

        def ratio(value: float | None) -> str:
            return f"{value / self.first_ms:.2f}" if value is not None else "-"

        return (
            f"| {self.name} | {self.queries} | {ms(self.first_ms)} | {ms(self.deep_ms)} | {ratio(self.deep_ms)} | "
            f"{ms(self.search_ms)} | {ratio(self.search_ms)} | {self.rps:.1f} | {self.rps / bare_rps:.3f} |"
        )


class Command(BaseCommand):
    help = "Seed (or reuse) production-sized data in a *_bench database and time every portal and API list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="Fraction of the issue's sizes (default 1).")
        parser.add_argument("--repeat", type=int, default=7, help="Timed requests per latency figure (median).")
        parser.add_argument("--seconds", type=float, default=3.0, help="Duration of each throughput run.")
        parser.add_argument(
            "--live",
            action="store_true",
            help="Also measure throughput with wrk (16 connections) against gunicorn (2 sync workers) on this data.",
        )

    def handle(self, *args: Any, scale: float, repeat: int, seconds: float, live: bool, **options: Any) -> None:
        use_scratch_database(None)
        if not 0 < scale <= 1:
            raise CommandError("--scale must be in (0, 1]")
        call_command("migrate", interactive=False, verbosity=0)
        brand, user = self._seed(listings=int(FULL_LISTINGS * scale), items=int(FULL_ITEMS * scale))
        self.repeat, self.seconds = repeat, seconds
        # The API's rate limit would refuse a throughput run; its counting in the cache still happens.
        SimpleRateThrottle.THROTTLE_RATES = {**SimpleRateThrottle.THROTTLE_RATES, "api_token": "100000000/minute"}
        with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], DEBUG=False):
            urls = self._run(brand, user)
        if live:
            self._live(urls)

    # --- data ---------------------------------------------------------------------------------------

    def _seed(self, *, listings: int, items: int) -> tuple[Brand, Any]:
        """The brand, its owner and its items; what exists is reused, what is missing is added."""
        started = time.monotonic()
        user, _ = get_user_model().objects.get_or_create(username="bench-pages-owner")
        brand, _ = Brand.objects.get_or_create(slug=BRAND_SLUG, defaults={"name": "Bench Pages"})
        BrandMembership.objects.get_or_create(brand=brand, user=user, defaults={"role": Role.OWNER})
        marketplaces = []
        for tag in ("a", "b"):
            marketplace, _ = Marketplace.objects.get_or_create(
                slug=f"bench-pages-{tag}",
                defaults={"name": f"Bench shop {tag.upper()}", "hosts": [f"bench-pages-{tag}.example"]},
            )
            marketplaces.append(marketplace)
        have = Listing.objects.filter(marketplace__in=marketplaces).count()
        if have < listings:
            self.stdout.write(f"seeding {listings - have:,} listings")
            generate_listings(count=listings - have, marketplaces=marketplaces, stdout=self.stdout)
        have_items = CaseItem.objects.filter(brand=brand).count()
        if have_items < items:
            self.stdout.write(f"seeding {items - have_items:,} reported items")
            generate_case_items(
                brand_id=brand.pk,
                user_id=user.pk,
                count=items - have_items,
                marketplace_ids=[m.pk for m in marketplaces],
                per_case=ITEMS_PER_CASE,
            )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) listings_listing, listings_seller, cases_case, cases_caseitem")
        self.stdout.write(
            f"data: {Listing.objects.count():,} listings, {CaseItem.objects.filter(brand=brand).count():,} items in "
            f"{Case.objects.filter(brand=brand).count():,} cases of the benchmark brand "
            f"(ready in {time.monotonic() - started:.0f} s)"
        )
        return brand, user

    # --- measuring ----------------------------------------------------------------------------------

    def _median_ms(self, client: Any, url: str) -> float:
        return median_ms(client, url, self.repeat)

    def _rps(self, client: Any, url: str) -> float:
        done, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < self.seconds or done < 3:
            client.get(url)
            done += 1
        return done / elapsed

    @staticmethod
    def _queries(client: Any, url: str) -> int:
        client.get(url)  # warm: a first request fills caches (the filter form) a later one reads
        return page_queries(client, url)

    def _measure(self, name: str, client: Any, first: str, deep: str | None, search: str | None) -> Figures:
        figures = Figures(
            name=name,
            queries=self._queries(client, first),
            first_ms=self._median_ms(client, first),
            deep_ms=self._median_ms(client, deep) if deep else None,
            search_ms=self._median_ms(client, search) if search else None,
            rps=self._rps(client, first),
        )
        self.stdout.write(f"  {name}: {figures.first_ms:.1f} ms, {figures.rps:.1f} req/s")
        return figures

    def _run(self, brand: Brand, user: Any) -> list[tuple[str, str, str]]:
        page = Client()
        page.force_login(user)
        membership = BrandMembership.objects.get(brand=brand, user=user)
        _, secret = token_create(membership=membership, actor=user, name="bench_pages")
        api = Client(HTTP_AUTHORIZATION=f"Token {secret}")
        items, cases = f"/b/{brand.slug}/items/", f"/b/{brand.slug}/cases/"
        sample = (
            CaseItem.objects.filter(brand=brand)
            .select_related("listing")
            .order_by("pk")[CaseItem.objects.filter(brand=brand).count() // 2]
        )
        word = sample.listing.title.split()[1]  # a maker's name: a few percent of the titles
        url = sample.listing.url
        deep = self._deepest_page
        self.stdout.write(f"measuring (median of {self.repeat}; throughput over {self.seconds:.0f} s each)")
        bare_page = self._rps(page, "/__bench__/bare/")
        bare_api = self._rps(api, "/__bench__/bare/")
        rows = [
            self._measure(
                "Portal reported listings (newest first)",
                page,
                items,
                deep(page, items, CaseItem, brand),
                items + "?q=" + word,
            ),
            self._measure("Portal reported listings, search one listing URL", page, items + "?q=" + url, None, None),
            self._measure(
                "Portal reported listings by review due",
                page,
                items + "?ordering=sla_due",
                deep(page, items + "?ordering=sla_due", CaseItem, brand),
                items + "?ordering=sla_due&q=" + word,
            ),
            self._measure(
                "Portal cases (newest first)",
                page,
                cases,
                deep(page, cases, Case, brand),
                cases + "?q=" + word,
            ),
        ]
        api_rows = [
            self._measure(
                "API case items",
                api,
                "/api/v1/case-items/",
                deep(api, "/api/v1/case-items/", CaseItem, brand),
                "/api/v1/case-items/?q=" + word,
            ),
            self._measure(
                "API case items by review due",
                api,
                "/api/v1/case-items/?ordering=sla_due",
                deep(api, "/api/v1/case-items/?ordering=sla_due", CaseItem, brand),
                None,
            ),
            self._measure(
                "API cases",
                api,
                "/api/v1/cases/",
                deep(api, "/api/v1/cases/", Case, brand),
                "/api/v1/cases/?q=" + word,
            ),
        ]
        self.stdout.write("")
        self.stdout.write(f"bare view: {bare_page:.0f} req/s (portal login), {bare_api:.0f} req/s (API token)")
        self.stdout.write(f"search word: {word!r}; search URL: one listing")
        self.stdout.write(
            "| List | Queries | First page (ms) | Deepest page (ms) | Deep/first | Search (ms) | Search/first "
            "| Throughput (req/s) | x bare view |"
        )
        self.stdout.write("|---|---|---|---|---|---|---|---|---|")
        for figures in rows:
            self.stdout.write(figures.row(bare_page))
        for figures in api_rows:
            self.stdout.write(figures.row(bare_api))
        cookie = f"{settings.SESSION_COOKIE_NAME}={page.cookies[settings.SESSION_COOKIE_NAME].value}"
        return [
            ("bare view", "/__bench__/bare/", f"Cookie: {cookie}"),
            ("Portal reported listings", items, f"Cookie: {cookie}"),
            ("Portal cases", cases, f"Cookie: {cookie}"),
            ("API case items", "/api/v1/case-items/", f"Authorization: Token {secret}"),
            ("API cases", "/api/v1/cases/", f"Authorization: Token {secret}"),
        ]

    def _live(self, urls: list[tuple[str, str, str]]) -> None:
        """wrk against gunicorn serving marketsafe/bench_wsgi.py: the deployment's shape, HTTP parsing included."""
        if not shutil.which("wrk"):
            raise CommandError("--live needs wrk on the PATH")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = os.environ | {"API_THROTTLE_RATE": "100000000/minute", "DJANGO_DEBUG": "false"}
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
             "marketsafe.bench_wsgi:application"],
            env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise CommandError("gunicorn exited: see its output above")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__bench__/bare/", timeout=5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise CommandError("gunicorn did not answer within 60 s") from None
                    time.sleep(0.5)
            self.stdout.write("")
            self.stdout.write(
                "| Live (wrk -t2 -c16, gunicorn 2 sync workers) | Requests/s | x bare view | p50 latency |"
            )
            self.stdout.write("|---|---|---|---|")
            bare = None
            for name, path_, header in urls:
                url = f"http://127.0.0.1:{port}{path_}"
                subprocess.run(["wrk", "-t2", "-c16", "-d2s", "-H", header, url], capture_output=True, check=True)  # noqa: S603,S607
                out = subprocess.run(  # noqa: S603
                    ["wrk", "-t2", "-c16", f"-d{max(self.seconds, 5):.0f}s", "--latency", "-H", header, url],  # noqa: S607
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                if "Non-2xx" in out:
                    raise CommandError(f"{name}: wrk saw error answers\n{out}")
                rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
                p50 = re.search(r"50%\s+(\S+)", out).group(1)
                bare = bare or rps
                self.stdout.write(f"| {name} | {rps:.1f} | {rps / bare:.3f} | {p50} |")
        finally:
            server.terminate()
            server.wait(timeout=30)

    @staticmethod
    def _deepest_page(client: Any, url: str, model: type, brand: Brand) -> str | None:
        """The URL of the list's last full page, through a cursor of the ordering the first page's cursor has."""
        response = client.get(url)
        content = response.content.decode()
        if url.startswith("/api/"):
            next_url = json.loads(content)["next"]
            if next_url is None:
                return None
        elif 'rel="next"' not in content:
            return None
        else:
            start = content.index('rel="next" href="') + len('rel="next" href="')
            next_url = content[start : content.index('"', start)].replace("&amp;", "&")
        cursor = next_url.split("cursor=")[1].split("&")[0]
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        rows = model.objects.filter(brand=brand).order_by(*payload[0].split(","))
        keys = ordering_keys(rows)
        values = rows.values_list(*(key.name for key in keys))[rows.count() - PAGE_SIZE - 1]
        return f"{url}{'&' if '?' in url else '?'}cursor={encode_cursor(keys, list(values))}"
