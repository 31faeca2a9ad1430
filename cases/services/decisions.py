"""The item decisions, one service each: start review, accept (removal and statement of reasons), reject
with a code, request clarification, resubmit, withdraw, counter-notice, the brand's answer, lapse,
finalise, appeal and the appeal's decision."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases.choices import (
    EVIDENCE_STORED,
    ITEM_REMOVAL_STATUSES,
    AppealStatus,
    AppellantSide,
    CounterNoticeAnswer,
    RejectionCode,
)
from cases.models import Appeal, CaseItem, CounterNotice, Evidence
from cases.safeguards import decision_hold
from cases.services.assignment import _guard_assignee
from cases.services.filing import EvidenceInput, _sha256
from cases.services.statements import StatementInput, _statement_values, _store_statement
from cases.services.transitions import (
    APPEAL_OVERTURN_STATUS,
    S,
    _appeal_until,
    _guard,
    _lock,
    _move,
    _record_strike,
    _reinstate_listing,
    _remove_listing,
    _rules,
)
from core.errors import Conflict, TransitionNotAllowed
from core.outbox import publish
from listings import services as listing_services

# --- decisions ------------------------------------------------------------------------------------


def _guard_hold(item: CaseItem, decision: str, actor: Any) -> None:
    """Refuse a decision a registered hold keeps back (`cases.safeguards`: a second approver's rule)."""
    why = decision_hold(item=item, decision=decision, actor=actor)
    if why:
        raise TransitionNotAllowed(why)


@transaction.atomic
def item_start_review(*, item_id: int, actor: Any) -> CaseItem:
    item = _lock(item_id)
    _guard(item, "start_review")
    return _move(item, "start_review", S.IN_REVIEW, actor=actor, assigned_to=actor, assigned_at=timezone.now())


@transaction.atomic
def item_accept(
    *,
    item_id: int,
    actor: Any,
    message: str = "",
    statement: StatementInput | None = None,
    take_over: bool = False,
    remove_listing: bool = True,
) -> CaseItem:
    """Accept the report: the listing is removed, the seller's statement of reasons is stored and the
    seller's counter-notice window opens.

    `remove_listing=False` leaves the listing to a delisting job the caller creates in the same
    transaction (`items_accept` for large selections): the job writes the listing's one removal event.
    """
    item = _lock(item_id)
    _guard(item, "accept")
    _guard_hold(item, "accept", actor)
    took_over = _guard_assignee(item, actor, take_over=take_over)
    values = _statement_values(item, message=message, given=statement)
    now = timezone.now()
    if remove_listing:
        _remove_listing(item, actor)
    _move(
        item,
        "accept",
        S.ACCEPTED,
        actor=actor,
        reason=message,
        data=took_over,
        decided_at=now,
        decided_by=actor,
        moderator_message=message,
        rejection_code="",
        counter_notice_due_at=now + _rules()["COUNTER_NOTICE_WINDOW"],
        appeal_until=_appeal_until(now),
    )
    _store_statement(item, actor, values)
    return item


@transaction.atomic
def item_reject(*, item_id: int, actor: Any, code: str, message: str = "", take_over: bool = False) -> CaseItem:
    """Reject the report with a rejection code; the brand sees the code's "how to fix" guidance."""
    if code not in RejectionCode.values:
        raise ValidationError({"code": f"Choose a rejection code; {code!r} is not one."})
    item = _lock(item_id)
    _guard(item, "reject")
    _guard_hold(item, "reject", actor)
    took_over = _guard_assignee(item, actor, take_over=take_over)
    now = timezone.now()
    return _move(
        item,
        "reject",
        S.REJECTED,
        actor=actor,
        reason=message,
        data={"code": code, **took_over},
        decided_at=now,
        decided_by=actor,
        rejection_code=code,
        moderator_message=message,
        appeal_until=_appeal_until(now),
    )


@transaction.atomic
def item_request_clarification(*, item_id: int, actor: Any, message: str, take_over: bool = False) -> CaseItem:
    if not message.strip():
        raise ValidationError({"message": "Say what the brand must clarify."})
    item = _lock(item_id)
    _guard(item, "request_clarification")
    took_over = _guard_assignee(item, actor, take_over=take_over)
    now = timezone.now()
    return _move(
        item,
        "request_clarification",
        S.CLARIFICATION_REQUESTED,
        actor=actor,
        reason=message,
        data=took_over,
        decided_at=now,
        decided_by=actor,
        moderator_message=message,
        clarification_due_at=now + _rules()["CLARIFICATION_WINDOW"],
    )


@transaction.atomic
def item_resubmit(*, item_id: int, actor: Any, note: str) -> CaseItem:
    """The brand amends an item in clarification and sends it back to the queue with a new SLA."""
    if not note.strip():
        raise ValidationError({"note": "Answer the moderator's question before resubmitting."})
    item = _lock(item_id)
    _guard(item, "resubmit")
    now = timezone.now()
    # Checked here, not only by the sweep that closes such items: between the deadline and the sweep's
    # next run the item would otherwise go back to the queue with a new SLA.
    if item.clarification_due_at and now > item.clarification_due_at:
        raise TransitionNotAllowed(
            f"The clarification deadline of item #{item.pk} passed on "
            f"{timezone.localtime(item.clarification_due_at):%Y-%m-%d %H:%M}: file the listing again in a new notice."
        )
    return _move(
        item,
        "resubmit",
        S.SUBMITTED,
        actor=actor,
        reason=note,
        brand_note=note.strip(),
        submitted_at=now,
        sla_due_at=now + timedelta(hours=_rules()["SLA_HOURS"][item.lane]),
        clarification_due_at=None,
        decided_at=None,
        decided_by=None,
        assigned_to=None,
        assigned_at=None,
    )


@transaction.atomic
def item_withdraw(*, item_id: int, actor: Any, reason: str = "") -> CaseItem:
    """The brand withdraws its report; a listing removed because of it is reinstated."""
    item = _lock(item_id)
    _guard(item, "withdraw")
    was_removing = item.status in ITEM_REMOVAL_STATUSES
    _move(item, "withdraw", S.WITHDRAWN, actor=actor, reason=reason)
    if was_removing:
        _reinstate_listing(item, actor)
        listing_services.strike_revoke_for_item(source_item_id=item.pk, actor=actor, reason="Report withdrawn")
    return item


@transaction.atomic
def item_counter_notice(
    *, item_id: int, reason: str, explanation: str, actor: Any = None, received_at: datetime | None = None
) -> CounterNotice:
    """Record the seller's counter-notice (reported by the marketplace) within the window.

    `received_at` (when the seller filed it, now by default) must lie between the decision it answers
    and now: a back-dated notice would start the brand's answer window in the past.
    """
    item = _lock(item_id)
    _guard(item, "counter_notice")
    now = received_at or timezone.now()
    if item.counter_notice_due_at and now > item.counter_notice_due_at:
        raise TransitionNotAllowed(
            f"The counter-notice window of item #{item.pk} closed on {item.counter_notice_due_at:%Y-%m-%d %H:%M}."
        )
    if received_at is not None:
        if received_at > timezone.now():
            raise ValidationError({"received_at": ["Cannot lie in the future."]})
        if item.decided_at and received_at < item.decided_at:
            raise ValidationError(
                {
                    "received_at": [
                        "Cannot lie before the decision it answers "
                        f"({timezone.localtime(item.decided_at):%Y-%m-%d %H:%M})."
                    ]
                }
            )
    attempt = item.counter_notices.count() + 1
    due = now + _rules()["BRAND_ANSWER_WINDOW"]
    notice = CounterNotice.objects.create(
        item=item,
        attempt=attempt,
        reason=reason,
        explanation=explanation,
        received_at=now,
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
        answer_due_at=due,
    )
    _move(
        item,
        "counter_notice",
        S.COUNTER_NOTICED,
        actor=actor,
        reason=explanation,
        data={"counter_notice": notice.pk, "reason": reason},
        brand_answer_due_at=due,
    )
    return notice


@transaction.atomic
def item_brand_answer(
    *, item_id: int, actor: Any, accept: bool, note: str = "", evidence: Sequence[EvidenceInput] = ()
) -> CaseItem:
    """The brand answers a counter-notice before its deadline: accept (reinstate) or reject with evidence."""
    item = _lock(item_id)
    _guard(item, "brand_answer")
    now = timezone.now()
    if item.brand_answer_due_at and now > item.brand_answer_due_at:
        raise TransitionNotAllowed(f"The deadline to answer the counter-notice on item #{item.pk} has passed.")
    if not accept and not evidence:
        raise ValidationError({"evidence": "Rejecting a counter-notice needs evidence."})
    notice = item.counter_notices.select_for_update().get(answer=CounterNoticeAnswer.PENDING)
    notice.answer = CounterNoticeAnswer.ACCEPTED if accept else CounterNoticeAnswer.REJECTED
    notice.answered_at, notice.answered_by, notice.answer_note = now, actor, note
    notice.save(update_fields=["answer", "answered_at", "answered_by", "answer_note"])
    stored = [
        Evidence.objects.create(
            case_id=item.case_id,
            item=item,
            counter_notice=notice,
            file=upload.file,
            original_name=upload.file.name[:255],
            content_type=upload.content_type,
            size=upload.file.size,
            sha256=_sha256(upload.file),
            uploaded_by=actor,
            kind=upload.kind,
            description=upload.description,
        )
        for upload in evidence
    ]
    publish(EVIDENCE_STORED, stored)  # stay-down detection hashes the images
    if accept:
        _move(
            item,
            "brand_answer",
            S.REINSTATED,
            actor=actor,
            reason=note,
            data={"answer": "accepted"},
            brand_answer_due_at=None,
            appeal_until=_appeal_until(now),
        )
        _reinstate_listing(item, actor)
    else:
        _move(
            item,
            "brand_answer",
            S.UPHELD,
            actor=actor,
            reason=note,
            data={"answer": "rejected"},
            brand_answer_due_at=None,
            appeal_until=_appeal_until(now),
        )
        _record_strike(item, actor)
    return item


@transaction.atomic
def item_lapse(*, item_id: int, now: datetime | None = None) -> CaseItem:
    """A deadline on the brand passed (applied by the scheduler).

    Counter-notice unanswered → the listing is reinstated. Clarification unanswered → the report is
    rejected as incomplete.
    """
    item = _lock(item_id)
    _guard(item, "lapse")
    now = now or timezone.now()
    due = item.brand_answer_due_at if item.status == S.COUNTER_NOTICED else item.clarification_due_at
    if due is None or now < due:
        raise TransitionNotAllowed(f"The brand's deadline on item #{item.pk} has not passed yet.")
    if item.status == S.COUNTER_NOTICED:
        item.counter_notices.filter(answer=CounterNoticeAnswer.PENDING).update(
            answer=CounterNoticeAnswer.LAPSED, answered_at=now
        )
        _move(
            item,
            "lapse",
            S.REINSTATED,
            actor=None,
            automated=True,
            reason="The brand did not answer the counter-notice in time.",
            brand_answer_due_at=None,
            appeal_until=_appeal_until(now),
        )
        _reinstate_listing(item, None, automated=True)
    else:
        _move(
            item,
            "lapse",
            S.REJECTED,
            actor=None,
            automated=True,
            reason="The brand did not answer the clarification request in time.",
            rejection_code=RejectionCode.INCOMPLETE,
            decided_at=now,
            decided_by=None,  # nobody decided: the rule did, so any moderator may hear an appeal
            clarification_due_at=None,
            appeal_until=_appeal_until(now),
        )
    return item


@transaction.atomic
def item_finalise(*, item_id: int, now: datetime | None = None) -> CaseItem:
    """The seller did not counter-notify in time: the removal is final (applied by the scheduler)."""
    item = _lock(item_id)
    _guard(item, "finalise")
    now = now or timezone.now()
    if item.counter_notice_due_at is None or now < item.counter_notice_due_at:
        raise TransitionNotAllowed(f"The counter-notice window of item #{item.pk} is still open.")
    _move(item, "finalise", S.FINAL, actor=None, automated=True, reason="No counter-notice within the window.")
    _record_strike(item, None, automated=True, at=now)
    return item


#: Decisions the seller lost: the listing is removed.
SELLER_LOST = frozenset({S.ACCEPTED, S.UPHELD, S.FINAL})


def appeal_refusal(item: CaseItem, appellant: str) -> str:
    """Why `appellant` may not appeal the item's decision ("" when it may): only the side that lost appeals.

    The brand lost a rejection, and a reinstatement it did not choose (a moderator's decision, a lapsed
    answer, an appeal the seller won); it did not lose an acceptance, nor a reinstatement after it accepted
    the counter-notice itself. The seller lost a removal. Reads `item.counter_notices` (prefetch it for lists).
    """
    if appellant == AppellantSide.SELLER:
        if item.status in SELLER_LOST:
            return ""
        return f"Item #{item.pk} was not decided against the seller: only the brand may appeal it."
    if item.status == S.REJECTED:
        return ""
    if item.status == S.REINSTATED:
        if any(notice.answer == CounterNoticeAnswer.ACCEPTED for notice in item.counter_notices.all()):
            return (
                f"The brand accepted the counter-notice on item #{item.pk} and so reinstated the listing itself:"
                " there is no decision against it to appeal."
            )
        return ""
    return f"Item #{item.pk} was decided in the brand's favour: only the seller may appeal it."


@transaction.atomic
def item_appeal(*, item_id: int, appellant: str, grounds: str, actor: Any = None) -> Appeal:
    """The side that lost a decision contests it within the appeal window (`appeal_refusal`)."""
    if appellant not in AppellantSide.values:
        raise ValidationError({"appellant": f"Unknown side {appellant!r}."})
    if not grounds.strip():
        raise ValidationError({"grounds": "Give the grounds of the appeal."})
    item = _lock(item_id)
    _guard(item, "appeal")
    refusal = appeal_refusal(item, appellant)
    if refusal:
        raise TransitionNotAllowed(refusal)
    if item.appeal_until is None or timezone.now() > item.appeal_until:
        raise TransitionNotAllowed(f"The appeal window of item #{item.pk} has closed.")
    appeal = Appeal.objects.create(
        item=item,
        appellant=appellant,
        grounds=grounds.strip(),
        contested_status=item.status,
        original_decider=item.decided_by,
        filed_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _move(item, "appeal", S.APPEALED, actor=actor, reason=grounds, data={"appeal": appeal.pk, "appellant": appellant})
    return appeal


@transaction.atomic
def item_decide_appeal(*, item_id: int, actor: Any, overturn: bool, note: str) -> Appeal:
    """A moderator other than the one who made the contested decision upholds or overturns it."""
    _check_appeal_note(note)
    item = _lock(item_id)
    _guard(item, "decide_appeal")
    appeal = item.appeals.select_for_update().get(status=AppealStatus.OPEN)
    return _decide_appeal(item, appeal, actor=actor, overturn=overturn, note=note)


@transaction.atomic
def appeal_decide(*, appeal_id: int, actor: Any, overturn: bool, note: str) -> Appeal:
    """Decide the appeal `appeal_id` (from its page in the console), refused once it is decided, even when its
    item was appealed again since the page was drawn."""
    _check_appeal_note(note)
    item = _lock(Appeal.objects.filter(pk=appeal_id).values_list("item_id", flat=True).get())
    appeal = Appeal.objects.select_for_update().get(pk=appeal_id)
    if appeal.status != AppealStatus.OPEN:
        raise Conflict(f"{appeal} was already decided.")
    _guard(item, "decide_appeal")
    return _decide_appeal(item, appeal, actor=actor, overturn=overturn, note=note)


def _check_appeal_note(note: str) -> None:
    if not note.strip():
        raise ValidationError({"note": "Explain the appeal decision."})


def _decide_appeal(item: CaseItem, appeal: Appeal, *, actor: Any, overturn: bool, note: str) -> Appeal:
    """Decide the open `appeal` of the locked `item`, refusing the moderator who made the contested decision."""
    if appeal.original_decider_id is not None and appeal.original_decider_id == actor.pk:
        raise TransitionNotAllowed("An appeal must be decided by someone other than the original decision's moderator.")
    now = timezone.now()
    appeal.status = AppealStatus.OVERTURNED if overturn else AppealStatus.UPHELD
    appeal.decided_at, appeal.decided_by, appeal.decision_note = now, actor, note
    appeal.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    contested = appeal.contested_status
    if not overturn:
        _move(
            item, "decide_appeal", contested, actor=actor, reason=note, data={"appeal": appeal.pk, "outcome": "upheld"}
        )
        if contested in ITEM_REMOVAL_STATUSES:
            _remove_listing(item, actor)  # a no-op unless the listing came back meanwhile
        return appeal
    to = APPEAL_OVERTURN_STATUS[contested]
    _move(
        item,
        "decide_appeal",
        to,
        actor=actor,
        reason=note,
        data={"appeal": appeal.pk, "outcome": "overturned"},
        decided_at=now,
        decided_by=actor,
        rejection_code="",
        counter_notice_due_at=now + _rules()["COUNTER_NOTICE_WINDOW"]
        if to == S.ACCEPTED
        else item.counter_notice_due_at,
    )
    if to in ITEM_REMOVAL_STATUSES:
        _remove_listing(item, actor)
        # A removal the appeal brings about is a new restriction: the seller is owed its statement.
        _store_statement(item, actor, _statement_values(item, message=note, given=None))
        if to == S.UPHELD:
            _record_strike(item, actor)
    else:
        _reinstate_listing(item, actor)
        listing_services.strike_revoke_for_item(
            source_item_id=item.pk, actor=actor, reason="Appeal overturned the removal"
        )
    return appeal
