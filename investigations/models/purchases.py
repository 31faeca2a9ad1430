"""Test purchases: a brand (or the marketplace) buys the item a listing offers, has it examined, and keeps
what it bought, received and concluded as evidence a notice can rest on.

- `TestPurchase`: the listing, a copy of what it showed when the purchase was recorded (`listing_snapshot`),
  the seller, the order id and whether the marketplace confirmed it (`order_confirmation`, answered through
  the platform API), the dates, the authenticator and their verdict with their report.
- `TestPurchaseFile`: photos, videos and reports, each stored privately with its SHA-256, size and the
  type detected from its content (`core.uploads`).
- `CustodyEvent`: the chain of custody. Each event (bought, received, examined, verdict, shared) carries the
  hash of the one before it and its own hash over that and its canonical JSON (`canonical`), so a link
  removed, inserted or changed breaks the chain (`investigations.selectors.custody_verify`).

Rows of the chain and the files are never changed or deleted: PostgreSQL triggers (django-pgtrigger
`Protect`) refuse UPDATE and DELETE on them, whatever code runs the statement.
"""

import hashlib
import json
from datetime import UTC
from typing import Any

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from core.files import StoredDocument
from investigations.choices import CustodyEventType, FileKind, OrderConfirmation, RecordedSide, Verdict
from investigations.querysets import PurchaseChildQuerySet, TestPurchaseQuerySet

#: The `previous_hash` of a chain's first event.
GENESIS_HASH = "0" * 64


class TestPurchase(models.Model):
    __test__ = False  # not a pytest test class, whatever its name

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+")
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey(
        "listings.Seller",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The listing's seller when the purchase was recorded (unknown for a listing first seen here).",
    )
    #: What the listing showed when the purchase was recorded: url, title, price, currency, status, seller.
    listing_snapshot = models.JSONField(default=dict)
    order_id = models.CharField(max_length=100, help_text="The marketplace's order number.")
    order_confirmation = models.CharField(
        max_length=12, choices=OrderConfirmation, default=OrderConfirmation.UNCONFIRMED
    )
    order_checked_at = models.DateTimeField(null=True, blank=True)
    purchased_on = models.DateField()
    received_on = models.DateField(null=True, blank=True)
    authenticator_name = models.CharField(max_length=200, blank=True)
    authenticator_organisation = models.CharField(max_length=200, blank=True)
    verdict = models.CharField(max_length=12, choices=Verdict, default=Verdict.PENDING)
    verdict_report = models.TextField(blank=True, help_text="The authenticator's findings, in their words.")
    verdict_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_side = models.CharField(max_length=12, choices=RecordedSide, default=RecordedSide.BRAND)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = TestPurchaseQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "listing", "order_id"], name="test_purchase_order_unique"),
        ]
        indexes = [
            models.Index(fields=["brand", "-id"], name="test_purchase_brand_idx"),
            models.Index(fields=["listing"], name="test_purchase_listing_idx"),
            models.Index(fields=["seller"], name="test_purchase_seller_idx"),
        ]

    def __str__(self) -> str:
        return f"Test purchase #{self.pk} (order {self.order_id})"


class TestPurchaseFile(StoredDocument):
    """A photo, video or report of a test purchase, with the SHA-256 of its content at upload."""

    __test__ = False

    purchase = models.ForeignKey(TestPurchase, on_delete=models.PROTECT, related_name="files")
    kind = models.CharField(max_length=8, choices=FileKind)

    objects = PurchaseChildQuerySet.as_manager()

    class Meta:
        triggers = [
            pgtrigger.Protect(name="test_purchase_file_immutable", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def ref(self) -> dict[str, Any]:
        """How a custody event names the file: what the chain's hashes cover."""
        return {"id": self.pk, "name": self.original_name, "kind": self.kind, "sha256": self.sha256, "size": self.size}


class CustodyEvent(models.Model):
    """One link of a test purchase's chain of custody. Append-only (a trigger refuses UPDATE and DELETE)."""

    purchase = models.ForeignKey(TestPurchase, on_delete=models.PROTECT, related_name="custody")
    #: 1, 2, 3… within the purchase: a missing number is a missing link.
    sequence = models.PositiveIntegerField()
    event_type = models.CharField(max_length=10, choices=CustodyEventType)
    #: When it happened (given by the person, e.g. when the parcel arrived); `recorded_at` is when it was written.
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    #: The files this event added: `TestPurchaseFile.ref()` of each, hashes included.
    files = models.JSONField(default=list, blank=True)
    #: What the event decided or named (a verdict, the case item it was shared with).
    data = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    recorded_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = PurchaseChildQuerySet.as_manager()

    class Meta:
        ordering = ["purchase", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["purchase", "sequence"], name="custody_event_sequence_unique"),
        ]
        triggers = [
            pgtrigger.Protect(name="custody_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.get_event_type_display()} ({self.purchase_id})"

    def canonical(self) -> str:
        """The event as canonical JSON (sorted keys, no spaces, UTC times): what its hash covers."""
        return canonical_json(
            {
                "purchase": self.purchase_id,
                "sequence": self.sequence,
                "event_type": self.event_type,
                "at": self.at.astimezone(UTC).isoformat(),
                "actor": self.actor_id,
                "note": self.note,
                "files": self.files,
                "data": self.data,
            }
        )

    def computed_hash(self) -> str:
        return link_hash(self.previous_hash, self.canonical())


class TestPurchaseAttachment(models.Model):
    """A test purchase attached to a notice's item: its evidence, and what unlocks the reason code
    "counterfeit confirmed by test purchase" (`investigations.services.purchases`, the cases' proof hook)."""

    __test__ = False

    purchase = models.ForeignKey(TestPurchase, on_delete=models.PROTECT, related_name="attachments")
    item = models.ForeignKey("cases.CaseItem", on_delete=models.PROTECT, related_name="+")
    attached_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    attached_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = PurchaseChildQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["purchase", "item"], name="test_purchase_attachment_unique")]
        indexes = [models.Index(fields=["item"], name="test_purchase_attach_item_idx")]

    def __str__(self) -> str:
        return f"Test purchase #{self.purchase_id} on item #{self.item_id}"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(previous_hash: str, canonical: str) -> str:
    """A link's hash: SHA-256 over the previous link's hash and the event's canonical JSON."""
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()
