"""The banks: one fingerprint per upheld removal, made when the cases' item reaches a final removal status.

The cases app publishes every item move on `cases.choices.ITEM_STATUS_CHANGED` (core.outbox); this module
listens (`DetectionConfig.ready`), in the same transaction: a removal upheld (by the brand's answer, a
moderator, the lapse rule or an appeal) or final (its counter-notice window passed) joins the bank; a
removal undone (reinstated, withdrawn) leaves it disabled.
"""

from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from brands.models import IPRight
from cases.choices import ItemStatus
from cases.models import CaseItem
from core.audit.services import audit_record
from detection import hashing, images
from detection.models import EvidenceImageHash, FingerprintImageHash, ListingImageHash, RemovalFingerprint
from detection.text import normalise_title, price_band, seller_name_key, title_key

#: Item statuses at which a removal has been upheld: the listing's fingerprint joins the bank.
BANKED_STATUSES = frozenset({ItemStatus.UPHELD, ItemStatus.FINAL})
#: Item statuses that undo a removal: its fingerprint is disabled.
UNDONE_STATUSES = frozenset({ItemStatus.REINSTATED, ItemStatus.WITHDRAWN})


def on_item_status_changed(items: Sequence[Any], **details: Any) -> None:
    """The outbox subscriber (core.outbox): bank upheld removals, disable undone ones."""
    for item in items:
        if item.status in BANKED_STATUSES:
            fingerprint_record(item_id=item.pk)
        elif item.status in UNDONE_STATUSES:
            fingerprint_disable_for_item(item_id=item.pk, reason=f"Item {item.status}")


def _rights_expiry(case_id: int) -> datetime | None:
    """The end of the last right the case rests on (None if one has no end date)."""
    ends = list(IPRight.objects.filter(cases__pk=case_id).values_list("valid_until", flat=True))
    if not ends or any(end is None for end in ends):
        return None
    return timezone.make_aware(datetime.combine(max(ends), time.max))


@transaction.atomic
def fingerprint_record(*, item_id: int) -> RemovalFingerprint:
    """The bank entry of an upheld removal (made once per item; a second call re-enables and returns it)."""
    item = CaseItem.objects.select_related("listing__seller", "brand").get(pk=item_id)
    existing = RemovalFingerprint.objects.filter(source_item_id=item.pk).first()
    if existing:
        if not existing.enabled:
            existing.enabled, existing.disabled_reason = True, ""
            existing.save(update_fields=["enabled", "disabled_reason"])
        return existing
    listing, seller = item.listing, item.listing.seller
    fingerprint = RemovalFingerprint.objects.create(
        brand_id=item.brand_id,
        source_item=item,
        case_id=item.case_id,
        listing=listing,
        title=listing.title,
        title_normalised=(normalised := normalise_title(listing.title)),
        title_key=title_key(normalised, item.brand.name),
        seller=seller,
        seller_identifiers=[key] if seller and (key := seller_name_key(seller.name)) else [],
        price_band=price_band(listing.price),
        currency=listing.currency,
        expires_at=_rights_expiry(item.case_id),
    )
    hashes = dict.fromkeys(
        [
            *ListingImageHash.objects.filter(listing_id=listing.pk).values_list("hash", flat=True),
            *_evidence_hashes(item),
        ]
    )
    FingerprintImageHash.objects.bulk_create(
        FingerprintImageHash(fingerprint=fingerprint, hash=h, slots=hashing.neighbourhood(h)) for h in hashes
    )
    return fingerprint


def _evidence_hashes(item: CaseItem) -> list[str]:
    """The PDQ hashes of the brand's evidence images for this removal, good enough to match on: the item's
    own evidence, and the case's evidence when the case reports this one listing only (a case-wide
    screenshot of a case of many listings would tie every one of them to any listing that looks like it)."""
    supports = Q(evidence__item_id=item.pk)
    if not CaseItem.objects.filter(case_id=item.case_id).exclude(pk=item.pk).exists():
        supports |= Q(evidence__item__isnull=True)
    return list(
        EvidenceImageHash.objects.filter(supports, evidence__case_id=item.case_id, quality__gte=images.MIN_QUALITY)
        .order_by("evidence_id")
        .values_list("hash", flat=True)
    )


#: Each bank entry's expiry from its case's rights as they are now (renewed, shortened): the end of the last
#: right, or none while one right has no end date. Only rows whose expiry changes are written.
_EXPIRY_SQL = """
UPDATE detection_removalfingerprint f
SET expires_at = e.expires_at
FROM (
    SELECT cr.case_id,
           CASE WHEN bool_or(r.valid_until IS NULL) THEN NULL
                ELSE (max(r.valid_until) + 1)::timestamp AT TIME ZONE %s - interval '1 microsecond' END AS expires_at
    FROM cases_case_rights cr JOIN brands_ipright r ON r.id = cr.ipright_id
    GROUP BY cr.case_id
) e
WHERE f.case_id = e.case_id AND f.expires_at IS DISTINCT FROM e.expires_at
"""


def bank_refresh_expiry() -> int:
    """Follow the rights' validity dates (a renewal revives its bank entries, a shortened right ends them);
    one set-based statement, run nightly. Returns the entries changed."""
    with connection.cursor() as cursor:
        cursor.execute(_EXPIRY_SQL, [timezone.get_current_timezone_name()])
        return cursor.rowcount


def fingerprint_disable_for_item(*, item_id: int, reason: str) -> int:
    return RemovalFingerprint.objects.filter(source_item_id=item_id, enabled=True).update(
        enabled=False, disabled_reason=reason[:200]
    )


@transaction.atomic
def fingerprint_set_enabled(*, fingerprint: RemovalFingerprint, enabled: bool, actor: Any, reason: str = "") -> None:
    """A person (brand owner, moderator) switches a bank entry on or off; audited."""
    old = fingerprint.enabled
    fingerprint.enabled = enabled
    fingerprint.disabled_reason = "" if enabled else reason[:200]
    fingerprint.save(update_fields=["enabled", "disabled_reason"])
    audit_record(
        action="fingerprint.enable" if enabled else "fingerprint.disable",
        target=fingerprint,
        actor=actor,
        from_state="enabled" if old else "disabled",
        to_state="enabled" if enabled else "disabled",
        reason=reason,
        brand_id=fingerprint.brand_id,
    )
