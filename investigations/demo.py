"""Demo data of the test purchases (run by `seed_demo` after the cases): for each demo brand, on listings of
its goods that no notice reports yet,

- a counterfeit verdict whose order the marketplace confirmed, with photos, an unboxing video and the
  authenticator's report, filed as a notice "counterfeit confirmed by test purchase" (so attached to it);
- an item received and waiting for its examination, the order still unconfirmed;
- a genuine verdict (the seller is an authorised reseller), the order confirmed.

Everything goes through the services, so the chains of custody verify. Idempotent: a brand that has its demo
purchases gets nothing more.
"""

from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from brands.models import IPRight
from cases.models import CaseItem
from investigations.choices import CustodyEventType, Verdict
from investigations.models import TestPurchase
from investigations.services import purchases as service
from listings.models import Listing

#: Enough bytes of each type for the content checks (`core.uploads`): a PNG, an MP4 and a PDF header.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

ORDER_PREFIX = "DEMO-TP-"


def _file(name: str, content: bytes) -> Any:
    return service.check_purchase_file(SimpleUploadedFile(name, content))


def _free_listings(brand: Any, words: str) -> list[Listing]:
    """Listings of the brand's goods (their title names it) that none of its notices reports."""
    reported = CaseItem.objects.filter(brand=brand).values("listing_id")
    return list(
        Listing.objects.filter(title__icontains=words, seller__isnull=False).exclude(pk__in=reported).order_by("pk")
    )


def seed_test_purchases(*, brand: Any, user: Any, goods: str) -> int:
    """The demo purchases of `brand`, recorded by `user` (a member who files); returns how many were made."""
    if TestPurchase.objects.for_brand(brand).filter(order_id__startswith=ORDER_PREFIX).exists():
        return 0
    free = _free_listings(brand, goods)
    if len(free) < 3:
        return 0
    today = timezone.localdate()
    now = timezone.now()
    fake_listing, waiting_listing, genuine_listing = free[:3]

    fake = service.purchase_record(
        brand=brand,
        actor=user,
        listing_url=fake_listing.url,
        order_id=f"{ORDER_PREFIX}{brand.slug}-1",
        purchased_on=today - timedelta(days=21),
        received_on=today - timedelta(days=14),
        authenticator_name="Dana Okafor",
        authenticator_organisation=f"{brand.name} brand protection lab",
        note="Bought under a private name, delivered to a mail drop.",
        files=[_file("listing-screenshot.png", PNG), _file("order-confirmation.pdf", PDF)],
    )
    service.purchase_confirm_order(purchase_id=fake.pk, found=True, note="Order found for this listing.")
    service.custody_event_add(
        purchase=fake,
        actor=user,
        event_type=CustodyEventType.EXAMINED,
        at=now - timedelta(days=10),
        note="Seal broken on camera; item photographed beside a genuine reference.",
        files=[_file("unboxing.mp4", MP4), _file("item-front.png", PNG), _file("label-detail.png", PNG)],
    )
    fake = service.purchase_verdict(
        purchase=fake,
        actor=user,
        verdict=Verdict.COUNTERFEIT,
        report="Logo embossing, stitching pitch and the serial label do not match any genuine production run.",
        report_file=_file("authentication-report.pdf", PDF),
    )
    rights = IPRight.objects.for_brand(brand).usable().values_list("pk", flat=True)[:1]
    if rights:
        service.purchase_file_notice(
            purchase=fake,
            actor=user,
            right_ids=list(rights),
            listing_ids=[fake_listing.pk],
            explanation="Counterfeit confirmed by test purchase: the authenticator's report is attached.",
            signed_name=user.get_full_name() or user.username,
            idempotency_key=f"demo-test-purchase-{brand.slug}",
        )

    waiting = service.purchase_record(
        brand=brand,
        actor=user,
        listing_url=waiting_listing.url,
        order_id=f"{ORDER_PREFIX}{brand.slug}-2",
        purchased_on=today - timedelta(days=6),
        files=[_file("listing-screenshot.png", PNG)],
    )
    service.custody_event_add(
        purchase=waiting,
        actor=user,
        event_type=CustodyEventType.RECEIVED,
        at=now - timedelta(days=1),
        note="Parcel arrived sealed; stored in the evidence locker.",
        files=[_file("parcel.png", PNG)],
    )

    genuine = service.purchase_record(
        brand=brand,
        actor=user,
        listing_url=genuine_listing.url,
        order_id=f"{ORDER_PREFIX}{brand.slug}-3",
        purchased_on=today - timedelta(days=30),
        received_on=today - timedelta(days=25),
        authenticator_name="Dana Okafor",
        files=[_file("item.png", PNG)],
    )
    service.purchase_confirm_order(purchase_id=genuine.pk, found=True)
    service.purchase_verdict(
        purchase=genuine,
        actor=user,
        verdict=Verdict.GENUINE,
        report="Genuine: the seller is an authorised reseller of grey-market stock.",
    )
    return 3
