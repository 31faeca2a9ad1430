"""How an item moves: the statuses each action may start from (`ALLOWED_FROM`), the lock (case row, then
item row), the guard that names both statuses, the move itself (save, audit, outbox), the case's aggregate
status, and the effects on the listing (remove, reinstate, strike)."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from cases.choices import (
    ITEM_APPEALABLE_STATUSES,
    ITEM_OPEN_STATUSES,
    ITEM_REMOVAL_STATUSES,
    ITEM_STATUS_CHANGED,
    AppealStatus,
    CaseStatus,
    ItemStatus,
    ReasonCode,
)
from cases.models import Case, CaseItem
from core.audit.services import audit_record
from core.outbox import publish
from listings import services as listing_services


class TransitionNotAllowed(Exception):
    """The item's current status (or a deadline, or the actor) does not allow the requested change."""


S = ItemStatus

#: action → statuses it may start from. The target status is set by each service.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "start_review": frozenset({S.SUBMITTED}),
    "accept": frozenset({S.SUBMITTED, S.IN_REVIEW}),
    "reject": frozenset({S.SUBMITTED, S.IN_REVIEW}),
    "request_clarification": frozenset({S.SUBMITTED, S.IN_REVIEW}),
    "resubmit": frozenset({S.CLARIFICATION_REQUESTED}),
    "withdraw": frozenset({*ITEM_OPEN_STATUSES, *ITEM_REMOVAL_STATUSES}),
    "counter_notice": frozenset({S.ACCEPTED}),
    "brand_answer": frozenset({S.COUNTER_NOTICED}),
    "lapse": frozenset({S.COUNTER_NOTICED, S.CLARIFICATION_REQUESTED}),
    "finalise": frozenset({S.ACCEPTED}),
    "appeal": frozenset(ITEM_APPEALABLE_STATUSES),
    "decide_appeal": frozenset({S.APPEALED}),
}

#: Where an overturned appeal sends the item, by the status that was contested.
APPEAL_OVERTURN_STATUS = {
    S.REJECTED: S.ACCEPTED,
    S.ACCEPTED: S.REINSTATED,
    S.UPHELD: S.REINSTATED,
    S.FINAL: S.REINSTATED,
    S.REINSTATED: S.UPHELD,
}


def _rules() -> dict:
    return settings.MARKETSAFE


# --- transitions ----------------------------------------------------------------------------------


def _lock(item_id: int) -> CaseItem:
    case_id = CaseItem.objects.filter(pk=item_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise CaseItem.DoesNotExist(f"No case item #{item_id}.")
    Case.objects.select_for_update().filter(pk=case_id).get()
    return CaseItem.objects.select_for_update().select_related("listing").get(pk=item_id)


def _guard(item: CaseItem, action: str) -> None:
    allowed = ALLOWED_FROM[action]
    if item.status not in allowed:
        names = ", ".join(sorted(ItemStatus(s).label.lower() for s in allowed))
        raise TransitionNotAllowed(
            f"Cannot {action.replace('_', ' ')} item #{item.pk}: it is {item.get_status_display().lower()}; "
            f"that is only possible when it is {names}."
        )


def _move(
    item: CaseItem,
    action: str,
    to: str,
    *,
    actor: Any,
    reason: str = "",
    automated: bool = False,
    data: dict | None = None,
    **fields: Any,
) -> CaseItem:
    old = item.status
    item.status = to
    item.status_changed_at = timezone.now()
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=["status", "status_changed_at", *fields])
    audit_record(
        action=f"item.{action}",
        target=item,
        actor=actor,
        automated=automated,
        from_state=old,
        to_state=to,
        reason=reason,
        brand_id=item.brand_id,
        data=data,
    )
    publish(ITEM_STATUS_CHANGED, [item], from_status=old)  # webhooks and the marketplace's feed
    case_refresh_status(case_id=item.case_id, actor=actor, automated=automated)
    return item


def case_refresh_status(*, case_id: int, actor: Any = None, automated: bool = False) -> str:
    """Recompute a case's aggregate status from its items (the caller holds the case row lock)."""
    counts = CaseItem.objects.filter(case_id=case_id).aggregate(
        total=Count("pk"),
        submitted=Count("pk", filter=Q(status=S.SUBMITTED)),
        open=Count("pk", filter=Q(status__in=ITEM_OPEN_STATUSES)),
    )
    if counts["open"] == 0:
        status = CaseStatus.PROCESSED
    elif counts["submitted"] == counts["total"]:
        status = CaseStatus.RECEIVED
    else:
        status = CaseStatus.IN_REVIEW
    case = Case.objects.get(pk=case_id)
    if case.status != status:
        old = case.status
        case.status = status
        case.save(update_fields=["status"])
        audit_record(
            action="case.status",
            target=case,
            actor=actor,
            automated=automated,
            from_state=old,
            to_state=status,
            brand_id=case.brand_id,
        )
    return status


def _remove_listing(item: CaseItem, actor: Any, automated: bool = False) -> None:
    listing_services.listing_remove(
        listing_id=item.listing_id, actor=actor, automated=automated, reason=f"Case item #{item.pk}"
    )


def _reinstate_listing(item: CaseItem, actor: Any, automated: bool = False) -> None:
    """Reinstate the listing unless another report still keeps it removed (an appealed removal still counts)."""
    keeps_removed = Q(status__in=ITEM_REMOVAL_STATUSES) | Q(
        status=S.APPEALED, appeals__status=AppealStatus.OPEN, appeals__contested_status__in=ITEM_REMOVAL_STATUSES
    )
    still_removed = CaseItem.objects.filter(keeps_removed, listing_id=item.listing_id).exclude(pk=item.pk).exists()
    if not still_removed:
        listing_services.listing_reinstate(
            listing_id=item.listing_id, actor=actor, automated=automated, reason=f"Case item #{item.pk}"
        )


def _record_strike(item: CaseItem, actor: Any, automated: bool = False, at: datetime | None = None) -> None:
    """A removal for counterfeiting that became final gives the seller a strike."""
    if item.reason_code == ReasonCode.COUNTERFEIT and item.listing.seller_id:
        listing_services.strike_record(
            seller_id=item.listing.seller_id,
            source_item_id=item.pk,
            reason_code=item.reason_code,
            actor=actor,
            automated=automated,
            issued_at=at,
        )


def _appeal_until(now: datetime) -> datetime:
    return now + _rules()["APPEAL_WINDOW"]
