"""Assignment: a moderator takes an item (or takes it over from another), or releases it; deciding an item
assigned to someone else is refused unless it is taken over."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.choices import ItemStatus
from cases.models import CaseItem
from cases.services.transitions import S, _lock, _move
from core.audit.services import audit_record
from core.errors import TransitionNotAllowed
from core.transitions import StateMachine

# --- assignment -----------------------------------------------------------------------------------

#: Items a moderator may assign to themselves or release: those waiting for a first decision.
ASSIGNABLE_STATUSES = frozenset({S.SUBMITTED, S.IN_REVIEW})

#: Assignment leaves the status as it is (or starts the review, an item move): only its check is used.
ASSIGNMENT = StateMachine(
    model=CaseItem,
    choices=ItemStatus,
    allowed_from={"assign": ASSIGNABLE_STATUSES, "release": ASSIGNABLE_STATUSES},
    audit_prefix="item",
    refusal="Cannot {verb} item #{pk}: it is {status}; only items waiting for a decision ({allowed}) are assigned.",
)


def _person(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _guard_assignee(item: CaseItem, actor: Any, *, take_over: bool) -> dict[str, int]:
    """Refuse a decision on an item another moderator works on, unless the actor explicitly takes it over.

    Two moderators opening the same item must not both decide it by accident; the row lock already makes
    the second decision fail, but only after its author did the work. Returns the audit data that
    records a take-over (empty otherwise).
    """
    assignee = item.assigned_to_id
    if assignee is None or actor is None or assignee == actor.pk:
        return {}
    if not take_over:
        raise TransitionNotAllowed(
            f"Item #{item.pk} is assigned to {_person(item.assigned_to)}; take it over to decide it."
        )
    return {"took_over_from": assignee}


def _audit_assignment(item: CaseItem, action: str, actor: Any, data: dict[str, Any]) -> None:
    # No brand_id: who works on an item inside the marketplace is not part of the brand's timeline.
    audit_record(action=action, target=item, actor=actor, from_state=item.status, to_state=item.status, data=data)


@transaction.atomic
def item_assign(*, item_id: int, actor: Any, force: bool = False) -> CaseItem:
    """Assign an item waiting for a decision to `actor`, so that nobody else decides it by accident.

    A submitted item goes into review (the brand sees that someone is looking at it). An item assigned to
    someone else is only taken over with `force` (an explicit "take over" in the console); an item
    already assigned to `actor` is left as it is.
    """
    item = _lock(item_id)
    ASSIGNMENT.check(item, "assign")
    previous = item.assigned_to_id
    if previous == actor.pk:
        return item
    if previous is not None and not force:
        raise TransitionNotAllowed(
            f"Item #{item.pk} is assigned to {_person(item.assigned_to)}; take it over to assign it to yourself."
        )
    data = {"took_over_from": previous} if previous else None
    now = timezone.now()
    if item.status == S.SUBMITTED:
        return _move(item, "start_review", S.IN_REVIEW, actor=actor, data=data, assigned_to=actor, assigned_at=now)
    item.assigned_to, item.assigned_at = actor, now
    item.save(update_fields=["assigned_to", "assigned_at"])
    _audit_assignment(item, "item.assign", actor, data or {})
    return item


@transaction.atomic
def item_release(*, item_id: int, actor: Any) -> CaseItem:
    """Give back an item assigned to `actor` so another moderator can pick it up; it stays in review.

    Only the assignee releases an item (anyone else takes it over instead); an unassigned item is left
    as it is.
    """
    item = _lock(item_id)
    ASSIGNMENT.check(item, "release")
    if item.assigned_to_id is None:
        return item
    if item.assigned_to_id != actor.pk:
        raise TransitionNotAllowed(
            f"Item #{item.pk} is assigned to {_person(item.assigned_to)}; only they can release it."
        )
    item.assigned_to, item.assigned_at = None, None
    item.save(update_fields=["assigned_to", "assigned_at"])
    _audit_assignment(item, "item.release", actor, {"released_by": actor.pk})
    return item
