"""Synthetic marketplace data at production scale, for load tests and for demos of the portal at the size
the brief designs for (millions of listings).

Why COPY: `bulk_create` turns its input into a list of model instances (a million of them for a million
rows) and sends each batch as one huge INSERT that PostgreSQL must parse and plan. `COPY ... FROM STDIN`
streams rows in PostgreSQL's own text format straight into the table while a generator produces them,
so memory stays flat whatever the count; measured on this schema it inserts about 2.5 times as many
rows per second (index maintenance, which both pay, is most of what remains). The production indexes
(the unique URL index and the trigram index on titles among them) stay in place: the rate measured is
the rate the real schema allows.

COPY bypasses Django's field defaults, so every column is listed and given explicitly (`snapshot` is
`'{}'`, `created_at` is spread over the last two years rather than left to the database default). The
rows are deterministic functions of their sequence number (no random module), so a run is reproducible
apart from its token.

URLs embed a run token of fixed width followed by a fixed-width sequence number, so two runs never
produce the same URL; a token some existing URL already starts with is never used, and the unique index
on `url` remains the final guard.
"""

import re
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TextIO
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.utils import timezone

from listings.choices import ListingStatus, SellerAccountType
from listings.models import Listing, Marketplace, Seller
from listings.services import normalise_listing_url

COPY_SQL = (
    "COPY listings_listing (marketplace_id, seller_id, external_id, url, title, price, currency, snapshot,"
    " status, status_changed_at, created_at) FROM STDIN"
)

#: Digits of the run token and of the per-run sequence number: every generated listing id has the same
#: width, so ids of different runs can never be prefixes of each other.
TOKEN_DIGITS = 8
SEQ_DIGITS = 9

#: External ids of generated sellers; the same on every run, so later runs reuse them.
SELLER_ID_PREFIX = "SYN"

#: One weighted hash per row picks its words and numbers; a multiplicative hash spreads neighbours apart.
_HASH_MULTIPLIER = 2_654_435_761

QUALIFIERS = ("New", "Authentic", "Vintage", "Limited edition", "AAA quality", "Premium", "Original", "Mirror copy")
MAKERS = ("Acme", "Globex", "Initech", "Umbrella", "Vandelay", "Hooli", "Stark", "Wayne")
COLOURS = ("black", "brown", "tan", "navy", "white", "red", "olive", "silver")
#: (product, typical price in cents): bags, watches and sneakers, the goods counterfeiters favour.
PRODUCTS = (
    ("leather tote bag", 24_900),
    ("crossbody bag", 18_900),
    ("quilted shoulder bag", 32_900),
    ("backpack", 12_900),
    ("bifold wallet", 6_900),
    ("chronograph watch", 45_900),
    ("automatic diver watch", 89_900),
    ("dress watch", 29_900),
    ("running sneakers", 13_900),
    ("high-top sneakers", 15_900),
    ("slip-on trainers", 9_900),
    ("leather belt", 5_900),
)
CURRENCIES = ("EUR", "USD", "GBP")
SELLER_WORDS = ("Outlet", "Boutique", "Store", "Trading", "Deals", "Luxury", "Direct", "Warehouse")
SELLER_COUNTRIES = ("CN", "HK", "TR", "US", "DE", "IT", "PL", "GB")

#: About 4% of generated listings are already removed and 0.5% reinstated; the rest are active.
REMOVED_EVERY = 25
REINSTATED_EVERY = 200
CREATED_SPREAD_SECONDS = 730 * 86_400


@dataclass(frozen=True)
class _Target:
    """Where one marketplace's generated listings go: URL prefix, whether the URL yields the external id."""

    marketplace_id: int
    url_prefix: str
    has_external_id: bool
    seller_ids: tuple[int, ...]


def _extracts(marketplace: Marketplace, url: str, listing_id: str) -> bool:
    """Whether the portal would read `listing_id` out of `url` (see `listings.services`)."""
    if not marketplace.listing_id_pattern:
        return False
    match = re.search(marketplace.listing_id_pattern, urlsplit(url).path)
    return bool(match) and match.group(1) == listing_id


def listing_url_prefix(marketplace: Marketplace) -> tuple[str, bool]:
    """The URL before a generated listing id, and whether the marketplace's pattern reads the id from it.

    The path is the pattern's literal text before its group (r"/item/(\\w+)" gives "/item/") when that
    yields canonical URLs the pattern reads back; otherwise "/item/", whose listings get no external id
    unless the pattern happens to read it, as the portal itself would store them.
    """
    host = marketplace.hosts[0].lower()
    sample = "1" * (TOKEN_DIGITS + SEQ_DIGITS)
    literal = marketplace.listing_id_pattern.split("(", 1)[0]
    url = f"https://{host}{literal}"
    canonical = literal.startswith("/") and normalise_listing_url(url + sample) == url + sample
    if canonical and _extracts(marketplace, url + sample, sample):
        return url, True
    url = f"https://{host}/item/"
    return url, _extracts(marketplace, url + sample, sample)


