"""The review queue's priority of an item: lowered by an app above cases (a live "lower priority" risk rule
of `safeguards`) through `items_lower_priority`; the queue's order reads it (`cases.querysets.queue_ordering`).

Only the flag is written: the item's SLA due time, status and lane stay as they are, so a lowered item is
still measured against its SLA and still comes first once its deadline is close."""

from collections.abc import Sequence

from django.db import transaction

from cases.models import CaseItem
from cases.services.assignment import ASSIGNABLE_STATUSES
from core.audit.services import audit_record_state_changes


@transaction.atomic
def items_lower_priority(*, item_ids: Sequence[int], reason: str) -> list[int]:
    """Lower the queue priority of the items still waiting for a first decision; returns the ids lowered
    now (items lowered before, or decided, are left as they are). Automated: a rule acts, not a person."""
    lowered = list(
        CaseItem.objects.filter(pk__in=list(item_ids), status__in=ASSIGNABLE_STATUSES, priority_lowered=False)
        .order_by("pk")
        .values_list("pk", "status")
    )
    if not lowered:
        return []
    CaseItem.objects.filter(pk__in=[pk for pk, _ in lowered]).update(priority_lowered=True)
    # One event per item, the status unchanged (the queue's order is not a status).
    audit_record_state_changes(
        action="item.lower_priority",
        model=CaseItem,
        changes=[(pk, status, status) for pk, status in lowered],
        automated=True,
        reason=reason,
    )
    return [pk for pk, _ in lowered]
