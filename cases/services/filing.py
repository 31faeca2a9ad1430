"""Filing: the typed request a filing is made of (`FilingRequest`), the one service that carries it out
(`case_submit`), and which reasons need evidence in which lane (`evidence_required`).

Every entry point builds the same request and hands it to `case_submit`: the web form (through the
draft that carries it from the preview to the submit, stored as the draft's payload), the large filing
that a Celery task files from that draft, and the API. The request holds ids and text only, so it is
stored as JSON and read back unchanged (`to_payload` / `from_payload`); its evidence files are kept in
private storage in the meantime (`evidence_staged`) and referenced by path; the case gets its own
copies, and the stored ones are deleted by whoever stored them once the case is filed.
"""

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any, Protocol, Self

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from brands.models import Brand, IPRight
from brands.selectors import brand_lane
from cases import proofs
from cases.choices import (
    DECLARATION_TEXT,
    EVIDENCE_ALWAYS_REQUIRED,
    EVIDENCE_STORED,
    ITEM_STATUS_CHANGED,
    PROOF_REQUIRED,
    Channel,
    DeclarationKind,
    EvidenceKind,
    ReasonCode,
)
from cases.models import Case, CaseDraft, CaseItem, Declaration, Evidence
from cases.services.transitions import S, _rules
from core.audit.services import audit_record, audit_record_state_changes
from core.files import private_storage, private_upload_to
from core.outbox import publish
from listings import services as listing_services

# --- the request ----------------------------------------------------------------------------------

#: The shape `FilingRequest.to_payload` writes; `from_payload` also reads the unversioned dict that
#: drafts stored before the request existed.
PAYLOAD_VERSION = 1


@dataclass(frozen=True)
class EvidenceInput:
    """An evidence file the caller has already checked (type sniffed from content, size capped)."""

    file: UploadedFile
    content_type: str
    kind: str = "screenshot"
    description: str = ""


class _Upload(Protocol):
    file: UploadedFile
    content_type: str


@dataclass(frozen=True)
class StoredEvidence:
    """A checked evidence file kept in private storage until the filing copies it onto the case."""

    path: str
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ListingRow:
    """A listing to report: its normalised URL and the brand's note to the moderator."""

    url: str
    note: str = ""


@dataclass(frozen=True)
class FilingRequest:
    """Everything a filing needs, as ids and text, checked again by `case_submit` whoever built it.

    `listings` is empty in a draft's payload: a draft's rows are checked after it is made and live in
    its own columns, and `with_listings` adds the valid ones when the draft is filed.
    """

    brand_id: int
    actor_id: int
    reason_code: str
    explanation: str
    right_ids: tuple[int, ...]
    #: The typed name that signs the three declarations, and the address they were signed from.
    signed_name: str
    ip_address: str | None = None
    listings: tuple[ListingRow, ...] = ()
    evidence: tuple[StoredEvidence, ...] = ()
    evidence_kind: str = EvidenceKind.SCREENSHOT
    channel: str = Channel.WEB
    #: Filed by automated detection on the brand's behalf (`Case.automated`), not by a person.
    automated: bool = False
    #: A repeated key returns the case filed the first time ("" for none).
    idempotency_key: str = ""
    #: Test purchases with a counterfeit verdict backing the listings (`cases.proofs`): they stand as the
    #: evidence, and a reason of `PROOF_REQUIRED` needs one for every listing.
    test_purchase_ids: tuple[int, ...] = ()

    def with_listings(self, rows: Iterable[Any]) -> Self:
        """A copy reporting `rows` (anything with `url` and `note`, e.g. checked preview rows)."""
        return replace(self, listings=tuple(ListingRow(url=row.url, note=row.note) for row in rows))

    def to_payload(self) -> dict[str, Any]:
        """The request as JSON-safe values, with the version of their shape."""
        return {"v": PAYLOAD_VERSION, **asdict(self)}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], **holder: Any) -> Self:
        """The request `to_payload` wrote. Keys the holder keeps beside it (a draft's pasted text) are ignored.

        An unversioned payload is a draft's dict from before this type: it lacked the brand, the author
        and the idempotency key, which the draft row holds and passes as `holder` (`brand_id`,
        `actor_id`, `idempotency_key`).
        """
        version = payload.get("v")
        if version is None:
            payload = {
                **holder,
                "reason_code": payload["reason_code"],
                "explanation": payload["explanation"],
                "right_ids": payload["rights"],
                "signed_name": payload["signed_name"],
                "ip_address": payload.get("ip_address"),
                "evidence": payload.get("evidence", []),
                "evidence_kind": payload.get("evidence_kind", EvidenceKind.SCREENSHOT),
                "channel": payload.get("channel", Channel.WEB),
            }
        elif version != PAYLOAD_VERSION:
            raise ValueError(f"Unknown filing payload version {version!r}.")
        names = {f.name for f in cls.__dataclass_fields__.values()}
        values = {name: value for name, value in payload.items() if name in names}
        return cls(
            **(
                values
                | {
                    "right_ids": tuple(values.get("right_ids", ())),
                    "test_purchase_ids": tuple(values.get("test_purchase_ids", ())),
                    "listings": tuple(ListingRow(**row) for row in values.get("listings", ())),
                    "evidence": tuple(
                        StoredEvidence(**{k: entry[k] for k in ("path", "name", "content_type", "size")})
                        for entry in values.get("evidence", ())
                    ),
                }
            )
        )


