"""Set-based upserts of a marketplace's sellers and listings, for the platform API.

Every row is checked before anything is written, against the request itself and against the stored
rows (one query per kind of lookup, not per row); any problem refuses the whole request with the messages
of each row and field, and nothing is saved. Then one statement writes each kind of row:

- sellers: `bulk_create(update_conflicts=True)` on (marketplace, external id), then, for the rows that
  carry `identifiers` (address, phone, payment account, tax id in clear), one DELETE and one INSERT of
  their keyed hashes (`listings.identifiers`): the clear values go no further than this function;
- listings: `INSERT ... SELECT FROM unnest(...) ON CONFLICT (marketplace_id, external_id) WHERE
  external_id IS NOT NULL DO UPDATE` (the unique index is partial, which Django's ON CONFLICT cannot
  name), preceded by one UPDATE that gives their external id to listings first known from a notice by
  URL alone, so the marketplace's row and the notice's row become one.

A repeated request changes nothing and answers the same ids: both are idempotent by (marketplace,
external id). The listing's status is the portal's (removals, reinstatements) and is never written here.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.db import connection, transaction

from core.errors import RowsRefused
from core.outbox import publish
from listings.choices import LISTINGS_CHANGED
from listings.identifiers import digests_of, seller_identifiers_replace
from listings.models import Listing, Marketplace, Seller
from listings.services import UnknownMarketplace, marketplace_for_host, normalise_listing_url


@dataclass
class RowErrors:
    """Problems by row (the position in the request's array, from 0), then field: the rows part of the
    API's error shape (`core.api.exceptions.RowsInvalid`)."""

    rows: dict[int, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, row: int, field_name: str, message: str) -> None:
        self.rows.setdefault(row, {}).setdefault(field_name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.rows)


class UpsertRefused(RowsRefused):
    """Rows of the request break the rules; nothing was saved. `field` is the request's array ("sellers",
    "listings"), as the platform API names it, so its error shape keys the rows by it."""

    def __init__(self, errors: RowErrors, *, field: str) -> None:
        super().__init__(f"{len(errors.rows)} rows with problems", field=field, rows=errors.rows)


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int
    ids: list[tuple[str, int, bool]]  # (external id, portal id, created), in request order


def _duplicates(rows: Sequence[dict[str, Any]], key: str, errors: RowErrors, what: str) -> None:
    first: dict[Any, int] = {}
    for i, row in enumerate(rows):
        value = row.get(key)
        if value is None:
            continue
        if value in first:
            errors.add(i, key, f"The same {what} appears in row {first[value]}.")
        else:
            first[value] = i


def sellers_upsert(*, marketplace: Marketplace, rows: Sequence[dict[str, Any]]) -> UpsertResult:
    """Create or update the marketplace's sellers by external id (rows already field-validated).

    A row with `identifiers` ({kind: [clear values]}) replaces the seller's stored identifiers with their
    digests (an empty object clears them); a row without leaves them as they are.
    """
    errors = RowErrors()
    _duplicates(rows, "external_id", errors, "external_id")
    digests: dict[int, set[tuple[str, str]]] = {}
    for i, row in enumerate(rows):
        if "identifiers" in row:
            digests[i], refused = digests_of(row["identifiers"])
            for kind, messages in refused.items():
                for message in messages:
                    errors.add(i, f"identifiers.{kind}", message)
    if errors:
        raise UpsertRefused(errors, field="sellers")
    external_ids = [row["external_id"] for row in rows]
    with transaction.atomic():
        existing = set(
            Seller.objects.for_marketplace(marketplace)
            .filter(external_id__in=external_ids)
            .values_list("external_id", flat=True)
        )
        saved = Seller.objects.bulk_create(
            [
                Seller(
                    marketplace=marketplace,
                    external_id=row["external_id"],
                    name=row["name"],
                    account_type=row["account_type"],
                    country=row["country"],
                )
                for row in rows
            ],
            update_conflicts=True,
            unique_fields=["marketplace", "external_id"],
            update_fields=["name", "account_type", "country"],
            batch_size=2000,
        )
        seller_identifiers_replace(digests_by_seller={saved[i].pk: found for i, found in digests.items()})
    ids = [(s.external_id, s.pk, s.external_id not in existing) for s in saved]
    created = sum(1 for _, _, new in ids if new)
    return UpsertResult(created=created, updated=len(ids) - created, ids=ids)


_LISTING_UPSERT_SQL = """
INSERT INTO listings_listing
    (marketplace_id, seller_id, external_id, url, title, price, currency, snapshot, status, created_at)
SELECT %s, i.seller_id, i.external_id, i.url, i.title, i.price, i.currency, '{}'::jsonb, 'active', now()
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::numeric[], %s::text[])
    AS i(seller_id, external_id, url, title, price, currency)
ON CONFLICT (marketplace_id, external_id) WHERE external_id IS NOT NULL DO UPDATE SET
    seller_id = EXCLUDED.seller_id, url = EXCLUDED.url, title = EXCLUDED.title,
    price = EXCLUDED.price, currency = EXCLUDED.currency
RETURNING id, external_id, (xmax = 0) AS created
"""

_LISTING_ADOPT_SQL = """
UPDATE listings_listing AS l SET external_id = i.external_id
FROM unnest(%s::bigint[], %s::text[]) AS i(id, external_id)
WHERE l.id = i.id AND l.external_id IS NULL
"""


def listings_upsert(*, marketplace: Marketplace, rows: Sequence[dict[str, Any]]) -> UpsertResult:
    """Create or update the marketplace's listings by external id (rows already field-validated).

    Refuses (UpsertRefused) a URL that is not on this marketplace or not a listing URL, a seller the
    marketplace has not sent yet, a URL stored for a different listing, and duplicates in the request.
    """
    errors = RowErrors()
    urls: list[str | None] = []
    for i, row in enumerate(rows):
        try:
            url = normalise_listing_url(row["url"])
            # A canonical URL starts "https://" and its host ends at the next "/" (a port, an address in
            # brackets or user info: taken apart properly).
            netloc = url[8 : url.index("/", 8)]
            host = urlsplit(url).hostname if set(netloc) & {":", "[", "@"} else netloc
            marketplace_for_host(host or "", [marketplace])
        except ValueError as exc:
            message = (
                f"The host {exc} is not one of {marketplace.name}'s ({', '.join(marketplace.hosts)})."
                if isinstance(exc, UnknownMarketplace)
                else "Not an absolute http(s) URL."
            )
            errors.add(i, "url", message)
            url = None
        urls.append(url)
    normalised = [{**row, "url": url} for row, url in zip(rows, urls, strict=True)]
    _duplicates(normalised, "external_id", errors, "external_id")
    _duplicates(normalised, "url", errors, "URL")

    seller_refs = {row["seller_external_id"] for row in rows if row.get("seller_external_id")}
    sellers = dict(
        Seller.objects.for_marketplace(marketplace).filter(external_id__in=seller_refs).values_list("external_id", "pk")
    )
    for i, row in enumerate(rows):
        ref = row.get("seller_external_id")
        if ref and ref not in sellers:
            errors.add(i, "seller_external_id", f"No seller {ref!r} on {marketplace.name}: send the seller first.")

    wanted_urls = [u for u in urls if u]
    # Every marketplace's listings, deliberately: a URL stored for another marketplace's listing is refused
    # (by its marketplace id alone; nothing of that listing is returned).
    by_url = {
        listing.url: listing
        for listing in Listing.objects.filter(url__in=wanted_urls).only("pk", "url", "marketplace_id", "external_id")
    }
    by_external = dict(
        Listing.objects.for_marketplace(marketplace)
        .filter(external_id__in=[r["external_id"] for r in rows])
        .values_list("external_id", "pk")
    )
    adopt: list[tuple[int, str]] = []
    for i, row in enumerate(normalised):
        stored = by_url.get(row["url"]) if row["url"] else None
        if stored is None:
            continue
        owner = by_external.get(row["external_id"])
        if stored.marketplace_id != marketplace.pk:
            errors.add(i, "url", "This URL is stored for a listing of another marketplace.")
        elif stored.external_id not in (None, row["external_id"]) or (owner is not None and owner != stored.pk):
            errors.add(i, "url", f"This URL is stored for another listing (external id {stored.external_id!r}).")
        elif stored.external_id is None:
            adopt.append((stored.pk, row["external_id"]))
    if errors:
        raise UpsertRefused(errors, field="listings")

    columns: list[list[Any]] = [[], [], [], [], [], []]
    for row in normalised:
        price = row.get("price")
        values = (
            sellers.get(row.get("seller_external_id") or ""),
            row["external_id"],
            row["url"],
            row.get("title", ""),
            Decimal(price) if price is not None else None,
            row.get("currency", ""),
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    with transaction.atomic(), connection.cursor() as cursor:
        if adopt:
            cursor.execute(_LISTING_ADOPT_SQL, [[pk for pk, _ in adopt], [ext for _, ext in adopt]])
        cursor.execute(_LISTING_UPSERT_SQL, [marketplace.pk, *columns])
        returned = {external_id: (pk, created) for pk, external_id, created in cursor.fetchall()}
        publish(LISTINGS_CHANGED, [pk for pk, _ in returned.values()])
    ids = [(row["external_id"], *returned[row["external_id"]]) for row in normalised]
    created = sum(1 for _, _, new in ids if new)
    return UpsertResult(created=created, updated=len(ids) - created, ids=ids)
