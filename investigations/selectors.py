"""Reads of the investigations app shared by pages, the API and the admin.

`custody_verify` is the chain of custody's check: it walks a purchase's events in order and recomputes
each link (sequence numbers without gaps, each `previous_hash` equal to the hash before it, each `hash`
equal to SHA-256 over that and the event's canonical JSON), then re-reads every stored file and compares
the SHA-256 of its content with the one recorded at upload and the one the chain names. The page shows
"chain complete: N links verified", or the first link that is broken and why.
"""

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from cases.models import CaseItem
from investigations.models import CustodyEvent, TestPurchase, TestPurchaseFile
from investigations.models.purchases import GENESIS_HASH


@dataclass(frozen=True)
class BrokenLink:
    #: The sequence number of the link (or the one expected, for a missing link).
    sequence: int
    why: str


@dataclass(frozen=True)
class CustodyReport:
    links: int
    files: int
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.links > 0 and not self.broken

    @property
    def summary(self) -> str:
        if self.complete:
            return f"Chain complete: {self.links} link{'s' if self.links != 1 else ''} verified"
        if not self.links:
            return "Chain broken: no links recorded"
        first = self.broken[0]
        return f"Chain broken at link {first.sequence}: {first.why}"


def _file_sha256(stored: TestPurchaseFile) -> str | None:
    digest = hashlib.sha256()
    try:
        with stored.file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def custody_verify(purchase: TestPurchase) -> CustodyReport:
    """Recompute the purchase's chain and its files' hashes (two queries, and one read per stored file)."""
    events = list(CustodyEvent.objects.filter(purchase_id=purchase.pk).order_by("sequence"))
    files = {stored.pk: stored for stored in TestPurchaseFile.objects.filter(purchase_id=purchase.pk)}
    broken: list[BrokenLink] = []
    previous = GENESIS_HASH
    chained: set[int] = set()
    for expected, event in enumerate(events, start=1):
        if event.sequence != expected:
            broken.append(BrokenLink(expected, f"link {expected} is missing (the next one is {event.sequence})"))
        if event.previous_hash != previous:
            broken.append(BrokenLink(event.sequence, "it does not follow the link before it"))
        if event.computed_hash() != event.hash:
            broken.append(BrokenLink(event.sequence, "its content was changed after it was recorded"))
        previous = event.hash
        for ref in event.files:
            stored = files.get(ref.get("id"))
            chained.add(ref.get("id"))
            if stored is None:
                broken.append(BrokenLink(event.sequence, f"its file {ref.get('name')} is missing"))
                continue
            actual = _file_sha256(stored)
            if actual is None:
                broken.append(BrokenLink(event.sequence, f"its file {stored.original_name} is missing from storage"))
            elif not (actual == stored.sha256 == ref.get("sha256")):
                broken.append(BrokenLink(event.sequence, f"its file {stored.original_name} was changed"))
    for stored in files.values():
        if stored.pk not in chained:
            broken.append(BrokenLink(len(events) + 1, f"the file {stored.original_name} is in no link of the chain"))
    return CustodyReport(links=len(events), files=len(files), broken=broken)


def brand_purchases(*, user: Any, brand: Any) -> QuerySet[TestPurchase]:
    """The brand's test purchases, newest first, with what the list shows (no query per row)."""
    return (
        TestPurchase.objects.for_user(user, brand=brand)
        .select_related("listing__marketplace", "seller")
        .annotate(file_count=Count("files", distinct=True))
        .order_by("-id")
    )


def purchase_timeline(purchase: TestPurchase) -> list[CustodyEvent]:
    """The chain of custody, first link first, with who recorded each."""
    return list(CustodyEvent.objects.filter(purchase_id=purchase.pk).select_related("actor").order_by("sequence"))


#: Reported listings offered on a purchase's page to attach it to, at most.
ATTACHABLE_SHOWN = 50


def attachable_items(purchase: TestPurchase) -> list[CaseItem]:
    """The brand's reported listings a counterfeit verdict may back and does not yet: on the purchase's
    listing, or on another listing of its seller; newest first."""
    backs = Q(listing_id=purchase.listing_id)
    if purchase.seller_id:
        backs |= Q(listing__seller_id=purchase.seller_id)
    attached = purchase.attachments.values("item_id")
    return list(
        CaseItem.objects.for_brand(purchase.brand_id)
        .filter(backs)
        .exclude(pk__in=attached)
        .select_related("listing")
        .order_by("-pk")[:ATTACHABLE_SHOWN]
    )
