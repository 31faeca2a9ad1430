"""The banks: one fingerprint per upheld removal, made when the cases' item reaches a final removal status.

The cases app publishes every item move on `cases.choices.ITEM_STATUS_CHANGED` (core.outbox); this module
listens (`DetectionConfig.ready`), in the same transaction: a removal upheld (by the brand's answer, a
moderator, the lapse rule or an appeal) or final (its counter-notice window passed) joins the bank; a
removal undone (reinstated, withdrawn) leaves it disabled.
"""

from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone

from brands.models import IPRight
from cases.choices import ItemStatus
from cases.models import CaseItem
from core.audit.services import audit_record
from detection import hashing
from detection.models import FingerprintImageHash, ListingImageHash, RemovalFingerprint
from detection.text import normalise_title, price_band, seller_name_key

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
    item = CaseItem.objects.select_related("listing__seller").get(pk=item_id)
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
        title_normalised=normalise_title(listing.title),
        seller=seller,
        seller_identifiers=[key] if seller and (key := seller_name_key(seller.name)) else [],
        price_band=price_band(listing.price),
        currency=listing.currency,
        expires_at=_rights_expiry(item.case_id),
    )
    hashes = ListingImageHash.objects.filter(listing_id=listing.pk).values_list("hash", flat=True)
    FingerprintImageHash.objects.bulk_create(
        FingerprintImageHash(fingerprint=fingerprint, hash=h, slots=hashing.neighbourhood(h)) for h in hashes
    )
    return fingerprint


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
