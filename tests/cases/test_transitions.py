"""Every action tried from every item status: legal ones reach their target status and leave one audit
event; illegal ones raise TransitionNotAllowed naming both and change nothing."""

from datetime import timedelta

import pytest

from cases import services
from cases.choices import AppellantSide, CounterNoticeAnswer, CounterNoticeReason, ItemStatus, RejectionCode
from cases.demo import drive_item_to
from cases.services import ALLOWED_FROM, TransitionNotAllowed
from core.audit.models import AuditEvent

S = ItemStatus


def _lapse(item, **_):
    item.refresh_from_db()
    due = item.brand_answer_due_at or item.clarification_due_at or item.submitted_at
    return services.item_lapse(item_id=item.pk, now=due + timedelta(seconds=1))


def _finalise(item, **_):
    item.refresh_from_db()
    due = item.counter_notice_due_at or item.submitted_at
    return services.item_finalise(item_id=item.pk, now=due + timedelta(seconds=1))


def _appeal(item, moderator, lead, user):
    """The side that lost the decision appeals it (issue 13 point 9). The demo reaches "reinstated" by the
    brand accepting the counter-notice, which nobody may appeal; here the answer lapsed instead (the rule
    reinstated the listing against the brand), so the move itself is what is tested."""
    item.refresh_from_db()
    if item.status == S.REINSTATED:
        item.counter_notices.update(answer=CounterNoticeAnswer.LAPSED)
    appellant = AppellantSide.BRAND if item.status in (S.REJECTED, S.REINSTATED) else AppellantSide.SELLER
    return services.item_appeal(item_id=item.pk, appellant=appellant, grounds="Genuine goods.")


ATTEMPTS = {
    "start_review": lambda item, moderator, lead, user: services.item_start_review(item_id=item.pk, actor=moderator),
    "accept": lambda item, moderator, lead, user: services.item_accept(item_id=item.pk, actor=moderator),
    "reject": lambda item, moderator, lead, user: services.item_reject(
        item_id=item.pk, actor=moderator, code=RejectionCode.DUPLICATE
    ),
    "request_clarification": lambda item, moderator, lead, user: services.item_request_clarification(
        item_id=item.pk, actor=moderator, message="Which mark?"
    ),
    "resubmit": lambda item, moderator, lead, user: services.item_resubmit(
        item_id=item.pk, actor=user, note="The word mark MARK 1."
    ),
    "withdraw": lambda item, moderator, lead, user: services.item_withdraw(item_id=item.pk, actor=user),
    "counter_notice": lambda item, moderator, lead, user: services.item_counter_notice(
        item_id=item.pk, reason=CounterNoticeReason.AUTHORIZED, explanation="Licensed reseller."
    ),
    "brand_answer": lambda item, moderator, lead, user: services.item_brand_answer(
        item_id=item.pk, actor=user, accept=True
    ),
    "lapse": _lapse,
    "finalise": _finalise,
    "appeal": _appeal,
    "decide_appeal": lambda item, moderator, lead, user: services.item_decide_appeal(
        item_id=item.pk, actor=lead, overturn=False, note="The decision stands."
    ),
}

#: Where each legal transition lands, by starting status (the paths in cases.demo decide the history).
EXPECTED = {
    "start_review": lambda start: S.IN_REVIEW,
    "accept": lambda start: S.ACCEPTED,
    "reject": lambda start: S.REJECTED,
    "request_clarification": lambda start: S.CLARIFICATION_REQUESTED,
    "resubmit": lambda start: S.SUBMITTED,
    "withdraw": lambda start: S.WITHDRAWN,
    "counter_notice": lambda start: S.COUNTER_NOTICED,
    "brand_answer": lambda start: S.REINSTATED,
    "lapse": lambda start: S.REINSTATED if start == S.COUNTER_NOTICED else S.REJECTED,
    "finalise": lambda start: S.FINAL,
    "appeal": lambda start: S.APPEALED,
    "decide_appeal": lambda start: S.REJECTED,  # the demo path appeals a rejection; upheld restores it
}


def test_matrix_covers_every_action_and_status():
    assert set(ATTEMPTS) == set(ALLOWED_FROM) == set(EXPECTED)
    for allowed in ALLOWED_FROM.values():
        assert allowed <= set(S.values)


@pytest.mark.django_db
@pytest.mark.parametrize("start", S.values)
@pytest.mark.parametrize("action", sorted(ALLOWED_FROM))
def test_transition(action, start, file_case, reporter, moderator, lead):
    item = file_case().items.get()
    drive_item_to(item, start, moderator=moderator, brand_user=reporter)
    events_before = AuditEvent.objects.count()

    if start in ALLOWED_FROM[action]:
        ATTEMPTS[action](item, moderator=moderator, lead=lead, user=reporter)
        item.refresh_from_db()
        assert item.status == EXPECTED[action](start)
        item_events = AuditEvent.objects.filter(target_id=item.pk, action=f"item.{action}")
        assert item_events.count() == 1
        assert item_events.get().from_state == start
    else:
        with pytest.raises(TransitionNotAllowed) as excinfo:
            ATTEMPTS[action](item, moderator=moderator, lead=lead, user=reporter)
        assert f"item #{item.pk}" in str(excinfo.value)
        assert S(start).label.lower() in str(excinfo.value)
        item.refresh_from_db()
        assert item.status == start
        assert AuditEvent.objects.count() == events_before
