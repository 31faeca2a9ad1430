"""Benchmark of stay-down detection: quality (precision, recall) on a labelled set, matching latency per
listing, and ingest rows/s with matching on against off, measured in the same run.

On a scratch database (name ending in `_bench`, as `bench_delist`): a catalogue of `--listings` synthetic
listings (COPY, `listings.bulk.generate_listings`); a brand's bank of `--bank` removals made final through
the cases' services (so the bank fills through the real outbox subscriber); then three ingests of the same
shape through `listings_upsert` in batches of 1,000:

- off: `--relistings` + `--negatives` + `--filler` rows, upsert and image hashes only;
- worker (production's shape): the same number of new rows, each batch upserted as the platform upsert
  does it (one transaction: rows, hashes, the listings marked pending, `match_listings` sent on commit),
  while a real Celery worker on the detection queue (started by this command, `--pool solo`, on the same
  database and broker) matches them. Two figures: the ingest rate the upserting client sees, and the time
  until the worker has matched every row (all candidates exist: no row left pending);
- inline: the same again, each batch followed by `listings_match` in this one process (the worker's work
  done by the client; the figure of earlier runs, kept for comparison);

then every labelled listing is matched again alone, timed: the latency one upserted listing sees.
Quality is measured on the worker's set and on the inline one (the same matcher: they should agree).

The labelled rows: re-listings of banked removals (title edits, word order, homoglyphs, image hash with
5-28 flipped bits or no image, same, linked or new seller) and look-alike negatives of the same brand (the
brand's words and title template, another model and colour or type, an unrelated image, any seller, some
the very sellers of the removals). Filler rows are unrelated products.

A listing counts as found when a candidate links it to the removal it re-lists (the top-scored candidate);
any other candidate is a false positive.
"""

import os
import random
import signal
import statistics
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from celery import current_app as app
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from brands.models import Brand, IPRight
from cases import services as case_services
from cases.demo import demo_evidence
from core.benchmarks import use_scratch_database
from detection.models import PendingMatch, ReListingCandidate, RemovalFingerprint
from detection.services.hashes import listing_image_hashes_replace
from detection.services.matching import listings_match
from detection.tasks import match_on_commit
from listings.bulk import generate_listings
from listings.models import Marketplace
from listings.upserts import listings_upsert, sellers_upsert

HOST = "detect-bench.example"
TYPES = ["tote bag", "wallet", "belt", "sneakers", "watch", "scarf", "backpack", "sunglasses", "cap", "hoodie"]
COLOURS = ["black", "brown", "tan", "navy", "red", "white", "olive", "grey", "beige", "burgundy"]
MATERIALS = ["leather", "suede", "canvas", "nylon", "cotton", "steel"]
EXTRAS = ["genuine", "original", "new", "authentic", "limited edition", "free shipping", "unisex", "2026"]
#: Look-alike letters a re-lister swaps in (Cyrillic).
HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440", "x": "\u0445"}
BATCH = 1000
_SECOND = timedelta(seconds=1)


def _model_names(rng: random.Random, n: int) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        names.add("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 8))).capitalize())
    return sorted(names)


def _flip(hex_hash: str, bits: int, rng: random.Random) -> str:
    value = int(hex_hash, 16)
    for bit in rng.sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


def _relist_title(title: str, rng: random.Random) -> str:
    """One or two of the edits re-listers make."""
    words = title.split()
    for edit in rng.sample(["order", "edit", "homoglyph", "extra", "case"], k=rng.choice([1, 2])):
        if edit == "order":
            head, tail = words[:1], words[1:]
            rng.shuffle(tail)
            words = head + tail
        elif edit == "edit":
            i = rng.randrange(1, len(words))
            word = words[i]
            if len(word) > 3:
                j = rng.randrange(len(word) - 1)
                words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]  # a transposition typo
        elif edit == "homoglyph":
            words = ["".join(HOMOGLYPHS.get(ch, ch) if rng.random() < 0.5 else ch for ch in w) for w in words]
        elif edit == "extra":
            words.insert(rng.randrange(len(words) + 1), rng.choice(["NEW", "!!", "hot", "sale"]))
        elif edit == "case":
            words = [w.upper() if rng.random() < 0.5 else w for w in words]
    return " ".join(words)


