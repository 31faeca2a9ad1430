"""Many items at once: one service per item with per-item outcomes (`items_each`), and bulk acceptance that
hands large selections to one delisting job."""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from cases.delisting import CASE_ITEMS
from cases.models import CaseItem
from cases.services.decisions import item_accept
from cases.services.statements import StatementInput
from cases.services.transitions import _rules
from core.errors import DomainError
from listings import delisting
from listings.models import DelistJob

# --- many items at once ----------------------------------------------------------------------------


@dataclass
class BulkOutcome:
    """What a decision over many items did: the items it changed, those it refused (id → why), and the
    delisting job that removes the accepted items' listings (large acceptances only)."""

    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    job: DelistJob | None = None


def items_each(*, item_ids: Sequence[int], apply: Callable[[int], object]) -> BulkOutcome:
    """Apply a one-item service to each item, in the given order, each in its own transaction (a savepoint
    inside the caller's). An item the service refuses is recorded with the reason and the others go on."""
    outcome = BulkOutcome()
    for item_id in item_ids:
        try:
            apply(item_id)
        except DomainError as exc:
            outcome.refused[item_id] = exc.message
        except ValidationError as exc:
            outcome.refused[item_id] = f"Item #{item_id}: {' '.join(exc.messages)}"
        else:
            outcome.done.append(item_id)
    return outcome


def direct_accept_max() -> int:
    """Above this many items, an acceptance removes the listings through one delisting job."""
    return int(_rules().get("ADMIN_DIRECT_ACCEPT_MAX", 50))


def items_accept(
    *,
    item_ids: Sequence[int],
    actor: Any,
    message: str = "",
    statement: StatementInput | None = None,
    take_over: bool = False,
) -> BulkOutcome:
    """Accept many items, each refused on its own if its status or assignee does not allow it.

    Up to `direct_accept_max()` items, each acceptance removes its listing itself, each in its own
    transaction, as if accepted one by one. Above, removing the listings one by one would hold the
    request and the cases' row locks too long: the items are decided (status, statement of reasons,
    audit) without touching their listings, and ONE delisting job removes them in the background. The
    decisions and the job commit together, so no item is accepted without something that removes its
    listing. Items are decided in (case, item) order: two large acceptances over the same cases lock the
    case rows in the same order and so cannot deadlock.
    """
    ids = list(CaseItem.objects.filter(pk__in=item_ids).order_by("case_id", "pk").values_list("pk", flat=True))
    missing = sorted(set(item_ids) - set(ids))

    def accept(remove_listing: bool) -> Callable[[int], object]:
        return lambda item_id: item_accept(
            item_id=item_id,
            actor=actor,
            message=message,
            statement=statement,
            take_over=take_over,
            remove_listing=remove_listing,
        )

    if len(ids) <= direct_accept_max():
        outcome = items_each(item_ids=ids, apply=accept(remove_listing=True))
    else:
        with transaction.atomic():
            outcome = items_each(item_ids=ids, apply=accept(remove_listing=False))
            if outcome.done:
                outcome.job = _delist_accepted(outcome.done, actor=actor)
    outcome.refused.update({item_id: f"No case item #{item_id}." for item_id in missing})
    return outcome


def _delist_accepted(item_ids: list[int], *, actor: Any) -> DelistJob:
    done = sorted(item_ids)
    digest = hashlib.sha256(",".join(map(str, done)).encode()).hexdigest()
    return delisting.delist_job_create(
        selection_kind=CASE_ITEMS,  # resolved to the items' listings by `cases.delisting`
        selection={"item_ids": done},
        actor=actor,
        reason=f"Reports accepted by a moderator ({len(done)} case items, listed in the job's selection).",
        # The same accepted items can only be accepted once, so their ids name the job.
        idempotency_key=f"accept-items:{digest}",
    )