def evidence_store(uploads: Sequence[_Upload]) -> tuple[StoredEvidence, ...]:
    """Keep checked uploads in private storage for a filing request to reference."""
    storage = private_storage()
    stored = []
    for upload in uploads:
        name = upload.file.name or "evidence"
        path = storage.save(private_upload_to(CaseDraft, name), upload.file)
        stored.append(
            StoredEvidence(path=path, name=name[:255], content_type=upload.content_type, size=upload.file.size)
        )
    return tuple(stored)


def evidence_discard(evidence: Iterable[StoredEvidence]) -> None:
    storage = private_storage()
    for entry in evidence:
        storage.delete(entry.path)


@contextmanager
def evidence_staged(uploads: Sequence[_Upload], *, keep: bool = False) -> Iterator[tuple[StoredEvidence, ...]]:
    """Store uploads for a request built and filed in the block, and delete them when it ends (the case
    has its own copies then). With `keep`, they are deleted only if the block raises: a draft keeps
    them until it is filed or swept."""
    stored = evidence_store(uploads)
    try:
        yield stored
    except BaseException:
        evidence_discard(stored)
        raise
    if not keep:
        evidence_discard(stored)


# --- filing ---------------------------------------------------------------------------------------


def evidence_required(*, lane: str, reason_code: str) -> bool:
    """Evidence is optional only in the expedited lane, and only for reasons visible on the listing."""
    return lane != "expedited" or reason_code in EVIDENCE_ALWAYS_REQUIRED


