"""Writes of test purchases: recording one, its chain of custody, its verdict, the marketplace's answer on
the order, and attaching a counterfeit verdict to a notice.

Every write locks the purchase row first (`_lock`), so two events added at once take consecutive sequence
numbers and each links to the hash of the one before it. Each write is audited (`test_purchase.*`); the
chain of custody is the purchase's own record and the audit trail the portal's.

- `purchase_record`: the listing (by URL, created when the portal does not know it yet) and a copy of
  what it shows now, the seller, the order, the dates; opens the chain with a `bought` event carrying the
  files given (an order confirmation, photos of the listing).
- `custody_event_add`: a `received` or `examined` event with its files; `received` sets the received date.
- `purchase_verdict`: the authenticator's verdict and report (text and/or file) as a `verdict` event.
  A genuine or counterfeit verdict is final; a pending or inconclusive one may be followed by another.
- `purchase_confirm_order`: the marketplace's answer through the platform API, found or not found.
  Until it answers, the purchase says "unconfirmed".
- `purchase_file_notice`: a new notice with the reason "counterfeit confirmed by test purchase" on the
  purchase's listing and other listings of its seller, filed through `cases.services.case_submit` with the
  purchase attached to every item (the purchase stands as the evidence).
- `purchase_attach`: a counterfeit verdict attached to a notice's item of the same brand, on the
  purchase's listing or another listing of its seller, with a `shared` event. The cases app reaches it
  through its proof hook (`cases.proofs`, registered in `InvestigationsConfig.ready`): it checks the
  purchases a filing names and attaches them to the items it creates.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.choices import Channel, ReasonCode
from cases.services import FilingRequest, ListingRow, case_submit
from core.audit.services import audit_record
from core.errors import Conflict, DomainError
from core.uploads import DOCUMENT_TYPES, VIDEO_TYPES, CheckedUpload, check_upload
from investigations.choices import (
    MANUAL_EVENT_TYPES,
    VERDICT_OPEN,
    CustodyEventType,
    FileKind,
    OrderConfirmation,
    RecordedSide,
    Verdict,
)
from investigations.models import CustodyEvent, TestPurchase, TestPurchaseAttachment, TestPurchaseFile
from investigations.models.purchases import GENESIS_HASH
from listings import services as listing_services
from listings.models import Listing

#: What a test purchase's files may be: documents and images, and videos.
PURCHASE_FILE_TYPES = DOCUMENT_TYPES | VIDEO_TYPES


def video_max_bytes() -> int:
    """Videos are larger than documents (which keep settings.FILE_UPLOAD_MAX_BYTES): a video may fill a whole
    request (settings.REQUEST_MAX_BYTES, which the request-size middleware enforces before any upload)."""
    return settings.REQUEST_MAX_BYTES


class TestPurchaseRefused(DomainError):
    """The rules do not allow this on the test purchase (its verdict is final, it is not counterfeit...)."""

    __test__ = False


def check_purchase_file(file: UploadedFile) -> CheckedUpload:
    """A test purchase's upload checked by content, extension and size (videos get a larger cap)."""
    head = (file.name or "").lower()
    is_video = any(head.endswith(ext) for exts in VIDEO_TYPES.values() for ext in exts)
    return check_upload(file, allowed=PURCHASE_FILE_TYPES, max_bytes=video_max_bytes() if is_video else None)


def file_kind(upload: CheckedUpload, *, default: str = FileKind.PHOTO) -> str:
    """The kind a file is filed under: its type decides for videos; a PDF is a report unless said otherwise."""
    if upload.content_type in VIDEO_TYPES:
        return FileKind.VIDEO
    if upload.content_type == "application/pdf":
        return FileKind.REPORT
    return default


