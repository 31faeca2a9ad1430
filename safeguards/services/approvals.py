"""Second approvals: a held decision takes effect when a second moderation lead, not the one who asked,
approves it. Two kinds are held:

- an item's decision, when a live "hold for a second approver" rule hit the item (a lead requests it:
  `approval_request`);
- a seller's suspension or termination, by default, when the seller has more than
  `SECOND_APPROVER_SUSPENSION_MIN_LISTINGS` live listings (`suspension_hold`, the penalty gate of
  `listings.penalties`; requested by the person whose decision set the penalty off, or by nobody when it
  was automated). Approving it evaluates the seller's penalties again, past the gate: what the ladder
  calls for at that moment is applied (nothing, if the strikes were revoked meanwhile).
"""

import contextvars
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.choices import RejectionCode
from cases.services import item_accept, item_reject
from core.audit.services import audit_record
from core.errors import Conflict
from listings.choices import LISTING_LIVE_STATUSES
from listings.models import Listing, Seller
from listings.penalties import penalty_evaluate
from safeguards.choices import ITEM_DECISIONS, ApprovalDecision, ApprovalState, RuleAction
from safeguards.models import SecondApproval
from safeguards.services.evaluation import approving_item, live_hits

#: Moderation leads hold it (migration 0002).
APPROVE_PERMISSION = "safeguards.approve_secondapproval"

#: The seller whose held penalty `approval_approve` is applying now (the gate lets it through).
approving_seller: contextvars.ContextVar[int | None] = contextvars.ContextVar("approving_seller", default=None)


def suspension_min_listings() -> int:
    return settings.MARKETSAFE["SECOND_APPROVER_SUSPENSION_MIN_LISTINGS"]


def suspension_hold(*, seller: Seller, action: str, strikes: int, trigger: str, actor: Any) -> str | None:
    """The penalty gate (registered in SafeguardsConfig.ready): hold the suspension or termination of a seller
    with more than `SECOND_APPROVER_SUSPENSION_MIN_LISTINGS` live listings for a second moderation lead.
    Records the held decision once (a pending one is kept while the seller's strikes grow)."""
    if approving_seller.get() == seller.pk:
        return None
    limit = suspension_min_listings()
    live = Listing.objects.filter(seller_id=seller.pk, status__in=LISTING_LIVE_STATUSES)[: limit + 1].count()
    if live <= limit:
        return None
    why = (
        f"{ApprovalDecision(action).label} of seller #{seller.pk} held for a second moderation lead: the seller has"
        f" more than {limit} live listings. A lead approves it under Risk rules, Second approvals."
    )
    pending = SecondApproval.objects.filter(seller=seller, state=ApprovalState.PENDING).first()
    if pending is not None:
        return why
    person = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    approval = SecondApproval.objects.create(
        seller=seller,
        decision=action,
        message=f"{strikes} active strike(s)" + (f", after {trigger}" if trigger else "") + ".",
        requested_by=person,
    )
    audit_record(
        action="approval.hold",
        target=approval,
        actor=person,
        automated=True,
        to_state=approval.state,
        reason=why,
        data={"seller_id": seller.pk, "decision": action, "active_strikes": strikes, "live_listings_over": limit},
    )
    return why


def _require_lead(actor: Any) -> None:
    if not actor.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Only moderation leads request or approve held decisions.")


def approval_check(*, item_id: int, decision: str, actor: Any, rejection_code: str = "") -> None:
    """Refuse a request that `approval_request` would refuse (the admin's form asks before saving)."""
    _require_lead(actor)
    if decision not in ITEM_DECISIONS:
        raise ValidationError({"decision": f"Choose accept or reject; {decision!r} is neither."})
    if decision == ApprovalDecision.REJECT and rejection_code not in RejectionCode.values:
        raise ValidationError({"rejection_code": "A rejection needs a rejection code."})
    if not live_hits([item_id], RuleAction.HOLD_SECOND_APPROVER).exists():
        raise Conflict(f"Item #{item_id} is not held for a second approver: decide it directly.")
    if SecondApproval.objects.filter(item_id=item_id, state=ApprovalState.PENDING).exists():
        raise Conflict(f"Item #{item_id} already waits for a second approval.")


@transaction.atomic
def approval_request(
    *, item_id: int, decision: str, actor: Any, rejection_code: str = "", message: str = ""
) -> SecondApproval:
    """A first lead records the decision a held item should get; nothing changes on the item yet."""
    approval_check(item_id=item_id, decision=decision, rejection_code=rejection_code, actor=actor)
    try:
        with transaction.atomic():
            approval = SecondApproval.objects.create(
                item_id=item_id, decision=decision, rejection_code=rejection_code, message=message, requested_by=actor
            )
    except IntegrityError:
        raise Conflict(f"Item #{item_id} already waits for a second approval.") from None
    audit_record(action="approval.request", target=approval, actor=actor, to_state=approval.state)
    return approval


@transaction.atomic
def approval_approve(*, approval_id: int, actor: Any) -> SecondApproval:
    """A second lead approves: the decision is applied now, as the approving lead's, in this transaction."""
    _require_lead(actor)
    approval = SecondApproval.objects.select_for_update().get(pk=approval_id)
    if approval.state != ApprovalState.PENDING:
        raise Conflict(f"This approval is already {approval.get_state_display().lower()}.")
    if approval.requested_by_id == actor.pk:
        raise Conflict("A second approval needs a different moderation lead than the one who asked for it.")
    applied: list[int] = []
    if approval.seller_id is not None:
        applied = _apply_penalty(approval, actor)
    else:
        _apply_decision(approval, actor)
    approval.state, approval.approved_by, approval.approved_at = ApprovalState.APPROVED, actor, timezone.now()
    approval.save(update_fields=["state", "approved_by", "approved_at"])
    audit_record(
        action="approval.approve",
        target=approval,
        actor=actor,
        from_state=ApprovalState.PENDING,
        to_state=approval.state,
        data={"requested_by": approval.requested_by_id, "decision": approval.decision}
        | ({"seller_id": approval.seller_id, "penalties_applied": applied} if approval.seller_id else {}),
    )
    return approval


def _apply_penalty(approval: SecondApproval, actor: Any) -> list[int]:
    """The seller's penalties evaluated again with the gate open for them: the ids of those applied."""
    token = approving_seller.set(approval.seller_id)
    try:
        trigger = f"second approval #{approval.pk} by {actor.get_username()}"
        return [p.pk for p in penalty_evaluate(seller_id=approval.seller_id, trigger=trigger)]
    finally:
        approving_seller.reset(token)


def _apply_decision(approval: SecondApproval, actor: Any) -> None:
    token = approving_item.set(approval.item_id)
    try:
        if approval.decision == ApprovalDecision.ACCEPT:
            item_accept(item_id=approval.item_id, actor=actor, message=approval.message, take_over=True)
        else:
            item_reject(
                item_id=approval.item_id,
                actor=actor,
                code=approval.rejection_code,
                message=approval.message,
                take_over=True,
            )
    finally:
        approving_item.reset(token)
