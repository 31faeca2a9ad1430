"""Image hashes: those a marketplace sends with its listings (the platform upsert's `image_hashes`), and
those of the evidence images brands upload, computed here when the evidence is stored."""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from detection import hashing, images
from detection.models import EvidenceImageHash, ListingImageHash

logger = logging.getLogger(__name__)


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


def on_evidence_stored(evidence: Sequence[Any], **details: Any) -> None:
    """The outbox subscriber of `cases.choices.EVIDENCE_STORED`, in the storing transaction: hash each image.

    A copy of a file already hashed (the evidence a re-listing filing reuses) takes the stored hash. A file
    that cannot be read as an image is logged and skipped: the upload itself stands (it was checked by
    `core.uploads`, and a screenshot the moderator can open is still evidence)."""
    pictures = [e for e in evidence if e.content_type in images.IMAGE_TYPES]
    if not pictures:
        return
    known = {
        sha256: (hash_, quality)
        for sha256, hash_, quality in EvidenceImageHash.objects.filter(
            evidence__sha256__in={e.sha256 for e in pictures}
        ).values_list("evidence__sha256", "hash", "quality")
    }
    rows = []
    for picture in pictures:
        if picture.sha256 not in known:
            try:
                with picture.file.open("rb") as file:
                    known[picture.sha256] = images.pdq_hash(file)
            except images.NotHashable as exc:
                logger.warning("Evidence %s (%s) not hashed: %s", picture.pk, picture.content_type, exc)
                continue
        hash_, quality = known[picture.sha256]
        rows.append(EvidenceImageHash(evidence_id=picture.pk, hash=hash_, quality=quality))
    EvidenceImageHash.objects.bulk_create(rows, ignore_conflicts=True)
