"""How an item moves: the statuses each action may start from (`ALLOWED_FROM`), the lock (case row, then
item row), and the move itself, on the shared transition helper (`core.transitions.StateMachine`: the
check naming both statuses, save, audit, outbox), followed by the case's aggregate status; then the
effects on the listing (remove, reinstate, strike)."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q

from cases.choices import (
    ITEM_APPEALABLE_STATUSES,
    ITEM_OPEN_STATUSES,
    ITEM_REMOVAL_STATUSES,
    ITEM_STATUS_CHANGED,
    STRIKE_WEIGHTS,
    AppealStatus,
    CaseStatus,
    ItemStatus,
)
from cases.models import Case, CaseItem
from core.transitions import StateMachine
from listings import services as listing_services

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

#: The item's moves. Every move is published on ITEM_STATUS_CHANGED (webhooks and the marketplace's feed).
ITEM_TRANSITIONS = StateMachine(
    model=CaseItem,
    choices=ItemStatus,
    allowed_from=ALLOWED_FROM,
    audit_prefix="item",
    changed_at_field="status_changed_at",
    topic=ITEM_STATUS_CHANGED,
    refusal="Cannot {verb} item #{pk}: it is {status}; that is only possible when it is {allowed}.",
)

#: The case's aggregate status, recomputed from its items (never asked for, so never refused).
CASE_TRANSITIONS = StateMachine(
    model=Case, choices=CaseStatus, allowed_from={"status": frozenset(CaseStatus.values)}, audit_prefix="case"
)

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
    """Lock the item's case, then the item with its listing.

    Not `ITEM_TRANSITIONS.lock`: the case row comes first (concurrent decisions on items of one case queue
    up on it instead of deadlocking, and its aggregate status stays exact), and the listing row is locked
    with the item, so that decisions on two reports of the same listing (remove, reinstate unless another
    report keeps it removed) are taken one after the other.
    """
    case_id = CaseItem.objects.filter(pk=item_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise CaseItem.DoesNotExist(f"No case item #{item_id}.")
    Case.objects.select_for_update().filter(pk=case_id).get()
    return CaseItem.objects.select_for_update().select_related("listing").get(pk=item_id)


def _guard(item: CaseItem, action: str) -> None:
    """Refuse `action` unless the item's status allows it (before the service does anything else)."""
    ITEM_TRANSITIONS.check(item, action)


def _move(item: CaseItem, action: str, to: str, *, actor: Any, automated: bool = False, **options: Any) -> CaseItem:
    """Move the locked item (check, save, audit, publish), then refresh its case's aggregate status.

    `options` are `ITEM_TRANSITIONS.move`'s (`reason`, `data`) and the other fields the move sets."""
    ITEM_TRANSITIONS.move(item, action, to, actor=actor, automated=automated, **options)
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
        CASE_TRANSITIONS.move(case, "status", status, actor=actor, automated=automated, check=False)
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
    """A removal for counterfeiting that became final gives the seller a strike, weighing what the reason
    code says (`STRIKE_WEIGHTS`: confirmed by a test purchase, double)."""
    if item.reason_code in STRIKE_WEIGHTS and item.listing.seller_id:
        listing_services.strike_record(
            weight=STRIKE_WEIGHTS[item.reason_code],
            seller_id=item.listing.seller_id,
            source_item_id=item.pk,
            reason_code=item.reason_code,
            actor=actor,
            automated=automated,
            issued_at=at,
        )


def _appeal_until(now: datetime) -> datetime:
    return now + _rules()["APPEAL_WINDOW"]
