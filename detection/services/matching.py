"""Matching listings against the banks, in PostgreSQL with indexes, never by scanning every bank entry.

For each listing: its image hashes probe the GIN index of the bank hashes' 16-bit slots (`&&`, see
`detection.hashing`), and the exact Hamming distance is checked with `bit_count(a # b)`; its normalised
title probes the trigram GIN index (`%`, over `TITLE_RETRIEVE`), and the few entries found are re-ranked
with rapidfuzz. Seller signals (same seller account, or a new account with the same shop name) are read
from the entries found. What passes the policy becomes a `ReListingCandidate`, once per (entry, listing):
running the match again changes nothing.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from rapidfuzz import fuzz

from detection import hashing
from detection.choices import Strength
from detection.models import ListingImageHash, ReListingCandidate, RemovalFingerprint
from detection.text import normalise_title, seller_name_key
from listings.choices import ListingStatus
from listings.models import Listing

#: pg_trgm similarity at which the title index returns an entry (a recall net, re-ranked below).
TITLE_RETRIEVE = 0.45
#: rapidfuzz token-sort ratio (0..1) from which a title alone makes a candidate.
TITLE_MATCH = 0.86
#: Entries the title index may return per listing (the most similar first).
TITLE_LIMIT = 20
#: Score from which a match by the same seller is strong (filed automatically when the policy allows).
STRONG_SCORE = 0.9

_IMAGE_SQL = """
SELECT h.fingerprint_id, min(bit_count(h.hash # %(probe)s::bit(256)))
FROM detection_fingerprintimagehash h
JOIN detection_removalfingerprint f ON f.id = h.fingerprint_id
WHERE h.slots && %(keys)s::integer[]
  AND bit_count(h.hash # %(probe)s::bit(256)) <= %(max)s
  AND f.enabled AND (f.expires_at IS NULL OR f.expires_at > now())
GROUP BY h.fingerprint_id
"""

_TITLE_SQL = """
SELECT f.id FROM detection_removalfingerprint f
WHERE f.title_normalised %% %(title)s
  AND f.enabled AND (f.expires_at IS NULL OR f.expires_at > now())
ORDER BY similarity(f.title_normalised, %(title)s) DESC
LIMIT %(limit)s
"""


@dataclass
class Signals:
    image_distance: int | None = None
    title_similarity: float = 0.0
    same_seller: bool = False
    linked_seller: bool = False
    matched: list[str] = field(default_factory=list)

    def score(self) -> float:
        image = 1 - self.image_distance / 64 if self.image_distance is not None else 0.0
        title = self.title_similarity if self.title_similarity >= TITLE_MATCH else 0.0
        seller = 0.1 if self.same_seller or self.linked_seller else 0.0
        return round(min(1.0, max(image, title) + seller), 4)

    def as_json(self) -> dict:
        return {
            "image_distance": self.image_distance,
            "title_similarity": round(self.title_similarity, 4),
            "same_seller": self.same_seller,
            "linked_seller": self.linked_seller,
            "matched": self.matched,
        }


def _image_matches(cursor, hashes: Iterable[str]) -> dict[int, int]:
    found: dict[int, int] = {}
    for h in hashes:
        cursor.execute(
            _IMAGE_SQL, {"probe": hashing.to_bits(h), "keys": hashing.probe_keys(h), "max": hashing.MAX_DISTANCE}
        )
        for fingerprint_id, dist in cursor.fetchall():
            found[fingerprint_id] = min(dist, found.get(fingerprint_id, 256))
    return found


def _title_matches(cursor, title: str) -> list[int]:
    if len(title) < 6:  # too short to mean anything on its own
        return []
    cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(TITLE_RETRIEVE)])
    cursor.execute(_TITLE_SQL, {"title": title, "limit": TITLE_LIMIT})
    return [row[0] for row in cursor.fetchall()]


def listing_signals(listing: Listing, hashes: list[str]) -> list[tuple[RemovalFingerprint, Signals]]:
    """The bank entries the listing matches, with their signals (call inside a transaction)."""
    title = normalise_title(listing.title)
    with connection.cursor() as cursor:
        by_image = _image_matches(cursor, hashes)
        by_title = _title_matches(cursor, title)
    ids = set(by_image) | set(by_title)
    if not ids:
        return []
    seller_key = seller_name_key(listing.seller.name) if listing.seller_id else ""
    found = []
    for fingerprint in RemovalFingerprint.objects.filter(pk__in=ids).exclude(listing_id=listing.pk):
        signals = Signals(image_distance=by_image.get(fingerprint.pk))
        signals.title_similarity = fuzz.token_sort_ratio(title, fingerprint.title_normalised) / 100 if title else 0.0
        signals.same_seller = listing.seller_id is not None and listing.seller_id == fingerprint.seller_id
        signals.linked_seller = (
            not signals.same_seller and bool(seller_key) and (seller_key in fingerprint.seller_identifiers)
        )
        if signals.image_distance is not None:
            signals.matched.append("image")
        if signals.title_similarity >= TITLE_MATCH:
            signals.matched.append("title")
        if not signals.matched:
            continue
        if signals.same_seller:
            signals.matched.append("seller")
        elif signals.linked_seller:
            signals.matched.append("linked_seller")
        found.append((fingerprint, signals))
    return found


def listings_match(*, listing_ids: Iterable[int]) -> list[int]:
    """Match the active listings among `listing_ids` against every brand's bank; create the candidates.

    Returns the ids of the strong candidates created by this call (the caller may file them)."""
    ids = sorted(set(listing_ids))
    listings = Listing.objects.filter(pk__in=ids, status=ListingStatus.ACTIVE).select_related("seller")
    hashes: dict[int, list[str]] = {}
    for listing_id, h in ListingImageHash.objects.filter(listing_id__in=ids).values_list("listing_id", "hash"):
        hashes.setdefault(listing_id, []).append(h)
    strong: list[int] = []
    for listing in listings:
        with transaction.atomic():
            matches = listing_signals(listing, hashes.get(listing.pk, []))
            if not matches:
                continue
            rows = []
            for fingerprint, signals in matches:
                score = signals.score()
                is_strong = signals.same_seller and score >= STRONG_SCORE
                rows.append(
                    ReListingCandidate(
                        brand_id=fingerprint.brand_id,
                        fingerprint=fingerprint,
                        listing=listing,
                        signals=signals.as_json(),
                        score=score,
                        strength=Strength.STRONG if is_strong else Strength.WEAK,
                    )
                )
            created = _insert_new(rows)
            strong += [c.pk for c in created if c.strength == Strength.STRONG]
    return strong


def _insert_new(rows: list[ReListingCandidate]) -> list[ReListingCandidate]:
    """Insert the candidates not yet stored; return those inserted (with their ids). Not `bulk_create`
    with `ignore_conflicts`: it would not say which rows were new, and only new strong ones are filed."""
    with connection.cursor() as cursor:
        inserted = []
        for row in rows:
            cursor.execute(
                """
                INSERT INTO detection_relistingcandidate
                    (brand_id, fingerprint_id, listing_id, signals, score, strength, status, automated, note,
                     created_at)
                VALUES (%s, %s, %s, %s::jsonb, %s, %s, 'open', false, '', now())
                ON CONFLICT (fingerprint_id, listing_id) DO NOTHING
                RETURNING id
                """,
                [row.brand_id, row.fingerprint_id, row.listing_id, json.dumps(row.signals), row.score, row.strength],
            )
            got = cursor.fetchone()
            if got:
                row.pk = got[0]
                inserted.append(row)
    return inserted
