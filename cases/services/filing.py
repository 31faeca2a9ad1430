"""Filing: a brand's case with one item per reported listing, its evidence and declarations, in one
transaction (`case_submit`); which reasons need evidence in which lane (`evidence_required`)."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from brands.models import Brand, IPRight
from brands.selectors import brand_lane
from cases.choices import (
    DECLARATION_TEXT,
    EVIDENCE_ALWAYS_REQUIRED,
    ITEM_STATUS_CHANGED,
    Channel,
    DeclarationKind,
    ReasonCode,
)
from cases.models import Case, CaseItem, Declaration, Evidence
from cases.services.transitions import S, _rules
from core.audit.services import audit_record, audit_record_state_changes
from core.outbox import publish
from listings import services as listing_services

# --- filing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceInput:
    """An evidence file the caller has already checked (type sniffed from content, size capped)."""

    file: UploadedFile
    content_type: str
    kind: str = "screenshot"
    description: str = ""


def evidence_required(*, lane: str, reason_code: str) -> bool:
    """Evidence is optional only in the expedited lane, and only for reasons visible on the listing."""
    return lane != "expedited" or reason_code in EVIDENCE_ALWAYS_REQUIRED


def _sha256(file: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


@transaction.atomic
def case_submit(
    *,
    brand: Brand,
    actor: Any,
    reason_code: str,
    explanation: str,
    rights: Sequence[IPRight],
    listing_urls: Sequence[str],
    signed_name: str,
    ip_address: str | None = None,
    evidence: Sequence[EvidenceInput] = (),
    channel: str = Channel.WEB,
    idempotency_key: str = "",
    item_notes: dict[str, str] | None = None,
) -> Case:
    """File a case with one submitted item per listing URL. All or nothing.

    `listing_urls` must already be normalised (`listings.services.normalise_listing_url`) and unique;
    unknown listings of known marketplaces are created. A repeated `idempotency_key` returns the case
    filed the first time instead of filing a second one.
    """
    if idempotency_key:
        # Serialise submits carrying the same key: a double click waits for the first filing to commit,
        # then finds and returns it instead of racing it.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"case:{brand.pk}:{idempotency_key}"]
            )
        existing = Case.objects.filter(brand=brand, idempotency_key=idempotency_key).first()
        if existing:
            return existing

    errors: dict[str, list[str]] = {}
    if reason_code not in ReasonCode.values:
        errors.setdefault("reason_code", []).append(f"Unknown reason code {reason_code!r}.")
    if not explanation.strip():
        errors.setdefault("explanation", []).append("Explain what infringes which right.")
    if not signed_name.strip():
        errors.setdefault("signed_name", []).append("Sign the declarations by typing your full name.")
    usable = set(
        IPRight.objects.for_brand(brand).usable().filter(pk__in=[r.pk for r in rights]).values_list("pk", flat=True)
    )
    if not rights:
        errors.setdefault("rights", []).append("Choose at least one verified IP right.")
    for right in rights:
        if right.pk not in usable:
            errors.setdefault("rights", []).append(f"{right} is not a verified, unexpired right of {brand}.")
    max_items = _rules()["MAX_ITEMS_PER_CASE"]
    if not listing_urls:
        errors.setdefault("listings", []).append("Report at least one listing.")
    elif len(listing_urls) > max_items:
        errors.setdefault("listings", []).append(f"A case holds at most {max_items} listings; split the list.")
    elif len(set(listing_urls)) != len(listing_urls):
        errors.setdefault("listings", []).append("The same listing URL appears more than once.")
    lane = brand_lane(brand)
    if not evidence and evidence_required(lane=lane, reason_code=reason_code):
        errors.setdefault("evidence", []).append("Evidence is required for this reason code in your lane.")
    if errors:
        raise ValidationError(errors)

    try:
        listings = listing_services.listings_resolve_urls(listing_urls)
    except listing_services.UnknownMarketplace as exc:
        raise ValidationError({"listings": [f"No marketplace in the portal hosts {exc}."]}) from exc
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
        brand=brand,
        filed_by=actor,
        lane=lane,
        reason_code=reason_code,
        explanation=explanation.strip(),
        channel=channel,
        idempotency_key=idempotency_key,
        submitted_at=now,
    )
    case.rights.set(rights)
    for kind in DeclarationKind:
        Declaration.objects.create(
            case=case,
            kind=kind,
            statement=DECLARATION_TEXT[kind],
            signed_name=signed_name.strip(),
            signed_by=actor,
            signed_at=now,
            ip_address=ip_address,
        )
    for upload in evidence:
        Evidence.objects.create(
            case=case,
            file=upload.file,
            original_name=upload.file.name[:255],
            content_type=upload.content_type,
            size=upload.file.size,
            sha256=_sha256(upload.file),
            uploaded_by=actor,
            kind=upload.kind,
            description=upload.description,
        )
    sla_due = now + timedelta(hours=_rules()["SLA_HOURS"][lane])
    notes = item_notes or {}
    try:
        with transaction.atomic():
            items = CaseItem.objects.bulk_create(
                CaseItem(
                    case=case,
                    brand=brand,
                    listing=listings[url],
                    lane=lane,
                    reason_code=reason_code,
                    brand_note=notes.get(url, ""),
                    submitted_at=now,
                    sla_due_at=sla_due,
                    status_changed_at=now,
                )
                for url in listing_urls
            )
    except IntegrityError as exc:
        # A concurrent filing reported one of these listings between our check and our insert.
        raise ValidationError({"listings": ["One of these listings was just reported in another open case."]}) from exc
    audit_record(
        action="case.submit",
        target=case,
        actor=actor,
        to_state=case.status,
        brand_id=brand.pk,
        data={"items": len(items), "lane": lane, "channel": channel},
    )
    audit_record_state_changes(
        action="item.submit",
        model=CaseItem,
        changes=((item.pk, "", S.SUBMITTED) for item in items),
        actor_id=actor.pk,
        brand_id=brand.pk,
    )
    publish(ITEM_STATUS_CHANGED, items)  # webhooks and the marketplace's feed, committed with the filing
    return case