class Command(BaseCommand):
    help = "Stay-down detection benchmark: precision, recall, matching latency, ingest rate on vs off."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database-url", help="a scratch database whose name ends with _bench")
        parser.add_argument("--listings", type=int, default=100_000, help="background catalogue size")
        parser.add_argument("--bank", type=int, default=300, help="removals in the brand's bank")
        parser.add_argument("--relistings", type=int, default=100)
        parser.add_argument("--negatives", type=int, default=1000)
        parser.add_argument("--filler", type=int, default=2000, help="unrelated rows in each ingest")
        parser.add_argument("--seed", type=int, default=17)

    def handle(self, *args: Any, **options: Any) -> None:
        database_url = use_scratch_database(options["database_url"])
        call_command("migrate", interactive=False, verbosity=0)
        rng = random.Random(options["seed"])  # noqa: S311 (synthetic data, not secrets)
        run = f"{int(time.time())}"
        out = self.stdout.write

        marketplace, _ = Marketplace.objects.get_or_create(
            slug="detect-bench", defaults={"name": "Detect bench market", "hosts": [HOST]}
        )
        have = marketplace.listings.count()
        if have < options["listings"]:
            out(f"Seeding {options['listings'] - have:,} catalogue listings ...")
            generate_listings(count=options["listings"] - have, marketplaces=[marketplace])

        # Earlier runs' banks hold the same synthetic titles: only this run's bank is live.
        RemovalFingerprint.objects.filter(brand__slug__startswith="acme-bench-").update(enabled=False)
        brand, originals = self._bank(marketplace, run, rng, options["bank"])
        out(f"Bank: {RemovalFingerprint.objects.filter(brand=brand, enabled=True).count():,} live entries of {brand}")

        with connection.cursor() as cursor:  # fresh statistics, as a live bank would have
            cursor.execute(
                "VACUUM (ANALYZE) listings_listing, detection_removalfingerprint, detection_fingerprintimagehash"
            )
        sellers = [f"{run}-S{i}" for i in range(options["bank"] + 200)]
        names = _model_names(rng, 400)
        off_rows, _ = self._labelled(run, "off", originals, sellers, names, rng, options)
        worker_rows, worker_labels = self._labelled(run, "wrk", originals, sellers, names, rng, options)
        inline_rows, inline_labels = self._labelled(run, "inl", originals, sellers, names, rng, options)

        off_seconds = self._ingest(marketplace, off_rows, mode="off")
        with _detection_worker(database_url, out):
            started = time.perf_counter()
            upsert_seconds = self._ingest(marketplace, worker_rows, mode="worker")
            ids = list(marketplace.listings.filter(external_id__startswith=f"{run}-wrk-").values_list("pk", flat=True))
            while PendingMatch.objects.filter(listing_id__in=ids).exists():
                time.sleep(0.2)
            matched_seconds = time.perf_counter() - started
        inline_seconds = self._ingest(marketplace, inline_rows, mode="inline")
        # Latency as one upserted listing sees it: each labelled listing matched alone (the candidates exist
        # by now, so only their insert is skipped; every lookup runs again).
        labelled = marketplace.listings.filter(external_id__in=list(inline_labels)).values_list("pk", flat=True)
        latencies = []
        for pk in labelled:
            t0 = time.perf_counter()
            listings_match(listing_ids=[pk])
            latencies.append(time.perf_counter() - t0)

        positives = sum(1 for v in worker_labels.values() if v is not None)
        p = statistics.quantiles(latencies, n=100)
        rows = len(worker_rows)
        out(
            f"Scale: {marketplace.listings.count():,} listings, bank {options['bank']:,}, {positives:,} re-listings, "
            f"{options['negatives']:,} look-alike negatives, {options['filler']:,} filler rows per ingest"
        )
        for label, tag, labels in (("worker", "wrk", worker_labels), ("inline", "inl", inline_labels)):
            out(f"Quality ({label} set): " + _quality(marketplace, f"{run}-{tag}-", labels))
        out(
            f"Matching latency per listing: p50 {p[49] * 1000:.1f} ms, p95 {p[94] * 1000:.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms"
        )
        off_rate = rows / off_seconds
        client_rate, matched_rate, inline_rate = rows / upsert_seconds, rows / matched_seconds, rows / inline_seconds
        out(f"Ingest, matching off: {off_rate:,.0f} rows/s")
        out(
            f"Ingest, matching on a detection worker beside it: the client upserts {client_rate:,.0f} rows/s "
            f"(ratio {client_rate / off_rate:.2f}); all candidates exist {matched_seconds:.1f} s after the first "
            f"row ({matched_rate:,.0f} rows/s matched, ratio {matched_rate / off_rate:.2f})"
        )
        out(f"Ingest, matching inline in the client: {inline_rate:,.0f} rows/s (ratio {inline_rate / off_rate:.2f})")

    # --- the bank ------------------------------------------------------------------------------------

    def _bank(self, marketplace: Marketplace, run: str, rng: random.Random, size: int):
        user_model = get_user_model()
        brand = Brand.objects.create(name=f"Acme bench {run}", slug=f"acme-bench-{run}")
        owner = user_model.objects.create_user(username=f"bench-owner-{run}", password=None)
        brand.memberships.create(user=owner, role="owner")
        moderator = user_model.objects.create_user(username=f"bench-mod-{run}", password=None, is_staff=True)
        right = IPRight.objects.create(
            brand=brand,
            kind="trademark",
            name="ACME",
            registration_number=f"B{run}",
            office="EUIPO",
            owner_name="Acme",
            status="verified",
            verified_at=timezone.now(),
            verified_by=moderator,
        )
        names = _model_names(rng, size)
        sellers_upsert(
            marketplace=marketplace,
            rows=[
                {"external_id": f"{run}-S{i}", "name": f"Shop {run} {i}", "account_type": "business", "country": ""}
                for i in range(size + 200)
            ],
        )
        rows = []
        for i in range(size):
            kind, colour, extra = rng.choice(TYPES), rng.choice(COLOURS), rng.choice(EXTRAS)
            title = f"Acme {rng.choice(MATERIALS)} {names[i]} {kind} {colour} {extra}"
            rows.append(
                {
                    "external_id": f"{run}-orig-{i}",
                    "url": f"https://{HOST}/item/{run}-orig-{i}",
                    "seller_external_id": f"{run}-S{i}",
                    "title": title,
                    "price": f"{rng.randint(20, 400)}.00",
                    "currency": "EUR",
                    "hash": f"{rng.getrandbits(256):064x}",
                }
            )
        for start in range(0, size, BATCH):
            chunk = rows[start : start + BATCH]
            result = listings_upsert(marketplace=marketplace, rows=chunk)
            listing_image_hashes_replace(
                hashes_by_listing={pk: [row["hash"]] for (_, pk, _), row in zip(result.ids, chunk, strict=True)}
            )
            case = case_services.case_submit(
                request=case_services.FilingRequest(
                    brand_id=brand.pk,
                    actor_id=owner.pk,
                    reason_code="counterfeit",
                    explanation="Counterfeits (benchmark).",
                    right_ids=(right.pk,),
                    signed_name="Bench Owner",
                    listings=tuple(case_services.ListingRow(url=row["url"]) for row in chunk),
                    evidence=case_services.evidence_store([demo_evidence()]),
                )
            )
            for item in case.items.all():
                case_services.item_accept(item_id=item.pk, actor=moderator)
                item.refresh_from_db()
                case_services.item_finalise(item_id=item.pk, now=item.counter_notice_due_at + _SECOND)
            self.stdout.write(f"  banked {min(start + BATCH, size):,} removals")
        return brand, rows

    # --- the labelled set ----------------------------------------------------------------------------

    def _labelled(self, run, tag, originals, sellers, names, rng, options):
        """Rows to upsert and, by external id, the original's external id each re-lists (None: negative)."""
        rows: list[dict[str, Any]] = []
        labels: dict[str, str | None] = {}
        for n, original in enumerate(rng.sample(originals, options["relistings"])):
            external_id = f"{run}-{tag}-pos-{n}"
            seller_index = int(original["seller_external_id"].rsplit("S", 1)[1])
            seller = rng.choice([original["seller_external_id"], sellers[-1 - seller_index % 200]])
            row = {
                "external_id": external_id,
                "url": f"https://{HOST}/item/{external_id}",
                "seller_external_id": seller,
                "title": _relist_title(original["title"], rng),
                "price": original["price"],
                "currency": "EUR",
            }
            if rng.random() < 0.7:
                row["image_hashes"] = [_flip(original["hash"], rng.randint(5, 28), rng)]
            rows.append(row)
            labels[external_id] = original["external_id"]
        for n in range(options["negatives"]):
            original = rng.choice(originals)
            words = original["title"].split()
            # The same template and brand words; another model, and another colour or type.
            words[2] = rng.choice(names)
            if rng.random() < 0.5:
                words[-2] = rng.choice([c for c in COLOURS if c != words[-2]])
            else:
                words[3] = rng.choice([t for t in TYPES if t.split()[0] != words[3]]).split()[0]
            external_id = f"{run}-{tag}-neg-{n}"
            rows.append(
                {
                    "external_id": external_id,
                    "url": f"https://{HOST}/item/{external_id}",
                    "seller_external_id": rng.choice([original["seller_external_id"], rng.choice(sellers)]),
                    "title": " ".join(words),
                    "price": original["price"],
                    "currency": "EUR",
                    "image_hashes": [f"{rng.getrandbits(256):064x}"],
                }
            )
            labels[external_id] = None
        for n in range(options["filler"]):
            external_id = f"{run}-{tag}-fill-{n}"
            rows.append(
                {
                    "external_id": external_id,
                    "url": f"https://{HOST}/item/{external_id}",
                    "seller_external_id": rng.choice(sellers),
                    "title": f"{rng.choice(names)} {rng.choice(TYPES)} {rng.choice(COLOURS)} {rng.choice(EXTRAS)}",
                    "price": f"{rng.randint(5, 300)}.00",
                    "currency": "EUR",
                    "image_hashes": [f"{rng.getrandbits(256):064x}"],
                }
            )
        rng.shuffle(rows)
        return rows, labels

    def _ingest(self, marketplace, rows, *, mode: str) -> float:
        """Upsert `rows` in batches (with their hashes), one transaction each as the platform upsert does.
        mode "worker": mark them pending and send them to the detection worker on commit, as the upsert
        does; "inline": then match each batch here; "off": neither. Seconds taken."""
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            with transaction.atomic():
                result = listings_upsert(marketplace=marketplace, rows=chunk)
                ids = [pk for _, pk, _ in result.ids]
                listing_image_hashes_replace(
                    hashes_by_listing={
                        pk: row["image_hashes"] for pk, row in zip(ids, chunk, strict=True) if "image_hashes" in row
                    }
                )
                if mode == "worker":
                    match_on_commit(ids)
            if mode == "inline":  # what the detection worker does with the batch, here in the same process
                listings_match(listing_ids=ids)
        return time.perf_counter() - started


