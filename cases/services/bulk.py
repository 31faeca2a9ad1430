"""Many items at once: one service per item with per-item outcomes (`items_each`), bulk acceptance that
hands large selections to one delisting job, and decisions on more items than a request should hold
(`background_decision_min`) applied in the background with progress (`bulk_decision_start` / `_run`)."""

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.delisting import CASE_ITEMS
from cases.models import BulkDecision, CaseItem
from cases.safeguards import review_blocks
from cases.services.decisions import item_accept, item_reject, item_request_clarification
from cases.services.statements import StatementInput
from cases.services.transitions import _rules
from core.errors import DomainError
from core.locks import claim_is_free, run_exclusively
from core.queue import send, send_on_commit
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
    inside the caller's). An item the service refuses is recorded with the reason and the others go on.

    An item a registered review block names (`cases.safeguards`, e.g. a risk rule forcing human review)
    is refused: it is decided one by one on its own page, never in a batch."""
    outcome = BulkOutcome()
    blocked = review_blocks(item_ids)
    for item_id in item_ids:
        if item_id in blocked:
            outcome.refused[item_id] = f"Item #{item_id} must be decided on its own page: {blocked[item_id]}"
            continue
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


# --- many items in the background -------------------------------------------------------------------

#: Items decided between two progress updates of a background decision.
BULK_BATCH = 25


def background_decision_min() -> int:
    """Above this many items, a moderator's decision runs in the background with a progress page."""
    return int(_rules().get("ADMIN_BACKGROUND_DECISION_MIN", 40))


def _json_statement(statement: StatementInput | None) -> dict[str, Any] | None:
    if statement is None:
        return None
    return {
        key: value.isoformat() if isinstance(value, date) else list(value) if isinstance(value, tuple) else value
        for key, value in asdict(statement).items()
    }


def _statement_from_json(data: dict[str, Any] | None) -> StatementInput | None:
    if data is None:
        return None
    dates = {"end_date_visibility_restriction", "application_date"}
    return StatementInput(
        **{key: date.fromisoformat(value) if key in dates and value else value for key, value in data.items()}
    )


def _one_item_service(bulk: BulkDecision) -> Callable[[int], object]:
    """The one-item service a background decision applies, from its stored arguments."""
    args, actor = bulk.arguments, bulk.actor
    take_over = bool(args.get("take_over"))
    if bulk.decision == "accept":
        statement = _statement_from_json(args.get("statement"))
        return lambda item_id: item_accept(
            item_id=item_id, actor=actor, message=args.get("message", ""), statement=statement, take_over=take_over
        )
    if bulk.decision == "reject":
        return lambda item_id: item_reject(
            item_id=item_id, actor=actor, code=args["code"], message=args.get("message", ""), take_over=take_over
        )
    if bulk.decision == "clarify":
        return lambda item_id: item_request_clarification(
            item_id=item_id, actor=actor, message=args["message"], take_over=take_over
        )
    raise ValueError(f"Unknown decision {bulk.decision!r}")


def bulk_decision_start(
    *,
    actor: Any,
    decision: str,
    item_ids: Sequence[int],
    message: str = "",
    code: str = "",
    statement: StatementInput | None = None,
    take_over: bool = False,
) -> BulkDecision:
    """Record a decision on many items and run it in the background once the caller's transaction commits.

    The row is the truth: with the broker down the request still commits and answers, and
    `bulk_decisions_sweep` sends the task once the broker is back (`core.queue.send_on_commit`).
    """
    if decision not in ("accept", "reject", "clarify"):
        raise ValueError(f"Unknown decision {decision!r}")
    from cases.tasks import run_bulk_decision  # tasks import the services

    bulk = BulkDecision.objects.create(
        actor=actor,
        decision=decision,
        item_ids=list(dict.fromkeys(int(pk) for pk in item_ids)),
        arguments={"message": message, "code": code, "take_over": take_over, "statement": _json_statement(statement)},
    )
    send_on_commit(run_bulk_decision, str(bulk.pk))
    return bulk


