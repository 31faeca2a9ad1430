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
from detection.models import ListingImageHash, RemovalFingerprint, StayDownPolicy
from detection.text import normalise_title, seller_name_key
from listings.choices import ListingStatus
from listings.models import Listing

#: pg_trgm similarity at which the title index returns an entry (a recall net, re-ranked below).
TITLE_RETRIEVE = 0.6
#: rapidfuzz token-sort ratio (0..1) from which a title alone makes a candidate.
TITLE_MATCH = 0.92
#: Entries the title index may return per listing (the most similar first).
TITLE_LIMIT = 20
#: Title similarity from which a match by the same seller is strong without an image.
STRONG_TITLE = 0.95

#: The image matches of a batch: per listing hash, the bank hashes whose neighbourhood holds one of its 16
#: slot keys (GIN on `slots`), then the exact distance. `keys` travel as text ('{1,2,...}'), one per hash.
_IMAGE_SQL = """
SELECT q.listing_id, m.fingerprint_id, min(m.distance)
FROM unnest(%(ids)s::bigint[], %(probes)s::text[], %(keys)s::text[]) AS q(listing_id, probe, keys)
CROSS JOIN LATERAL (
    SELECT h.fingerprint_id, bit_count(h.hash # q.probe::bit(256)) AS distance
    FROM detection_fingerprintimagehash h
    JOIN detection_removalfingerprint f ON f.id = h.fingerprint_id
    WHERE h.slots && q.keys::integer[]
      AND bit_count(h.hash # q.probe::bit(256)) <= %(max)s
      AND f.enabled AND (f.expires_at IS NULL OR f.expires_at > now())
) m
GROUP BY 1, 2
"""

#: The title matches of a batch: per listing, the most similar live bank titles over the trigram threshold,
#: compared without the brands' own name words (`title_key`; the listing's title keeps them, so a title
#: that is all but the same scores a little under 1, e.g. 0.89 for a 40-character title with a 4-letter
#: brand name), then re-ranked on the whole titles.
_TITLE_SQL = """
SELECT q.listing_id, t.id
FROM unnest(%(ids)s::bigint[], %(titles)s::text[]) AS q(listing_id, title)
CROSS JOIN LATERAL (
    SELECT f.id FROM detection_removalfingerprint f
    WHERE f.title_key %% q.title
      AND f.enabled AND (f.expires_at IS NULL OR f.expires_at > now())
    ORDER BY similarity(f.title_key, q.title) DESC
    LIMIT %(limit)s
) t
"""

#: Set for the title lookup, in its transaction only: the trigram threshold of `%`, and sequential scans
#: priced out. The planner prices `%` as a cheap operator, so at a bank of a few hundred or thousand rows it
#: scans the bank once per listing, computing the trigrams of every title (3.2 ms a listing at 300 entries,
#: measured); the trigram GIN index answers the same lookup in 0.08 ms (docs/performance.md).
_TITLE_SETTINGS = (
    "SELECT set_config('pg_trgm.similarity_threshold', %s, true), set_config('enable_seqscan', 'off', true)"
)

#: New candidates of a batch, once per (bank entry, listing): a repeated match inserts nothing.
_INSERT_SQL = """
INSERT INTO detection_relistingcandidate
    (brand_id, fingerprint_id, listing_id, signals, score, strength, status, automated, note, created_at)
SELECT u.brand_id, u.fingerprint_id, u.listing_id, u.signals::jsonb, u.score, u.strength, 'open', false, '', now()
FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::float8[], %s::text[])
    AS u(brand_id, fingerprint_id, listing_id, signals, score, strength)
ON CONFLICT (fingerprint_id, listing_id) DO NOTHING
RETURNING id, strength
"""


@dataclass
class Signals:
    image_distance: int | None = None
    title_similarity: float = 0.0
    same_seller: bool = False
    linked_seller: bool = False
    matched: list[str] = field(default_factory=list)

    def score(self) -> float:
        # Any distance within PDQ's threshold is a match; closer ranks higher (0 bits: 1.0, 31 bits: 0.76).
        image = 1 - self.image_distance / 128 if self.image_distance is not None else 0.0
        title = self.title_similarity if self.title_similarity >= TITLE_MATCH else 0.0
        seller = 0.1 if self.same_seller or self.linked_seller else 0.0
        return round(min(1.0, max(image, title) + seller), 4)

    def is_strong(self) -> bool:
        """The same seller account, with the same image or an all but identical title: filed automatically
        when the brand's policy allows (`detection.services.candidates.candidates_file_strong`)."""
        return self.same_seller and (self.image_distance is not None or self.title_similarity >= STRONG_TITLE)

    def as_json(self) -> dict:
        return {
            "image_distance": self.image_distance,
            "title_similarity": round(self.title_similarity, 4),
            "same_seller": self.same_seller,
            "linked_seller": self.linked_seller,
            "matched": self.matched,
        }


