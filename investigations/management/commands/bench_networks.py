"""The seller network search at scale: how long the network around a seller takes among many sellers.

    createdb marketsafe_bench
    python manage.py bench_networks --database-url postgres://USER@HOST/marketsafe_bench

Seeds, with set-based SQL (once: a second run reuses them), `--sellers` sellers with three identifiers each
(one in a thousand shares its digests with another seller), `--listings` listings spread over them, each with
an image hash of its own; then a chain of `--ring` sellers, each sharing a phone number with the next, with five
listings each. It times `seller_network` from the chain's first seller with the default caps and with a
depth cap as long as the chain (one statement per step), the median of `--repeat` runs each, and prints the
plan of one depth's statement over the whole chain (EXPLAIN ANALYZE): every branch should start from an index.

Safety: only a database whose name ends with `_bench` (core.benchmarks); the rows stay there.
"""

import itertools
import statistics
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from core.benchmarks import use_scratch_database
from investigations.selectors_networks import EDGE_ROWS_PER_SELLER, EDGES_SQL, LINKING_CANDIDATES, seller_network
from listings.identifiers import identifier_digest, seller_identifiers_replace
from listings.models import Marketplace, Seller

_SELLERS_SQL = """
INSERT INTO listings_seller (marketplace_id, external_id, name, account_type, country, status, created_at)
SELECT %(marketplace)s, 'BN' || g, 'Bench seller ' || g, 'business', '', 'active', now()
FROM generate_series(1, %(sellers)s) AS g
"""
_IDENTIFIERS_SQL = """
INSERT INTO listings_selleridentifier (seller_id, kind, digest, created_at)
SELECT s.id, k, md5(k || CASE WHEN s.id %% 1000 = 0 THEN (s.id / 2)::text ELSE s.id::text END) || md5(k), now()
FROM listings_seller AS s, unnest(ARRAY['phone', 'address', 'payment_account']) AS k
WHERE s.marketplace_id = %(marketplace)s AND s.external_id LIKE 'BN%%'
"""
_LISTINGS_SQL = """
INSERT INTO listings_listing
    (marketplace_id, seller_id, external_id, url, title, currency, snapshot, status, created_at)
SELECT %(marketplace)s, %(first)s + (g %% %(sellers)s), 'BNL' || g, 'https://networks-bench.example/item/BNL' || g,
    'Bench listing ' || g, '', '{}', 'active', now()
FROM generate_series(1, %(listings)s) AS g
"""
_HASHES_SQL = """
INSERT INTO detection_listingimagehash (listing_id, position, hash)
SELECT l.id, 0, ('x' || lpad(to_hex(l.id), 64, '0'))::bit(256)
FROM listings_listing AS l WHERE l.marketplace_id = %(marketplace)s AND l.external_id LIKE 'BNL%%'
"""


class Command(BaseCommand):
    help = "Times the seller network search among many sellers, listings and image hashes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database-url", help="the scratch database (its name ends with _bench)")
        parser.add_argument("--sellers", type=int, default=200_000)
        parser.add_argument("--listings", type=int, default=1_000_000)
        parser.add_argument("--ring", type=int, default=40, help="sellers in the chain searched (default 40)")
        parser.add_argument("--repeat", type=int, default=5)

    def handle(self, *args: Any, **options: Any) -> None:
        use_scratch_database(options["database_url"])
        call_command("migrate", interactive=False, verbosity=0)
        marketplace, created = Marketplace.objects.get_or_create(
            slug="networks-bench", defaults={"name": "Networks bench", "hosts": ["networks-bench.example"]}
        )
        if created:
            self.seed(marketplace, options["sellers"], options["listings"])
        ring = self.chain(marketplace, options["ring"])
        for label, depth in (("default caps", None), (f"depth cap {len(ring)}", len(ring))):
            timings = []
            for _ in range(options["repeat"] + 1):
                started = time.perf_counter()
                network = seller_network(ring[0].pk, max_depth=depth)
                timings.append((time.perf_counter() - started) * 1000)
            self.stdout.write(
                f"{label}: {len(network)} sellers, {len(network.edges)} links, truncated={network.truncated}, "
                f"median {statistics.median(timings[1:]):.1f} ms"
            )
        with connection.cursor() as cursor:
            frontier = [seller.pk for seller in ring]
            limit = EDGE_ROWS_PER_SELLER * len(ring)
            cursor.execute(
                f"EXPLAIN (ANALYZE, BUFFERS) {EDGES_SQL}",
                {"frontier": frontier, "linking": LINKING_CANDIDATES, "limit": limit},
            )
            self.stdout.write("\n".join(row[0] for row in cursor.fetchall()))

    def seed(self, marketplace: Marketplace, sellers: int, listings: int) -> None:
        started = time.perf_counter()
        params = {"marketplace": marketplace.pk, "sellers": sellers, "listings": listings}
        with connection.cursor() as cursor:
            cursor.execute(_SELLERS_SQL, params)
            cursor.execute("SELECT min(id) FROM listings_seller WHERE marketplace_id = %s", [marketplace.pk])
            params["first"] = cursor.fetchone()[0]
            for statement in (_IDENTIFIERS_SQL, _LISTINGS_SQL, _HASHES_SQL):
                cursor.execute(statement, params)
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"seeded {sellers:,} sellers and {listings:,} listings in {time.perf_counter() - started:.0f} s"
        )

    def chain(self, marketplace: Marketplace, length: int) -> list[Seller]:
        ring = [
            Seller.objects.get_or_create(
                marketplace=marketplace, external_id=f"chain-{n}", defaults={"name": f"Chain seller {n}"}
            )[0]
            for n in range(length)
        ]
        digests: dict[int, set[tuple[str, str]]] = {seller.pk: set() for seller in ring}
        for n, (one, other) in enumerate(itertools.pairwise(ring)):
            phone = f"+49 30 {n:08d}"
            for seller in (one, other):
                digests[seller.pk].add(("phone", identifier_digest("phone", phone)))
        seller_identifiers_replace(digests_by_seller=digests)
        return ring