def _sha256(file: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _check(request: FilingRequest, *, brand: Brand, rights: Sequence[IPRight], lane: str) -> None:
    """Raise a ValidationError naming every field of `request` the rules refuse."""
    errors: dict[str, list[str]] = {}
    if request.reason_code not in ReasonCode.values:
        errors.setdefault("reason_code", []).append(f"Unknown reason code {request.reason_code!r}.")
    if not request.explanation.strip():
        errors.setdefault("explanation", []).append("Explain what infringes which right.")
    if not request.signed_name.strip():
        errors.setdefault("signed_name", []).append("Sign the declarations by typing your full name.")
    if not request.right_ids:
        errors.setdefault("rights", []).append("Choose at least one verified IP right.")
    usable = set(
        IPRight.objects.for_brand(brand).usable().filter(pk__in=request.right_ids).values_list("pk", flat=True)
    )
    found = {right.pk for right in rights}
    for right_id in request.right_ids:
        if right_id not in found:
            errors.setdefault("rights", []).append(f"Right #{right_id} is not a verified, unexpired right of {brand}.")
    for right in rights:
        if right.pk not in usable:
            errors.setdefault("rights", []).append(f"{right} is not a verified, unexpired right of {brand}.")
    urls = [row.url for row in request.listings]
    max_items = _rules()["MAX_ITEMS_PER_CASE"]
    if not urls:
        errors.setdefault("listings", []).append("Report at least one listing.")
    elif len(urls) > max_items:
        errors.setdefault("listings", []).append(f"A case holds at most {max_items} listings; split the list.")
    elif len(set(urls)) != len(urls):
        errors.setdefault("listings", []).append("The same listing URL appears more than once.")
    if request.reason_code in PROOF_REQUIRED and not request.test_purchase_ids:
        errors.setdefault("test_purchases", []).append(
            f"“{ReasonCode(request.reason_code).label}” needs a counterfeit test purchase of each listing or its "
            "seller attached: file it from the test purchase's page."
        )
    elif (
        not request.evidence
        and not request.test_purchase_ids
        and evidence_required(lane=lane, reason_code=request.reason_code)
    ):
        errors.setdefault("evidence", []).append("Evidence is required for this reason code in your lane.")
    if errors:
        raise ValidationError(errors)


def _open_evidence(evidence: Sequence[StoredEvidence]) -> list[UploadedFile]:
    storage = private_storage()
    return [
        UploadedFile(storage.open(entry.path, "rb"), name=entry.name, content_type=entry.content_type, size=entry.size)
        for entry in evidence
    ]


def filing_key_lock(*, brand_id: int, idempotency_key: str) -> None:
    """Wait for, then hold until the transaction ends, the lock of a filing's idempotency key in its
    brand: whatever files, or starts filing, under one key (a submit, the API's background import) takes
    it, so a repeated request waits for the first to commit and then finds what it made."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"case:{brand_id}:{idempotency_key}"])


@transaction.atomic
def case_submit(*, request: FilingRequest) -> Case:
    """Carry out a filing request: one case with a submitted item per listing. All or nothing.

    The listing URLs must already be normalised (`listings.services.normalise_listing_url`) and unique;
    unknown listings of known marketplaces are created. A repeated idempotency key returns the case
    filed the first time instead of filing a second one. The case gets its own copies of the request's
    evidence files; the stored ones are left to whoever stored them (`evidence_staged`, or the draft).
    """
    brand = Brand.objects.get(pk=request.brand_id)
    if request.idempotency_key:
        # Serialise submits carrying the same key: a double click waits for the first filing to commit,
        # then finds and returns it instead of racing it.
        filing_key_lock(brand_id=brand.pk, idempotency_key=request.idempotency_key)
        existing = Case.objects.filter(brand=brand, idempotency_key=request.idempotency_key).first()
        if existing:
            return existing

    actor = get_user_model().objects.get(pk=request.actor_id)
    rights = list(IPRight.objects.for_brand(brand).filter(pk__in=request.right_ids))
    lane = brand_lane(brand)
    _check(request, brand=brand, rights=rights, lane=lane)
    urls = [row.url for row in request.listings]
    try:
        listings = listing_services.listings_resolve_urls(urls)
    except listing_services.UnknownMarketplace as exc:
        raise ValidationError({"listings": [f"No marketplace in the portal hosts {exc}."]}) from exc
    except listing_services.NotAListingUrl as exc:
        raise ValidationError({"listings": [str(exc)]}) from exc
    named: dict[int, list[str]] = {}
    for url in urls:
        named.setdefault(listings[url].pk, []).append(url)
    same = [group for group in named.values() if len(group) > 1]
    if same:
        raise ValidationError(
            {"listings": [f"These URLs name the same listing: {', '.join(group)}." for group in same]}
        )
    if request.test_purchase_ids:
        problems = proofs.proofs_check(
            brand_id=brand.pk,
            proof_ids=request.test_purchase_ids,
            listings=list(listings.values()),
            covers_all=request.reason_code in PROOF_REQUIRED,
        )
        if problems:
            raise ValidationError({"test_purchases": problems})
    already_open = set(
        CaseItem.objects.for_brand(brand)
        .open()
        .filter(listing__in=listings.values())
        .values_list("listing__url", flat=True)
    )
    if already_open:
        raise ValidationError(
            {"listings": [f"Already reported in one of your open cases: {url}" for url in sorted(already_open)]}
        )

    now = timezone.now()
    case = Case.objects.create(
        brand_id=brand.pk,  # by id: the caller's `case.brand` is read when it asks, not this instance
        filed_by=actor,
        lane=lane,
        reason_code=request.reason_code,
        explanation=request.explanation.strip(),
        channel=request.channel,
        automated=request.automated,
        idempotency_key=request.idempotency_key,
        submitted_at=now,
    )
    case.rights.set(rights)
    for kind in DeclarationKind:
        Declaration.objects.create(
            case=case,
            kind=kind,
            statement=DECLARATION_TEXT[kind],
            signed_name=request.signed_name.strip(),
            signed_by=actor,
            signed_at=now,
            ip_address=request.ip_address,
        )
    files = _open_evidence(request.evidence)
    stored = []
    try:
        for file in files:
            stored.append(
                Evidence.objects.create(
                    case=case,
                    file=file,
                    original_name=file.name[:255],
                    content_type=file.content_type,
                    size=file.size,
                    sha256=_sha256(file),
                    uploaded_by=actor,
                    kind=request.evidence_kind,
                )
            )
    finally:
        for file in files:
            file.close()
    publish(EVIDENCE_STORED, stored)  # stay-down detection hashes the images
    sla_due = now + timedelta(hours=_rules()["SLA_HOURS"][lane])
    try:
        with transaction.atomic():
            items = CaseItem.objects.bulk_create(
                CaseItem(
                    case=case,
                    brand_id=brand.pk,
                    listing=listings[row.url],
                    lane=lane,
                    reason_code=request.reason_code,
                    brand_note=row.note,
                    submitted_at=now,
                    sla_due_at=sla_due,
                    status_changed_at=now,
                )
                for row in request.listings
            )
    except IntegrityError as exc:
        # A concurrent filing reported one of these listings between our check and our insert.
        raise ValidationError({"listings": ["One of these listings was just reported in another open case."]}) from exc
    if request.test_purchase_ids:
        proofs.proofs_attach(proof_ids=request.test_purchase_ids, items=items, actor=actor)
    audit_record(
        action="case.submit",
        target=case,
        actor=actor,
        to_state=case.status,
        brand_id=brand.pk,
        data={"items": len(items), "lane": lane, "channel": request.channel},
        automated=request.automated,
    )
    audit_record_state_changes(
        action="item.submit",
        model=CaseItem,
        changes=((item.pk, "", S.SUBMITTED) for item in items),
        actor_id=actor.pk,
        automated=request.automated,
        brand_id=brand.pk,
    )
    publish(ITEM_STATUS_CHANGED, items)  # webhooks and the marketplace's feed, committed with the filing
    return case
