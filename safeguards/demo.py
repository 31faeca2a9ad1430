"""Demo data of the safeguards (run by `seed_demo` after the cases): a rule in each mode with its hits on the
open items, a finished backtest, and this week's audit round with some verdicts. Idempotent: a second run
adds nothing."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from cases.choices import ITEM_OPEN_STATUSES
from cases.models import CaseItem
from safeguards.choices import AuditState, HitTrigger, RuleAction, RuleMode
from safeguards.models import AuditItem, Backtest, Rule
from safeguards.services import audits, backtests, evaluation
from safeguards.services.rules import WRITE_PERMISSION, rule_save

DEMO_RULES = (
    (
        "Large notices need a person",
        "case.item_count >= 3.0 and item.lane == 'expedited'",
        RuleAction.FORCE_HUMAN_REVIEW,
        RuleMode.LIVE,
        "An expedited notice with several listings: a moderator opens each one.",
    ),
    (
        "Big sellers need two leads",
        "seller.live_listings >= 3",
        RuleAction.HOLD_SECOND_APPROVER,
        RuleMode.LIVE,
        "The seller has many live listings: a second moderation lead approves the decision.",
    ),
    (
        "Cheap luxury goods",
        "listing.price > 0.0 and listing.price < 80.0",
        RuleAction.FLAG,
        RuleMode.BACKGROUND,
        "Priced far below retail: watched before it goes live.",
    ),
    (
        "New rights go last",
        "right.age_days < 30.0",
        RuleAction.LOWER_PRIORITY,
        RuleMode.DRAFT,
        "A right registered here this month: reviewed after the others.",
    ),
)


def seed_safeguards(*, lead: Any, auditor: Any, admin: Any) -> None:
    """`admin` stands in for a demo user whose group lacks its permissions (a database whose groups were
    re-created by name only, as after a transactional test)."""
    if not lead.has_perm(WRITE_PERMISSION):
        lead = admin
    if not auditor.has_perm(audits.AUDIT_PERMISSION):
        auditor = admin
    created = False
    for name, expression, action, mode, reason in DEMO_RULES:
        if not Rule.objects.filter(name=name).exists():
            rule_save(actor=lead, name=name, expression=expression, action=action, mode=mode, reason=reason)
            created = True
    if created:
        open_items = CaseItem.objects.filter(status__in=ITEM_OPEN_STATUSES).values_list("pk", flat=True)
        evaluation.items_evaluate(item_ids=list(open_items), trigger=HitTrigger.ITEM_SUBMITTED)
    if not Backtest.objects.exists():
        version_id = Rule.objects.get(name="Cheap luxury goods").current_version_id
        backtest = backtests.backtest_start(version_id=version_id, actor=lead)
        backtests.backtest_run(backtest_id=backtest.pk)
    today = timezone.localdate()
    audit_round = audits.audit_round_draw(week=today - timedelta(days=today.weekday()))
    pending = AuditItem.objects.filter(round=audit_round, state=AuditState.PENDING).exclude(first_moderator=auditor)
    decided_before = AuditItem.objects.filter(round=audit_round).exclude(state=AuditState.PENDING).exists()
    if not decided_before:
        for n, audit in enumerate(pending.order_by("pk")[:6]):
            # One disagreement in six, for the lead's queue.
            verdict = audit.first_verdict if n % 6 else ("reject" if audit.first_verdict == "accept" else "accept")
            audits.audit_item_decide(audit_id=audit.pk, auditor=auditor, verdict=verdict)