def _quality(marketplace: Marketplace, prefix: str, labels: dict[str, str | None]) -> str:
    """Precision and recall of the candidates of the listings whose external id starts with `prefix`: a
    re-listing is found when its top-scored candidate links it to the removal it re-lists."""
    found = missed = false_pos = 0
    candidates = ReListingCandidate.objects.filter(listing__external_id__startswith=prefix)
    best: dict[int, tuple[float, str]] = {}
    for listing_id, fingerprint_source, score in candidates.values_list(
        "listing_id", "fingerprint__listing__external_id", "score"
    ):
        if listing_id not in best or score > best[listing_id][0]:
            best[listing_id] = (score, fingerprint_source)
    by_external = dict(marketplace.listings.filter(external_id__startswith=prefix).values_list("external_id", "pk"))
    for external_id, expected in labels.items():
        got = best.get(by_external[external_id])
        if expected is None:
            false_pos += got is not None
        elif got is not None and got[1] == expected:
            found += 1
        else:
            missed += 1
            false_pos += got is not None  # linked to the wrong removal
    positives = sum(1 for v in labels.values() if v is not None)
    precision = found / (found + false_pos) if found + false_pos else 0.0
    recall = found / positives if positives else 0.0
    return (
        f"precision {precision:.3f}, recall {recall:.3f} (found {found}, missed {missed}, false positives {false_pos})"
    )


@contextmanager
def _detection_worker(database_url: str, out: Callable[[str], Any]) -> Iterator[None]:
    """A real Celery worker on the detection queue, in its own process on the benchmark's database, as
    production runs it (deploy/Procfile), for the block; its queue emptied first (earlier runs' leftovers)."""
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("detection")
    name = f"bench-detection-{os.getpid()}@localhost"
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "marketsafe",
            "worker",
            "-Q",
            "detection",
            "-P",
            "solo",
            "-n",
            name,
            "-l",
            "warning",
        ],
        env={**os.environ, "DATABASE_URL": database_url},
    )
    try:
        deadline = time.monotonic() + 120
        while not app.control.ping(destination=[name], timeout=1.0):
            if process.poll() is not None or time.monotonic() > deadline:
                raise CommandError("the detection worker did not start")
        out(f"Detection worker {name} ready")
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