def listing_snapshot(listing: Listing) -> dict[str, Any]:
    """What the listing shows now, as JSON, copied onto the purchase."""
    seller = listing.seller
    return {
        "url": listing.url,
        "external_id": listing.external_id,
        "title": listing.title,
        "price": str(listing.price) if listing.price is not None else None,
        "currency": listing.currency,
        "status": listing.status,
        "marketplace": listing.marketplace.slug,
        "seller": {"id": seller.pk, "external_id": seller.external_id, "name": seller.name} if seller else None,
        "taken_at": timezone.now().isoformat(),
    }


def _lock(purchase_id: int) -> TestPurchase:
    return TestPurchase.objects.select_for_update().get(pk=purchase_id)


def _store_files(
    purchase: TestPurchase, uploads: Iterable[CheckedUpload], *, actor: Any, kind: str | None = None
) -> list[TestPurchaseFile]:
    stored = []
    for upload in uploads:
        stored.append(
            TestPurchaseFile.objects.create(
                purchase=purchase,
                kind=kind or file_kind(upload),
                file=upload.file,
                original_name=(upload.file.name or "file")[:255],
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
                uploaded_by=actor,
            )
        )
    return stored


def _append(
    purchase: TestPurchase,
    *,
    event_type: str,
    actor: Any,
    at: datetime | None = None,
    note: str = "",
    files: Sequence[TestPurchaseFile] = (),
    data: dict[str, Any] | None = None,
) -> CustodyEvent:
    """Add the next link to the chain of the purchase (locked by the caller)."""
    last = CustodyEvent.objects.filter(purchase=purchase).order_by("-sequence").first()
    event = CustodyEvent(
        purchase=purchase,
        sequence=(last.sequence + 1) if last else 1,
        event_type=event_type,
        at=at or timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        note=note.strip(),
        files=[file.ref() for file in files],
        data=data or {},
        previous_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = event.computed_hash()
    event.save()
    return event


def _audit(purchase: TestPurchase, action: str, actor: Any, **kwargs: Any) -> None:
    audit_record(action=f"test_purchase.{action}", target=purchase, actor=actor, brand_id=purchase.brand_id, **kwargs)


def _check_dates(purchased_on: date, received_on: date | None) -> None:
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    if purchased_on > today:
        errors["purchased_on"] = ["The purchase date is in the future."]
    if received_on is not None and received_on > today:
        errors["received_on"] = ["The date received is in the future."]
    if received_on is not None and received_on < purchased_on:
        errors["received_on"] = ["The item cannot have been received before it was bought."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def purchase_record(
    *,
    brand: Any,
    actor: Any,
    listing_url: str,
    order_id: str,
    purchased_on: date,
    received_on: date | None = None,
    authenticator_name: str = "",
    authenticator_organisation: str = "",
    note: str = "",
    files: Sequence[CheckedUpload] = (),
    side: str = RecordedSide.BRAND,
) -> TestPurchase:
    """Record a test purchase of `brand` on the listing at `listing_url` and open its chain of custody.

    The listing is created when the portal does not know it yet (as a filing does); its seller and a copy of
    what it shows are kept. The order starts unconfirmed: the marketplace answers through the platform API.
    """
    order_id = order_id.strip()
    if not order_id:
        raise ValidationError({"order_id": ["Enter the order number the marketplace gave."]})
    _check_dates(purchased_on, received_on)
    try:
        url = listing_services.normalise_listing_url(listing_url.strip())
        listing = listing_services.listings_resolve_urls([url])[url]
    except listing_services.UnknownMarketplace as exc:
        raise ValidationError({"listing_url": [f"No marketplace in the portal hosts {exc}."]}) from exc
    except listing_services.NotAListingUrl as exc:
        raise ValidationError({"listing_url": [str(exc)]}) from exc
    except ValueError as exc:  # not an absolute http(s) URL
        raise ValidationError({"listing_url": ["Enter the listing's full address, starting with https://."]}) from exc
    if TestPurchase.objects.for_brand(brand).filter(listing=listing, order_id=order_id).exists():
        raise ValidationError({"order_id": [f"Order {order_id} on this listing is already recorded."]})
    listing = Listing.objects.select_related("seller", "marketplace").get(pk=listing.pk)
    try:
        with transaction.atomic():
            purchase = TestPurchase.objects.create(
                brand_id=getattr(brand, "pk", brand),
                listing=listing,
                seller=listing.seller,
                listing_snapshot=listing_snapshot(listing),
                order_id=order_id,
                purchased_on=purchased_on,
                received_on=received_on,
                authenticator_name=authenticator_name.strip(),
                authenticator_organisation=authenticator_organisation.strip(),
                recorded_by=actor,
                recorded_side=side,
            )
    except IntegrityError as exc:  # the same order recorded by a concurrent request (a double submit)
        raise ValidationError({"order_id": [f"Order {order_id} on this listing is already recorded."]}) from exc
    stored = _store_files(purchase, files, actor=actor)
    bought_at = timezone.make_aware(datetime.combine(purchased_on, datetime.min.time()))
    _append(purchase, event_type=CustodyEventType.BOUGHT, actor=actor, at=bought_at, note=note, files=stored)
    if received_on is not None:
        received_at = timezone.make_aware(datetime.combine(received_on, datetime.min.time()))
        _append(purchase, event_type=CustodyEventType.RECEIVED, actor=actor, at=received_at)
    _audit(
        purchase,
        "record",
        actor,
        to_state=purchase.verdict,
        data={"listing_id": listing.pk, "order_id": order_id, "files": len(stored), "side": side},
    )
    return purchase


@transaction.atomic
def custody_event_add(
    *,
    purchase: TestPurchase,
    actor: Any,
    event_type: str,
    at: datetime | None = None,
    note: str = "",
    files: Sequence[CheckedUpload] = (),
) -> CustodyEvent:
    """Add a `received` or `examined` event with its files. Receiving sets the purchase's received date
    when it has none."""
    if event_type not in MANUAL_EVENT_TYPES:
        raise ValidationError({"event_type": ["Choose received or examined: the other events are recorded for you."]})
    at = at or timezone.now()
    if at > timezone.now():
        raise ValidationError({"at": ["The time is in the future."]})
    if not note.strip() and not files:
        raise ValidationError({"note": ["Say what happened, or attach a photo, video or report."]})
    purchase = _lock(purchase.pk)
    stored = _store_files(purchase, files, actor=actor)
    event = _append(purchase, event_type=event_type, actor=actor, at=at, note=note, files=stored)
    if event_type == CustodyEventType.RECEIVED and purchase.received_on is None:
        purchase.received_on = timezone.localdate(at)
        purchase.save(update_fields=["received_on"])
    _audit(purchase, "custody", actor, data={"event": event_type, "sequence": event.sequence, "files": len(stored)})
    return event


@transaction.atomic
def purchase_verdict(
    *,
    purchase: TestPurchase,
    actor: Any,
    verdict: str,
    report: str = "",
    authenticator_name: str = "",
    authenticator_organisation: str = "",
    report_file: CheckedUpload | None = None,
) -> TestPurchase:
    """Record the authenticator's verdict with their report (text, file or both) as a `verdict` event."""
    errors: dict[str, list[str]] = {}
    if verdict not in Verdict.values or verdict == Verdict.PENDING:
        errors["verdict"] = ["Choose genuine, counterfeit or inconclusive."]
    if not report.strip() and report_file is None:
        errors["report"] = ["Give the authenticator's findings, or attach their report."]
    purchase = _lock(purchase.pk)
    name = authenticator_name.strip() or purchase.authenticator_name
    if not name:
        errors["authenticator_name"] = ["Name the authenticator who examined the item."]
    if errors:
        raise ValidationError(errors)
    if purchase.verdict not in VERDICT_OPEN:
        raise Conflict(
            f"{purchase} already has a final verdict ({Verdict(purchase.verdict).label.lower()}): it is kept as given."
        )
    stored = _store_files(purchase, [report_file] if report_file else [], actor=actor, kind=FileKind.REPORT)
    old = purchase.verdict
    purchase.verdict = verdict
    purchase.verdict_report = report.strip()
    purchase.verdict_at = timezone.now()
    purchase.authenticator_name = name
    purchase.authenticator_organisation = authenticator_organisation.strip() or purchase.authenticator_organisation
    purchase.save(
        update_fields=["verdict", "verdict_report", "verdict_at", "authenticator_name", "authenticator_organisation"]
    )
    _append(
        purchase,
        event_type=CustodyEventType.VERDICT,
        actor=actor,
        note=purchase.verdict_report,
        files=stored,
        data={
            "verdict": verdict,
            "authenticator": purchase.authenticator_name,
            "organisation": purchase.authenticator_organisation,
        },
    )
    _audit(purchase, "verdict", actor, from_state=old, to_state=verdict, reason=purchase.verdict_report[:500])
    return purchase


@transaction.atomic
def purchase_confirm_order(*, purchase_id: int, found: bool, note: str = "") -> TestPurchase:
    """The marketplace's answer on the order (through the platform API): it exists for the listing, or not.
    A later answer replaces an earlier one (the marketplace corrects itself); each is audited."""
    purchase = _lock(purchase_id)
    old = purchase.order_confirmation
    purchase.order_confirmation = OrderConfirmation.CONFIRMED if found else OrderConfirmation.NOT_FOUND
    purchase.order_checked_at = timezone.now()
    purchase.save(update_fields=["order_confirmation", "order_checked_at"])
    _audit(
        purchase,
        "confirm_order",
        None,
        automated=True,
        from_state=old,
        to_state=purchase.order_confirmation,
        reason=note[:500] or "Answered by the marketplace's system.",
    )
    return purchase


# --- attaching to notices (the cases' proof hook) -------------------------------------------------------


def matches_listing(purchase: TestPurchase, listing: Listing) -> bool:
    """A purchase backs a report of its own listing, or of another listing of the same seller."""
    return purchase.listing_id == listing.pk or (
        purchase.seller_id is not None and purchase.seller_id == listing.seller_id
    )


def _usable(brand_id: int, purchase_ids: Sequence[int]) -> tuple[dict[int, TestPurchase], list[str]]:
    found = {
        purchase.pk: purchase
        for purchase in TestPurchase.objects.for_brand(brand_id).filter(pk__in=purchase_ids).select_related("listing")
    }
    errors = []
    for pk in purchase_ids:
        purchase = found.get(pk)
        if purchase is None:
            errors.append(f"Test purchase #{pk} is not one of this brand's.")
        elif purchase.verdict != Verdict.COUNTERFEIT:
            errors.append(
                f"{purchase} has no counterfeit verdict ({Verdict(purchase.verdict).label.lower()}): only a "
                "counterfeit verdict backs a notice."
            )
        elif purchase.order_confirmation == OrderConfirmation.NOT_FOUND:
            # An unconfirmed order may back a notice (the record says so); one the marketplace denies may not.
            errors.append(f"The marketplace found no order {purchase.order_id} for {purchase}'s listing.")
    return found, errors


def proofs_check(
    *, brand_id: int, proof_ids: Sequence[int], listings: Sequence[Listing], covers_all: bool
) -> list[str]:
    """What is wrong with backing a filing of `listings` by the purchases `proof_ids` (the cases' proof hook).

    Each purchase must be a counterfeit verdict of the brand and match at least one listing; with
    `covers_all` (the reason "counterfeit confirmed by test purchase"), every listing must be matched."""
    found, errors = _usable(brand_id, proof_ids)
    usable = [p for p in found.values() if p.verdict == Verdict.COUNTERFEIT]
    for purchase in usable:
        if not any(matches_listing(purchase, listing) for listing in listings):
            errors.append(f"{purchase} was made on another listing and seller than the ones reported.")
    if covers_all:
        for listing in listings:
            if not any(matches_listing(purchase, listing) for purchase in usable):
                errors.append(f"No counterfeit test purchase of this listing or its seller backs {listing.url}.")
    return errors


def proofs_attach(*, proof_ids: Sequence[int], items: Sequence[Any], actor: Any) -> int:
    """Attach each purchase to the filed items it matches (the cases' proof hook, inside the filing's
    transaction, after `proofs_check`). Returns how many attachments were made."""
    made = 0
    for purchase_id in proof_ids:
        purchase = _lock(purchase_id)
        for item in items:
            if matches_listing(purchase, item.listing):
                made += _attach(purchase, item, actor)
    return made


def _attach(purchase: TestPurchase, item: Any, actor: Any) -> int:
    if TestPurchaseAttachment.objects.filter(purchase=purchase, item=item).exists():
        return 0
    TestPurchaseAttachment.objects.create(purchase=purchase, item=item, attached_by=actor)
    _append(
        purchase,
        event_type=CustodyEventType.SHARED,
        actor=actor,
        note=f"Attached to case #{item.case_id}, item #{item.pk} ({item.listing.url}).",
        data={"case_id": item.case_id, "item_id": item.pk, "listing_id": item.listing_id},
    )
    _audit(purchase, "attach", actor, data={"case_id": item.case_id, "item_id": item.pk})
    return 1


def purchase_file_notice(
    *,
    purchase: TestPurchase,
    actor: Any,
    right_ids: Sequence[int],
    listing_ids: Sequence[int],
    explanation: str,
    signed_name: str,
    ip_address: str | None = None,
    idempotency_key: str = "",
) -> Any:
    """File a notice "counterfeit confirmed by test purchase" on `listing_ids` (the purchase's listing and
    others of its seller) with the purchase attached to each item; returns the case. The filing's own checks
    apply (rights, open reports of the same listing, the declarations' signature), and the proof hook refuses
    a purchase without a counterfeit verdict or a listing it does not back."""
    if purchase.verdict != Verdict.COUNTERFEIT:
        raise TestPurchaseRefused(f"{purchase} has no counterfeit verdict: it cannot back a notice.")
    listings = Listing.objects.filter(pk__in=listing_ids).only("url").order_by("pk")
    return case_submit(
        request=FilingRequest(
            brand_id=purchase.brand_id,
            actor_id=actor.pk,
            reason_code=ReasonCode.COUNTERFEIT_TEST_PURCHASE,
            explanation=explanation,
            right_ids=tuple(right_ids),
            signed_name=signed_name,
            ip_address=ip_address,
            listings=tuple(ListingRow(url=listing.url) for listing in listings),
            channel=Channel.WEB,
            idempotency_key=idempotency_key,
            test_purchase_ids=(purchase.pk,),
        )
    )


@transaction.atomic
def purchase_attach(*, purchase: TestPurchase, item: Any, actor: Any) -> TestPurchaseAttachment:
    """Attach a counterfeit verdict to an existing item of the same brand (its listing or its seller's)."""
    purchase = _lock(purchase.pk)
    if item.brand_id != purchase.brand_id:
        raise TestPurchaseRefused("The item is not one of this brand's.", field="item")
    _, errors = _usable(purchase.brand_id, [purchase.pk])
    if not errors and not matches_listing(purchase, item.listing):
        errors.append(f"{purchase} was made on another listing and seller than item #{item.pk}'s.")
    if errors:
        raise TestPurchaseRefused(" ".join(errors), field="item")
    if not _attach(purchase, item, actor):
        raise Conflict(f"{purchase} is already attached to item #{item.pk}.")
    return TestPurchaseAttachment.objects.get(purchase=purchase, item=item)
