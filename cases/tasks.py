"""Celery tasks of the cases app: thin wrappers that take ids and call one service.

The services decide from the draft row, never from the message, and act only on a draft still in the
state the task expects; so a message delivered twice (late acks, re-queue on worker loss, the sweep)
does nothing the second time. The brand scope is re-checked from the draft itself: its brand, and its
author's current membership.
"""

from celery import shared_task

from cases import importing, services
from core.locks import run_exclusively

#: What the draft's page says after a crash (Celery logs the traceback when the exception is re-raised).
CRASHED = "{} failed and nothing was saved; go back to the form and preview again."
#: What a background decision's page says after a crash.
BULK_CRASHED = "The decision stopped on an error; the items decided before it stay decided, the others are not."


@shared_task
def preview_case_draft(draft_id: str) -> str | None:
    """Check the listing rows of a large draft, with progress on the draft row."""
    try:
        draft = importing.draft_check(draft_id=draft_id)
    except Exception:
        importing.draft_fail(draft_id=draft_id, error=CRASHED.format("Checking the listings"))
        raise
    return draft.state if draft else None


@shared_task
def file_case_draft(draft_id: str) -> str | None:
    """File the valid rows of a large draft as one case, in one transaction."""
    try:
        draft = importing.draft_file(draft_id=draft_id)
    except Exception:
        importing.draft_fail(draft_id=draft_id, error=CRASHED.format("Filing"))
        raise
    return draft.state if draft else None


@shared_task
def run_bulk_decision(bulk_id: str) -> str | None:
    """Apply a moderator's decision on many items, with progress on its row."""
    try:
        bulk = services.bulk_decision_run(bulk_id=bulk_id)
    except Exception:
        services.bulk_decision_fail(
            bulk_id=bulk_id, error="The decision stopped on an error; items decided before it stay decided."
        )
        raise
    return bulk.state if bulk else None


@shared_task
def sweep_case_drafts() -> dict[str, int]:
    """Delete expired drafts and re-queue stalled ones; meant for beat every few minutes."""
    return importing.drafts_sweep()


@shared_task
def apply_item_deadlines() -> dict[str, int] | None:
    """Apply passed counter-notice, brand-answer and clarification deadlines; beat runs it every few
    minutes. None when the previous run is still going."""
    with run_exclusively("cases.tasks.apply_item_deadlines") as acquired:
        return services.items_apply_deadlines() if acquired else None
