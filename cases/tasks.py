"""Celery tasks of the cases app: thin wrappers that take ids and call one service.

The services decide from the draft row, never from the message, and act only on a draft still in the
state the task expects; so a message delivered twice (late acks, re-queue on worker loss, the sweep)
does nothing the second time. The brand scope is re-checked from the draft itself: its brand, and its
author's current membership.

A database outage makes a task retry with back-off (`core.queue.RETRY_ON_DATABASE_ERRORS`) rather than
mark the draft failed: the draft is still in the state the task expects when the database is back.
"""

from celery import shared_task

from cases import importing, services
from core.locks import run_exclusively
from core.queue import DATABASE_UNAVAILABLE, RETRY_ON_DATABASE_ERRORS

#: What the draft's page says after a crash (Celery logs the traceback when the exception is re-raised).
CRASHED = "{} failed and nothing was saved; go back to the form and preview again."
#: What a background decision's page says after a crash.
BULK_CRASHED = "The decision stopped on an error; the items decided before it stay decided, the others are not."


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def preview_case_draft(draft_id: str) -> str | None:
    """Check the listing rows of a large draft, with progress on the draft row."""
    try:
        draft = importing.draft_check(draft_id=draft_id)
    except DATABASE_UNAVAILABLE:
        raise  # retried: not the draft's fault
    except Exception:
        importing.draft_fail(draft_id=draft_id, error=CRASHED.format("Checking the listings"))
        raise
    return draft.state if draft else None


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def file_case_draft(draft_id: str) -> str | None:
    """File the valid rows of a large draft as one case, in one transaction."""
    try:
        draft = importing.draft_file(draft_id=draft_id)
    except DATABASE_UNAVAILABLE:
        raise  # retried: the filing's transaction was rolled back, the draft is still FILING
    except Exception:
        importing.draft_fail(draft_id=draft_id, error=CRASHED.format("Filing"))
        raise
    return draft.state if draft else None


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def run_bulk_decision(bulk_id: str) -> str | None:
    """Apply a moderator's decision on many items, with progress on its row (idempotent: a second run
    of the same decision changes nothing, a run after a lost worker resumes after the last saved batch)."""
    try:
        bulk = services.bulk_decision_run(bulk_id=bulk_id)
    except DATABASE_UNAVAILABLE:
        raise  # retried: the batch in progress was rolled back with its progress, the row is still RUNNING
    except Exception:
        services.bulk_decision_fail(bulk_id=bulk_id, error=BULK_CRASHED)
        raise
    return bulk.state if bulk else None


@shared_task
def sweep_bulk_decisions() -> int:
    """Re-send background decisions never started or whose worker died; meant for beat every minute."""
    return services.bulk_decisions_sweep()


@shared_task
def sweep_case_drafts() -> dict[str, int]:
    """Delete expired drafts and re-queue stalled ones; meant for beat every few minutes."""
    return importing.drafts_sweep()


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def apply_item_deadlines() -> dict[str, int] | None:
    """Apply passed counter-notice, brand-answer and clarification deadlines; beat runs it every few
    minutes. None when the previous run is still going."""
    with run_exclusively("cases.tasks.apply_item_deadlines") as acquired:
        return services.items_apply_deadlines() if acquired else None
