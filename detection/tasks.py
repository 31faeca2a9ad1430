"""Celery tasks of the detection app (queue "detection"): take listing ids, call the services.

Matching is idempotent (one candidate per bank entry and listing), so a message delivered twice, or a
listing sent again by its marketplace, creates nothing new and files nothing twice."""

from collections.abc import Iterable

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from core.locks import run_exclusively
from core.queue import RETRY_ON_DATABASE_ERRORS, send, send_on_commit
from detection.services.bank import bank_refresh_expiry
from detection.services.candidates import candidates_file_strong
from detection.services.matching import listings_match
from detection.services.pending import pending_done, pending_record, pending_sweep
from detection.services.watch import watch_digests_send, watch_searches_due, watch_searches_run

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


#: Saved searches per message of a watch run.
WATCH_BATCH = 50


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def run_watch_searches() -> int:
    """Beat (sweeps): send the saved searches that are due to the detection queue, in batches. Overlapping
    beats send nothing twice at once; a search sent twice is run once (its row lock, its high-water mark)."""
    with run_exclusively("detection.run_watch_searches") as acquired:
        if not acquired:
            return 0
        due = watch_searches_due()
    for start in range(0, len(due), WATCH_BATCH):
        send(run_watch_search_batch, due[start : start + WATCH_BATCH])
    return len(due)


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def run_watch_search_batch(search_ids: list[int]) -> int:
    """Run saved searches over the listings that appeared since their last run; returns the new matches."""
    return watch_searches_run(search_ids=search_ids)


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def send_watch_digests() -> int:
    """Daily: each brand's digest e-mail of new watch matches (once per brand and day)."""
    with run_exclusively("detection.send_watch_digests") as acquired:
        return watch_digests_send() if acquired else 0
