"""What happens to a re-listing candidate: filed (by the brand in one click, or automatically for a strong
match by the same seller while the brand is in the expedited lane), dismissed, or withdrawn with its item.

A filing is a new case through the cases' own service (`case_submit`), relying on the rights of the earlier
case that are still usable and carrying copies of its evidence."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from brands.models import Brand, IPRight
from brands.selectors import brand_lane
from cases.choices import Channel, ItemStatus
from cases.models import Case, Declaration, Evidence
from cases.services.filing import FilingRequest, ListingRow, StoredEvidence, case_submit
from core.audit.services import audit_record, audit_record_state_changes
from core.errors import DomainError
from detection.choices import CandidateStatus, Strength
from detection.models import ReListingCandidate
from detection.selectors import policies_of

AUTOMATED_SIGNATURE = " (automated re-listing detection on the brand's behalf)"


class CandidateNotOpen(DomainError):
    code = "conflict"
    status = 409


def _explanation(candidate: ReListingCandidate, earlier: Case) -> str:
    signals = ", ".join(candidate.signals.get("matched", [])) or "none"
    return (
        f"Re-listing of a listing removed under case #{earlier.pk} (item #{candidate.fingerprint.source_item_id}), "
        f"found by automated re-listing detection: matched on {signals}, score {candidate.score:.2f}.\n\n"
        f"Earlier explanation: {earlier.explanation}"
    )[:5000]


def _request(candidate: ReListingCandidate, *, actor: Any, automated: bool) -> FilingRequest:
    fingerprint = candidate.fingerprint
    earlier = fingerprint.case
    rights = IPRight.objects.for_brand(candidate.brand_id).usable().filter(cases=earlier)
    evidence = tuple(
        StoredEvidence(path=e.file.name, name=e.original_name, content_type=e.content_type, size=e.size)
        for e in Evidence.objects.filter(case=earlier, counter_notice__isnull=True)
    )
    if automated:
        signed = Declaration.objects.filter(case=earlier).values_list("signed_name", flat=True).first() or "Brand"
        signed_name = f"{signed}{AUTOMATED_SIGNATURE}"[:150]
    else:
        signed_name = actor.get_full_name() or actor.get_username()
    return FilingRequest(
        brand_id=candidate.brand_id,
        actor_id=actor.pk,
        reason_code=earlier.reason_code,
        explanation=_explanation(candidate, earlier),
        right_ids=tuple(rights.values_list("pk", flat=True)),
        signed_name=signed_name,
        listings=(
            ListingRow(url=candidate.listing.url, note=f"Re-listing of removed listing {fingerprint.listing.url}"),
        ),
        evidence=evidence,
        channel=Channel.API if automated else Channel.WEB,
        automated=automated,
        idempotency_key=f"relisting-{candidate.pk}",
    )


@transaction.atomic
def candidate_file(*, candidate_id: int, actor: Any = None, automated: bool = False) -> Case:
    """File the candidate as a new case of its brand. Refused unless it is open; the cases' rules apply
    (a usable right, evidence where the lane needs it, the listing not already in an open case)."""
    candidate = (
        ReListingCandidate.objects.select_for_update()
        .select_related("fingerprint__case", "fingerprint__listing", "listing")
        .get(pk=candidate_id)
    )
    if candidate.status != CandidateStatus.OPEN:
        raise CandidateNotOpen(f"This possible re-listing is already {candidate.get_status_display().lower()}.")
    if automated:
        actor = get_user_model().objects.get(pk=candidate.fingerprint.case.filed_by_id)
    case = case_submit(request=_request(candidate, actor=actor, automated=automated))
    item = case.items.get()
    candidate.status, candidate.automated, candidate.decided_at = CandidateStatus.FILED, automated, timezone.now()
    candidate.filed_case, candidate.filed_item = case, item
    candidate.save(update_fields=["status", "automated", "decided_at", "filed_case", "filed_item"])
    audit_record(
        action="candidate.file",
        target=candidate,
        actor=None if automated else actor,
        automated=automated,
        from_state=CandidateStatus.OPEN,
        to_state=CandidateStatus.FILED,
        brand_id=candidate.brand_id,
        data={"case": case.pk, "item": item.pk},
    )
    return case


def candidates_file_strong(*, candidate_ids: list[int]) -> int:
    """The brand's policy (`StayDownPolicy`): file strong candidates automatically when the brand allows it
    and the score reaches its minimum, and only while the brand is in the expedited lane (an active
    MarketSafe membership). A refusal (no usable right left, listing already reported) stays on the
    candidate as its note, and the candidate waits in the brand's list. Returns the number filed."""
    filed = 0
    candidates = list(
        ReListingCandidate.objects.filter(pk__in=candidate_ids, strength=Strength.STRONG, status=CandidateStatus.OPEN)
    )
    policies = policies_of(brand_ids={candidate.brand_id for candidate in candidates})
    lanes: dict[int, str] = {}
    for candidate in candidates:
        policy = policies[candidate.brand_id]
        if not policy.auto_file or candidate.score < policy.auto_file_min_score:
            continue
        if candidate.brand_id not in lanes:
            lanes[candidate.brand_id] = brand_lane(Brand.objects.get(pk=candidate.brand_id))
        if lanes[candidate.brand_id] != "expedited":
            continue
        try:
            candidate_file(candidate_id=candidate.pk, automated=True)
            filed += 1
        except (ValidationError, DomainError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            ReListingCandidate.objects.filter(pk=candidate.pk).update(note=f"Not filed automatically: {message}"[:500])
    return filed


@transaction.atomic
def candidate_dismiss(*, candidate: ReListingCandidate, actor: Any) -> None:
    locked = ReListingCandidate.objects.select_for_update().get(pk=candidate.pk)
    if locked.status != CandidateStatus.OPEN:
        raise CandidateNotOpen(f"This possible re-listing is already {locked.get_status_display().lower()}.")
    locked.status, locked.decided_at = CandidateStatus.DISMISSED, timezone.now()
    locked.save(update_fields=["status", "decided_at"])
    audit_record(
        action="candidate.dismiss",
        target=locked,
        actor=actor,
        from_state=CandidateStatus.OPEN,
        to_state=CandidateStatus.DISMISSED,
        brand_id=locked.brand_id,
    )


def on_item_status_changed(items: Any, **details: Any) -> None:
    """The outbox subscriber: an automatically filed item the brand withdraws marks its candidate withdrawn."""
    withdrawn = [item.pk for item in items if item.status == ItemStatus.WITHDRAWN]
    if not withdrawn:
        return
    following = list(
        ReListingCandidate.objects.filter(filed_item_id__in=withdrawn, status=CandidateStatus.FILED).values_list(
            "pk", "brand_id"
        )
    )
    if not following:
        return
    ReListingCandidate.objects.filter(pk__in=[pk for pk, _ in following]).update(status=CandidateStatus.WITHDRAWN)
    for brand_id in {brand_id for _, brand_id in following}:
        audit_record_state_changes(
            action="candidate.withdraw",
            model=ReListingCandidate,
            changes=((pk, CandidateStatus.FILED, CandidateStatus.WITHDRAWN) for pk, b in following if b == brand_id),
            reason="Its filed item was withdrawn",
            brand_id=brand_id,
        )
