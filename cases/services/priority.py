"""The review queue's priority of an item: lowered by an app above cases (a live "lower priority" risk rule
of `safeguards`) through `items_lower_priority`, and given back by the deadline sweep once the item's SLA
is within `QUEUE_LOWERED_PRIORITY_GUARD` (`items_restore_priority`). The queue orders by lane, then the
flag, then SLA due time (`cases.querysets.QUEUE_ORDERING`), an order its partial index serves.

Only the flag is written: the item's SLA due time, status and lane stay as they are, so a lowered item is
still measured against its SLA, and from the guard on it takes its place by SLA due time again."""

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.models import CaseItem
from cases.services.assignment import ASSIGNABLE_STATUSES
from core.audit.services import audit_record_state_changes


def priority_guard() -> object:
    return settings.MARKETSAFE["QUEUE_LOWERED_PRIORITY_GUARD"]


def _set_lowered(rows: list[tuple[int, str]], *, lowered: bool, action: str, reason: str) -> list[int]:
    ids = [pk for pk, _ in rows]
    if not ids:
        return []
    CaseItem.objects.filter(pk__in=ids).update(priority_lowered=lowered)
    # One event per item, the status unchanged (the queue's order is not a status). Automated: a rule acts.
    audit_record_state_changes(
        action=action,
        model=CaseItem,
        changes=[(pk, status, status) for pk, status in rows],
        automated=True,
        reason=reason,
    )
    return ids


@transaction.atomic
def items_lower_priority(*, item_ids: Sequence[int], reason: str, now: datetime | None = None) -> list[int]:
    """Lower the queue priority of the items still waiting for a first decision; returns the ids lowered
    now. Items lowered before, decided, or already within the guard of their SLA are left as they are."""
    horizon = (now or timezone.now()) + priority_guard()
    rows = list(
        CaseItem.objects.filter(
            pk__in=list(item_ids), status__in=ASSIGNABLE_STATUSES, priority_lowered=False, sla_due_at__gt=horizon
        )
        .order_by("pk")
        .values_list("pk", "status")
    )
    return _set_lowered(rows, lowered=True, action="item.lower_priority", reason=reason)


@transaction.atomic
def items_restore_priority(*, now: datetime | None = None, limit: int = 5000) -> list[int]:
    """Give the lowered items whose SLA is due within the guard their place by SLA due time back (the
    deadline sweep runs this every few minutes; `limit` per run, the most urgent first)."""
    horizon = (now or timezone.now()) + priority_guard()
    rows = list(
        CaseItem.objects.filter(status__in=ASSIGNABLE_STATUSES, priority_lowered=True, sla_due_at__lte=horizon)
        .order_by("sla_due_at", "pk")
        .values_list("pk", "status")[:limit]
    )
    reason = f"SLA due within {priority_guard()}: ordered by SLA due time again."
    return _set_lowered(rows, lowered=False, action="item.restore_priority", reason=reason)