def ensure_sellers(*, marketplace: Marketplace, count: int) -> tuple[int, ...]:
    """Ids of the marketplace's `count` generated sellers, creating the missing ones."""
    external_ids = [f"{SELLER_ID_PREFIX}{n:06d}" for n in range(1, count + 1)]
    Seller.objects.bulk_create(
        (
            Seller(
                marketplace=marketplace,
                external_id=external_id,
                name=f"{MAKERS[n % len(MAKERS)]} {SELLER_WORDS[(n // len(MAKERS)) % len(SELLER_WORDS)]} {n}",
                account_type=SellerAccountType.PRIVATE if n % 5 == 0 else SellerAccountType.BUSINESS,
                country=SELLER_COUNTRIES[n % len(SELLER_COUNTRIES)],
            )
            for n, external_id in enumerate(external_ids, start=1)
        ),
        ignore_conflicts=True,
        batch_size=1000,
    )
    return tuple(
        Seller.objects.filter(marketplace=marketplace, external_id__in=external_ids)
        .order_by("external_id")
        .values_list("pk", flat=True)
    )


def _free_token(url_prefixes: Sequence[str]) -> str:
    """A run token no stored URL under any of the prefixes starts with (one index range probe each)."""
    while True:
        token = str(10 ** (TOKEN_DIGITS - 1) + secrets.randbelow(9 * 10 ** (TOKEN_DIGITS - 1)))
        if not any(Listing.objects.filter(url__startswith=f"{prefix}{token}").exists() for prefix in url_prefixes):
            return token


def _rows(targets: Sequence[_Target], token: str, start: int, stop: int, now: datetime) -> Iterator[tuple]:
    """COPY rows for sequence numbers [start, stop)."""
    for seq in range(start, stop):
        target = targets[seq % len(targets)]
        h = (seq * _HASH_MULTIPLIER) & 0xFFFFFFFF
        product, typical_cents = PRODUCTS[h % len(PRODUCTS)]
        qualifier = QUALIFIERS[(h >> 4) % len(QUALIFIERS)]
        maker = MAKERS[(h >> 8) % len(MAKERS)]
        colour = COLOURS[(h >> 12) % len(COLOURS)]
        # Between 15% and 165% of the typical price: counterfeits are the cheap tail.
        cents = typical_cents * (15 + (h >> 16) % 151) // 100
        created_at = now - timedelta(seconds=h % CREATED_SPREAD_SECONDS)
        if seq % REMOVED_EVERY == 0:
            status, changed_at = ListingStatus.REMOVED, created_at + timedelta(days=1 + h % 20)
        elif seq % REINSTATED_EVERY == 1:
            status, changed_at = ListingStatus.REINSTATED, created_at + timedelta(days=2 + h % 30)
        else:
            status, changed_at = ListingStatus.ACTIVE, None
        listing_id = f"{token}{seq:0{SEQ_DIGITS}d}"
        yield (
            target.marketplace_id,
            target.seller_ids[h % len(target.seller_ids)],
            listing_id if target.has_external_id else None,
            f"{target.url_prefix}{listing_id}",
            f"{qualifier} {maker} {colour} {product}",
            f"{cents // 100}.{cents % 100:02d}",
            CURRENCIES[seq % len(CURRENCIES)],
            "{}",
            status.value,
            min(changed_at, now) if changed_at else None,
            created_at,
        )


def generate_listings(
    *,
    count: int,
    marketplaces: Sequence[Marketplace],
    sellers_per_marketplace: int = 1000,
    batch: int = 250_000,
    stdout: TextIO | None = None,
) -> int:
    """Insert `count` synthetic listings spread over `marketplaces`; returns how many were inserted.

    Each batch of `batch` rows is one COPY in its own transaction: an interrupted run keeps whole batches
    (their URLs are unique all the same) and the deferred foreign-key checks never pile up a million
    events. Progress goes to `stdout` after each batch.
    """
    if count < 0 or count >= 10**SEQ_DIGITS:
        raise ValueError(f"count must be between 0 and {10**SEQ_DIGITS - 1}")
    if count == 0:
        return 0
    if not marketplaces:
        raise ValueError("generate_listings needs at least one marketplace")
    targets = []
    for marketplace in marketplaces:
        url_prefix, has_external_id = listing_url_prefix(marketplace)
        targets.append(
            _Target(
                marketplace_id=marketplace.pk,
                url_prefix=url_prefix,
                has_external_id=has_external_id,
                seller_ids=ensure_sellers(marketplace=marketplace, count=sellers_per_marketplace),
            )
        )
    token = _free_token([target.url_prefix for target in targets])
    now = timezone.now()
    inserted = 0
    started = time.monotonic()
    while inserted < count:
        stop = min(inserted + batch, count)
        with transaction.atomic(), connection.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
            for row in _rows(targets, token, inserted, stop, now):
                copy.write_row(row)
        inserted = stop
        if stdout is not None:
            elapsed = time.monotonic() - started
            stdout.write(f"  {inserted:,} / {count:,} listings ({elapsed:.1f} s)\n")
    with connection.cursor() as cursor:
        # Fresh statistics at once, so the planner sees a table of millions rather than of sixty rows.
        cursor.execute("ANALYZE listings_listing")
    return inserted