def bulk_claim_name(bulk_id: str) -> str:
    """The `core.locks` name of a background decision's claim: a session-level advisory lock held by the
    worker running it, so the claim dies with the worker's database session (a killed worker, a lost host)."""
    return f"cases.bulk_decision:{bulk_id}"


def bulk_decision_run(*, bulk_id: str) -> BulkDecision | None:
    """Apply a queued background decision, item by item as `items_each` does (each acceptance removes its
    listing itself: there is no request to hold), BULK_BATCH items at a time.

    Safe to run twice. The running worker holds the claim lock (`bulk_claim_name`): a second delivery
    while it runs finds the lock taken and does nothing. A decision found RUNNING with its lock free lost
    its worker and is resumed: each batch's decisions commit in one transaction with the progress that
    records them, so the resumed run starts after the last committed batch and decides no item twice.
    DONE or FAILED: nothing to do.
    """
    with run_exclusively(bulk_claim_name(bulk_id)) as claimed:
        if not claimed:
            return None
        with transaction.atomic():
            bulk = BulkDecision.objects.select_for_update().select_related("actor").filter(pk=bulk_id).first()
            if bulk is None or bulk.state not in (BulkDecision.State.QUEUED, BulkDecision.State.RUNNING):
                return None
            bulk.state = BulkDecision.State.RUNNING
            bulk.save(update_fields=["state", "updated_at"])
        apply = _one_item_service(bulk)
        existing = set(CaseItem.objects.filter(pk__in=bulk.item_ids).values_list("pk", flat=True))
        handled = set(bulk.done_ids) | {int(pk) for pk in bulk.refused}
        ordered = sorted(existing - handled)
        missing = [pk for pk in bulk.item_ids if pk not in existing]
        for batch in itertools.batched(ordered, BULK_BATCH):
            with transaction.atomic():
                outcome = items_each(item_ids=batch, apply=apply)
                bulk.done_ids += outcome.done
                bulk.refused |= {str(pk): why for pk, why in outcome.refused.items()}
                bulk.items_done = len(bulk.done_ids) + len(bulk.refused)
                bulk.save(update_fields=["done_ids", "refused", "items_done", "updated_at"])
        bulk.refused |= {str(pk): f"No case item #{pk}." for pk in missing}
        bulk.items_done = len(bulk.item_ids)
        bulk.state = BulkDecision.State.DONE
        bulk.save(update_fields=["refused", "items_done", "state", "updated_at"])
        return bulk


def bulk_decision_fail(*, bulk_id: str, error: str) -> None:
    """Mark a background decision that crashed (the items decided before the crash stay decided)."""
    BulkDecision.objects.filter(pk=bulk_id).exclude(state=BulkDecision.State.DONE).update(
        state=BulkDecision.State.FAILED, error=error
    )


#: A queued decision not started this long after it was recorded: its message never reached a worker (the
#: broker was down when the request committed, or lost it).
BULK_UNSTARTED_AFTER = timedelta(minutes=1)


def bulk_decisions_sweep(*, now: datetime | None = None) -> int:
    """Re-send the background decisions whose task was lost; the number re-sent.

    Lost: QUEUED for BULK_UNSTARTED_AFTER since it was recorded or last re-sent (never published, or the
    message dropped), or RUNNING with its claim lock free (its worker died). A decision whose worker is
    alive holds the lock and is left alone. Re-sending is safe: `bulk_decision_run` does nothing for a
    decision another worker runs or finished.
    """
    from cases.tasks import run_bulk_decision  # tasks import the services

    now = now or timezone.now()
    lost = BulkDecision.objects.filter(
        Q(state=BulkDecision.State.QUEUED, updated_at__lt=now - BULK_UNSTARTED_AFTER)
        | Q(state=BulkDecision.State.RUNNING)
    ).values_list("pk", "state")
    resent = 0
    for bulk_id, state in lost:
        if state == BulkDecision.State.RUNNING and not claim_is_free(bulk_claim_name(str(bulk_id))):
            continue  # its worker is alive
        if send(run_bulk_decision, str(bulk_id)):
            # Not re-sent again next minute while the message waits behind a long queue.
            BulkDecision.objects.filter(pk=bulk_id, state=BulkDecision.State.QUEUED).update(updated_at=now)
            resent += 1
    return resent
