"""Drive a case item to any lifecycle status through the real services.

Used by `seed_demo` (demo cases with items in every state) and by the tests, so both reach each state
exactly the way users and the scheduler do, audit events included.
"""

from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import services
from cases.choices import AppellantSide, CounterNoticeReason, EvidenceKind, ItemStatus, RejectionCode
from cases.models import CaseItem

S = ItemStatus


def demo_evidence(name: str = "evidence.png") -> services.EvidenceInput:
    # The 8-byte PNG signature followed by an empty IHDR-less body is enough for a stored, typed file.
    content = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    return services.EvidenceInput(
        file=SimpleUploadedFile(name, content, content_type="image/png"),
        content_type="image/png",
        kind=EvidenceKind.SCREENSHOT,
    )


def _counter_notice(item: CaseItem, **_: Any) -> None:
    services.item_counter_notice(
        item_id=item.pk, reason=CounterNoticeReason.GENUINE, explanation="Genuine goods, invoice attached."
    )


def _finalise(item: CaseItem, **_: Any) -> None:
    """Make the removal final now: the acceptance is moved back so that its counter-notice window closed a
    minute ago (finalising at the window's end, in the future, would date the seller's strike there)."""
    item.refresh_from_db()
    now = timezone.now()
    closed = now - timedelta(minutes=1)
    window = item.counter_notice_due_at - item.decided_at
    CaseItem.objects.filter(pk=item.pk).update(decided_at=closed - window, counter_notice_due_at=closed)
    services.item_finalise(item_id=item.pk, now=now)


#: The steps from "submitted" to each status. Each step is (service call, who acts).
STEPS = {
    "start_review": lambda item, moderator, brand_user: services.item_start_review(item_id=item.pk, actor=moderator),
    "accept": lambda item, moderator, brand_user: services.item_accept(
        item_id=item.pk, actor=moderator, message="Counterfeit logo and price far below retail."
    ),
    "reject": lambda item, moderator, brand_user: services.item_reject(
        item_id=item.pk, actor=moderator, code=RejectionCode.INSUFFICIENT_EVIDENCE, message="No proof of the claim."
    ),
    "request_clarification": lambda item, moderator, brand_user: services.item_request_clarification(
        item_id=item.pk, actor=moderator, message="Which of your marks does the listing use?"
    ),
    "withdraw": lambda item, moderator, brand_user: services.item_withdraw(
        item_id=item.pk, actor=brand_user, reason="Reported by mistake."
    ),
    "counter_notice": lambda item, moderator, brand_user: _counter_notice(item),
    "brand_rejects": lambda item, moderator, brand_user: services.item_brand_answer(
        item_id=item.pk, actor=brand_user, accept=False, note="Test purchase proves it.", evidence=[demo_evidence()]
    ),
    "brand_accepts": lambda item, moderator, brand_user: services.item_brand_answer(
        item_id=item.pk, actor=brand_user, accept=True, note="The seller showed an invoice."
    ),
    "finalise": lambda item, moderator, brand_user: _finalise(item),
    "appeal": lambda item, moderator, brand_user: services.item_appeal(
        item_id=item.pk, appellant=AppellantSide.BRAND, grounds="The evidence was attached.", actor=brand_user
    ),
}

PATHS: dict[str, list[str]] = {
    S.SUBMITTED: [],
    S.IN_REVIEW: ["start_review"],
    S.CLARIFICATION_REQUESTED: ["start_review", "request_clarification"],
    S.ACCEPTED: ["start_review", "accept"],
    S.REJECTED: ["start_review", "reject"],
    S.COUNTER_NOTICED: ["accept", "counter_notice"],
    S.UPHELD: ["accept", "counter_notice", "brand_rejects"],
    S.REINSTATED: ["accept", "counter_notice", "brand_accepts"],
    S.FINAL: ["accept", "finalise"],
    S.APPEALED: ["reject", "appeal"],
    S.WITHDRAWN: ["withdraw"],
}


def drive_item_to(item: CaseItem, status: str, *, moderator: Any, brand_user: Any) -> CaseItem:
    """Take a freshly submitted item to `status` through the services; returns it refreshed."""
    for step in PATHS[status]:
        STEPS[step](item, moderator, brand_user)
    item.refresh_from_db()
    return item
