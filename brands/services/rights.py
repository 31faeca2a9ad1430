"""The brand's IP rights registry: adding a right (pending verification by marketplace staff), changing
its registration details, retiring it, and storing its documents.

Changing the registration details of a right that was verified (or rejected, or expired) sends it back to
pending verification: the marketplace verified the old details, not the new ones. Adding a document to a
refused right sends it back too (`verification`: staff verify or refuse rights). A retired right stays
in the registry for the cases that cite it; it is no longer edited and takes no new documents.
"""

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from brands.choices import DocumentKind, IPRightKind, IPRightStatus
from brands.models import Brand, IPRight, IPRightDocument
from brands.services import verification
from brands.services.common import day, display_name, stored_document
from core.accounts.models import User
from core.audit.services import audit_record
from core.uploads import CheckedUpload

#: What the marketplace verifies: changing any of these on a right that is not pending re-opens verification.
REGISTRATION_FIELDS = (
    "kind",
    "name",
    "registration_number",
    "office",
    "classes",
    "owner_name",
    "valid_from",
    "valid_until",
)


def _validate_right(*, right: IPRight) -> None:
    """Rules a form cannot check alone: the validity period's order and one right per registration."""
    if right.kind not in IPRightKind.values:
        raise ValidationError({"kind": f"{right.kind!r} is not a kind of IP right."})
    if right.valid_from and right.valid_until and right.valid_until < right.valid_from:
        raise ValidationError(
            {
                "valid_until": f"The end of validity ({right.valid_until:%Y-%m-%d}) is before its start"
                f" ({right.valid_from:%Y-%m-%d})."
            }
        )
    duplicate = (
        IPRight.objects.filter(
            brand_id=right.brand_id, office__iexact=right.office, registration_number__iexact=right.registration_number
        )
        .exclude(pk=right.pk)
        .first()
    )
    if duplicate is not None:
        raise ValidationError(
            {
                "registration_number": f"{right.office} {right.registration_number} is already in the registry"
                f" as {duplicate.name}."
            }
        )


def _audit_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@transaction.atomic
def ip_right_create(
    *,
    brand: Brand,
    actor: User,
    kind: str,
    name: str,
    registration_number: str,
    office: str,
    owner_name: str,
    classes: list[int] | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    document: CheckedUpload | None = None,
    document_kind: str = DocumentKind.CERTIFICATE,
) -> IPRight:
    """Add a right to the brand's registry, pending verification by marketplace staff, with its document."""
    right = IPRight(
        brand=brand,
        kind=kind,
        name=name.strip(),
        registration_number=registration_number.strip(),
        office=office.strip(),
        owner_name=owner_name.strip(),
        classes=sorted(set(classes or [])),
        valid_from=valid_from,
        valid_until=valid_until,
        status=IPRightStatus.PENDING,
    )
    _validate_right(right=right)
    right.save()
    audit_record(
        action="ip_right.create",
        target=right,
        actor=actor,
        to_state=right.status,
        brand_id=brand.pk,
        data={field: _audit_value(getattr(right, field)) for field in REGISTRATION_FIELDS},
    )
    if document is not None:
        ip_right_add_document(right=right, actor=actor, upload=document, kind=document_kind)
    return right


@transaction.atomic
def ip_right_update(*, right: IPRight, actor: User, data: Mapping[str, Any]) -> IPRight:
    """Change a right's registration details; a right that is not pending goes back to pending.

    `data` holds any of REGISTRATION_FIELDS. The right is locked, so a verification that commits while
    the owner edits is either seen (and undone, since it verified the old details) or waits.
    """
    unknown = set(data) - set(REGISTRATION_FIELDS)
    if unknown:
        raise ValueError(f"Not registration fields of an IP right: {sorted(unknown)}")
    right = IPRight.objects.select_for_update().get(pk=right.pk)
    if right.retired_at is not None:
        raise ValidationError(f"{right} was retired on {day(right.retired_at)}; a retired right is not edited.")
    cleaned = {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}
    if "classes" in cleaned:
        cleaned["classes"] = sorted(set(cleaned["classes"] or []))
    changes = {key: (getattr(right, key), value) for key, value in cleaned.items() if getattr(right, key) != value}
    if not changes:
        return right
    for key, (_, new) in changes.items():
        setattr(right, key, new)
    _validate_right(right=right)
    from_state = right.status
    update_fields = list(changes)
    if right.status != IPRightStatus.PENDING:
        right.status = IPRightStatus.PENDING
        right.verified_at = None
        right.verified_by = None
        update_fields += ["status", "verified_at", "verified_by"]
    right.save(update_fields=update_fields)
    audit_record(
        action="ip_right.update",
        target=right,
        actor=actor,
        from_state=from_state,
        to_state=right.status,
        brand_id=right.brand_id,
        data={key: [_audit_value(old), _audit_value(new)] for key, (old, new) in changes.items()},
    )
    return right


@transaction.atomic
def ip_right_retire(*, right: IPRight, actor: User, reason: str = "") -> IPRight:
    """Mark that the brand no longer relies on a right: it stays in the registry, new cases cannot cite it."""
    right = IPRight.objects.select_for_update().get(pk=right.pk)
    if right.retired_at is not None:
        raise ValidationError(f"{right} was already retired on {day(right.retired_at)}.")
    right.retired_at = timezone.now()
    right.save(update_fields=["retired_at"])
    audit_record(
        action="ip_right.retire",
        target=right,
        actor=actor,
        from_state=right.status,
        to_state="retired",
        reason=reason.strip(),
        brand_id=right.brand_id,
    )
    return right


@transaction.atomic
def ip_right_add_document(
    *, right: IPRight, actor: User, upload: CheckedUpload, kind: str = DocumentKind.CERTIFICATE
) -> IPRightDocument:
    """Store a checked document (see `core.uploads.check_upload`) with a right, in private storage."""
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": f"{kind!r} is not a kind of document."})
    if right.retired_at is not None:
        raise ValidationError(f"{right} is retired; it takes no new documents.")
    if right.status == IPRightStatus.REJECTED:
        # The document staff asked for: the right goes back to them (under its lock, as a verification takes).
        right = verification.RIGHTS.lock(right.pk)
        if right.status == IPRightStatus.REJECTED:
            verification.ip_right_resubmit(right=right, actor=actor, why=f"Document added: {display_name(upload)}")
    document = IPRightDocument.objects.create(right=right, kind=kind, **stored_document(upload, uploaded_by=actor))
    audit_record(
        action="ip_right.add_document",
        target=right,
        actor=actor,
        brand_id=right.brand_id,
        data={"document_id": document.pk, "name": document.original_name, "kind": kind, "sha256": upload.sha256},
    )
    return document
