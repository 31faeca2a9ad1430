"""Second approvals: a decision a live "hold for a second approver" rule holds takes effect when a second
moderation lead, not the one who asked, approves it."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.choices import RejectionCode
from cases.services import item_accept, item_reject
from core.audit.services import audit_record
from core.errors import Conflict
from safeguards.choices import ApprovalDecision, ApprovalState, RuleAction
from safeguards.models import SecondApproval
from safeguards.services.evaluation import approving_item, live_hits

#: Moderation leads hold it (migration 0002).
APPROVE_PERMISSION = "safeguards.approve_secondapproval"


def _require_lead(actor: Any) -> None:
    if not actor.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Only moderation leads request or approve held decisions.")


def approval_check(*, item_id: int, decision: str, actor: Any, rejection_code: str = "") -> None:
    """Refuse a request that `approval_request` would refuse (the admin's form asks before saving)."""
    _require_lead(actor)
    if decision not in ApprovalDecision.values:
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
    approval.state, approval.approved_by, approval.approved_at = ApprovalState.APPROVED, actor, timezone.now()
    approval.save(update_fields=["state", "approved_by", "approved_at"])
    audit_record(
        action="approval.approve",
        target=approval,
        actor=actor,
        from_state=ApprovalState.PENDING,
        to_state=approval.state,
        data={"requested_by": approval.requested_by_id, "decision": approval.decision},
    )
    return approval
