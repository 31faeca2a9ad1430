"""Celery tasks of the detection app (queue "detection"): take listing ids, call the services.

Matching is idempotent (one candidate per bank entry and listing), so a message delivered twice, or a
listing sent again by its marketplace, creates nothing new and files nothing twice."""

from collections.abc import Iterable

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from core.queue import RETRY_ON_DATABASE_ERRORS, send_on_commit
from detection.services.bank import bank_refresh_expiry
from detection.services.candidates import candidates_file_strong
from detection.services.matching import listings_match
from detection.services.pending import pending_done, pending_record, pending_sweep

#: Listing ids per message: a task should carry hundreds of rows, not one (per-message overhead ~2 ms).
BATCH = 500


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def match_listings(listing_ids: list[int]) -> dict[str, int]:
    """Match the listings against the banks; file the strong candidates the brands' policy allows; then
    they are no longer pending."""
    started = timezone.now()
    strong = listings_match(listing_ids=listing_ids)
    filed = candidates_file_strong(candidate_ids=strong)
    pending_done(listing_ids=listing_ids, queued_before=started)
    return {"strong": len(strong), "filed": filed}


def match_on_commit(listing_ids: Iterable[int]) -> None:
    """Mark the listings pending in the caller's transaction, and send them to matching once it commits,
    in batches; a message lost meanwhile is sent again by `sweep_pending_matches`."""
    ids = sorted(set(listing_ids))
    pending_record(listing_ids=ids)
    _send(ids)


def _send(ids: list[int]) -> None:
    for start in range(0, len(ids), BATCH):
        send_on_commit(match_listings, ids[start : start + BATCH])


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def sweep_pending_matches() -> int:
    """Every minute: send again the listings whose matching message was lost (the broker was down)."""
    with transaction.atomic():
        overdue = pending_sweep()
        _send(overdue)
    return len(overdue)


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def refresh_bank_expiry() -> int:
    """Nightly: bank entries follow their rights' validity dates."""
    return bank_refresh_expiry()
