"""The image hashes a marketplace sends with its listings (the platform upsert's `image_hashes`)."""

from collections.abc import Mapping, Sequence

from django.db import transaction

from detection import hashing
from detection.models import ListingImageHash


@transaction.atomic
def listing_image_hashes_replace(*, hashes_by_listing: Mapping[int, Sequence[str]]) -> int:
    """Replace the stored hashes of each listing given (an empty list clears them). Returns the rows written.

    Hashes must be valid PDQ hex (`detection.hashing.parse_pdq`); duplicates of one listing are stored once."""
    if not hashes_by_listing:
        return 0
    ListingImageHash.objects.filter(listing_id__in=list(hashes_by_listing)).delete()
    rows = []
    for listing_id, hashes in hashes_by_listing.items():
        unique = list(dict.fromkeys(hashing.parse_pdq(h) for h in hashes))
        rows += [ListingImageHash(listing_id=listing_id, position=i, hash=h) for i, h in enumerate(unique)]
    ListingImageHash.objects.bulk_create(rows)
    return len(rows)
