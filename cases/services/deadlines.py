"""The deadline sweep: items whose counter-notice, brand answer or clarification window has passed are
moved on by the rule (`items_apply_deadlines`, run by Celery beat)."""

from datetime import datetime

from django.utils import timezone

from cases.models import CaseItem
from cases.services.decisions import item_finalise, item_lapse
from cases.services.priority import items_restore_priority
from cases.services.transitions import S
from core.errors import TransitionNotAllowed

# --- deadlines --------------------------------------------------------------------------------------

#: Which deadline each sweep looks at, and the service that applies its rule.
DEADLINE_RULES = (
    (S.ACCEPTED, "counter_notice_due_at", "finalise"),
    (S.COUNTER_NOTICED, "brand_answer_due_at", "lapse"),
    (S.CLARIFICATION_REQUESTED, "clarification_due_at", "lapse"),
)


def items_apply_deadlines(*, now: datetime | None = None, limit: int = 5000) -> dict[str, int]:
    """Apply the rule of every passed deadline: seller silent → removal final (and a strike); brand silent
    on a counter-notice → listing reinstated; brand silent on a clarification → rejected as incomplete; an
    item whose priority a risk rule lowered is ordered by its SLA again once that is close (counted as
    `priority_restored`, only when there were some, so a quiet run reports what it did before).

    Each item goes through its service in its own transaction, so one item changed meanwhile (by a person
    or a concurrent sweep) is skipped without undoing the others. At most `limit` items per rule per run;
    the next run continues where this one stopped (the partial indexes on each deadline make that cheap).
    """
    now = now or timezone.now()
    applied = {"finalise": 0, "lapse": 0, "skipped": 0}
    for status, deadline, action in DEADLINE_RULES:
        due = (
            CaseItem.objects.filter(status=status, **{f"{deadline}__lte": now})
            .order_by(deadline, "pk")
            .values_list("pk", flat=True)[:limit]
        )
        apply = item_finalise if action == "finalise" else item_lapse
        for item_id in list(due):
            try:
                apply(item_id=item_id, now=now)
            except TransitionNotAllowed:
                applied["skipped"] += 1
            else:
                applied[action] += 1
    restored = items_restore_priority(now=now, limit=limit)
    if restored:
        applied["priority_restored"] = len(restored)
    return applied