def _signals(listing: Listing, title: str, fingerprint: RemovalFingerprint, distance: int | None) -> Signals | None:
    """The signals of one (listing, bank entry) pair the indexes returned; None when too weak to keep."""
    signals = Signals(image_distance=distance)
    signals.title_similarity = fuzz.token_sort_ratio(title, fingerprint.title_normalised) / 100 if title else 0.0
    signals.same_seller = listing.seller_id is not None and listing.seller_id == fingerprint.seller_id
    seller_key = seller_name_key(listing.seller.name) if listing.seller_id else ""
    signals.linked_seller = (
        not signals.same_seller and bool(seller_key) and seller_key in fingerprint.seller_identifiers
    )
    if signals.image_distance is not None:
        signals.matched.append("image")
    if signals.title_similarity >= TITLE_MATCH:
        signals.matched.append("title")
    if not signals.matched:
        return None
    if signals.same_seller:
        signals.matched.append("seller")
    elif signals.linked_seller:
        signals.matched.append("linked_seller")
    return signals


def listings_match(*, listing_ids: Iterable[int]) -> list[int]:
    """Match the active listings among `listing_ids` against every brand's bank; create the candidates.

    A handful of statements per call whatever the number of listings (a batch is one task's worth).
    Returns the ids of the strong candidates created by this call (the caller may file them)."""
    ids = sorted(set(listing_ids))
    listings = {
        listing.pk: listing
        for listing in Listing.objects.filter(pk__in=ids, status=ListingStatus.ACTIVE).select_related("seller")
    }
    if not listings:
        return []
    hashes = list(ListingImageHash.objects.filter(listing_id__in=listings).values_list("listing_id", "hash"))
    titles = {pk: normalise_title(listing.title) for pk, listing in listings.items()}
    # Titles too short to mean anything on their own are matched by image only.
    titled = [(pk, title) for pk, title in titles.items() if len(title) >= 6]
    distances: dict[tuple[int, int], int] = {}
    pairs: set[tuple[int, int]] = set()
    with transaction.atomic(), connection.cursor() as cursor:
        if hashes:
            cursor.execute(
                _IMAGE_SQL,
                {
                    "ids": [pk for pk, _ in hashes],
                    "probes": [hashing.to_bits(h) for _, h in hashes],
                    "keys": ["{" + ",".join(map(str, hashing.slots(h))) + "}" for _, h in hashes],
                    "max": hashing.MAX_DISTANCE,
                },
            )
            for listing_id, fingerprint_id, distance in cursor.fetchall():
                distances[listing_id, fingerprint_id] = distance
                pairs.add((listing_id, fingerprint_id))
        if titled:
            cursor.execute(_TITLE_SETTINGS, [str(TITLE_RETRIEVE)])
            cursor.execute(
                _TITLE_SQL,
                {"ids": [pk for pk, _ in titled], "titles": [t for _, t in titled], "limit": TITLE_LIMIT},
            )
            pairs.update((listing_id, fingerprint_id) for listing_id, fingerprint_id in cursor.fetchall())
            cursor.execute("SELECT set_config('enable_seqscan', 'on', true)")
        if not pairs:
            return []
        bank = RemovalFingerprint.objects.in_bulk({fingerprint_id for _, fingerprint_id in pairs})
        # Brands whose policy keeps only strong matches (`StayDownPolicy.list_weak` off).
        strong_only = set(
            StayDownPolicy.objects.filter(
                brand_id__in={fp.brand_id for fp in bank.values()}, list_weak=False
            ).values_list("brand_id", flat=True)
        )
        columns: list[list] = [[], [], [], [], [], []]
        for listing_id, fingerprint_id in sorted(pairs):
            fingerprint = bank[fingerprint_id]
            if fingerprint.listing_id == listing_id:  # the removed listing itself, sent again
                continue
            listing = listings[listing_id]
            signals = _signals(listing, titles[listing_id], fingerprint, distances.get((listing_id, fingerprint_id)))
            if signals is None:
                continue
            score = signals.score()
            strong = signals.is_strong()
            if not strong and fingerprint.brand_id in strong_only:
                continue
            for column, value in zip(
                columns,
                (
                    fingerprint.brand_id,
                    fingerprint_id,
                    listing_id,
                    json.dumps(signals.as_json()),
                    score,
                    Strength.STRONG if strong else Strength.WEAK,
                ),
                strict=True,
            ):
                column.append(value)
        if not columns[0]:
            return []
        cursor.execute(_INSERT_SQL, columns)
        return [pk for pk, strength in cursor.fetchall() if strength == Strength.STRONG]
