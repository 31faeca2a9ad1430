"""The reaper: recovers what Redis or a worker lost, run by beat every few seconds (DELIST_REAP_SECONDS).

PostgreSQL is the source of truth and a Redis message only says "this chunk may have work", so a lost
message or a dead worker costs seconds, never correctness: the reaper re-sends chunks whose claim died
with its worker (the claim lock is free, see `chunks`) or whose message was lost, re-sends the planning
of jobs stuck in planning, and closes started jobs whose last worker died between its chunk and the
completion check. A duplicated message finds its chunk
claimed or closed and does nothing.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.locks import run_exclusively
from listings.choices import DelistChunkState, DelistJobStatus
from listings.delisting import chunks, common, jobs
from listings.delisting.common import DEFAULT_DEAD_RESEND_SECONDS, DEFAULT_REQUEUE_AFTER_SECONDS, OPEN_CHUNK_STATES
from listings.models import DelistChunk, DelistJob

#: The reaper's advisory lock (core.locks): two reapers never re-send the same chunks.
REAPER_LOCK = "listings.delisting.delist_reap"


def _reap_chunks(now: datetime, stale: datetime, resend_dead_before: datetime) -> int:
    """Re-send chunks whose worker died (a dead claim) or whose message was lost.

    A running chunk whose claim lock nobody holds (`chunks.dead_claims`) lost its worker: it is re-sent at
    once, and again at most every DELIST_DEAD_RESEND_SECONDS while it stays dead (its first re-sent message
    may still wait behind other chunks). A chunk a worker is at work on is row-locked and skipped.
    A pending chunk counts as lost only when its job has finished no chunk for DELIST_REQUEUE_AFTER_SECONDS:
    a long job's chunks wait in the queue for a while, and re-sending those would only duplicate them.
    Such a chunk is re-sent at most once per that period, paused jobs are left alone, and chunks of
    cancelled jobs are re-sent so that their claim closes them.
    """
    recent_progress = DelistChunk.objects.filter(job=OuterRef("job"), finished_at__gte=stale)
    lost = Q(state=DelistChunkState.PENDING) & ~Exists(recent_progress)
    not_sent_lately = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale)
    dead_not_sent_lately = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=resend_dead_before)
    with transaction.atomic():
        candidates = (
            DelistChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(job__status__in=(DelistJobStatus.RUNNING, DelistJobStatus.CANCELLED))
            .order_by("pk")
        )
        running = candidates.filter(dead_not_sent_lately, state=DelistChunkState.RUNNING).values_list("pk", flat=True)
        lost_ids = candidates.filter(lost & not_sent_lately).values_list("pk", flat=True)
        chunk_ids = sorted({*chunks.dead_claims(list(running)), *lost_ids})
        DelistChunk.objects.filter(pk__in=chunk_ids).update(enqueued_at=now)
        common.enqueue_chunks(chunk_ids)
    return len(chunk_ids)


def _reap_planning(stale: datetime) -> int:
    """Re-send the planning of jobs still planning long after creation (a planner is skipped if at work)."""
    with transaction.atomic():
        job_ids = list(
            DelistJob.objects.filter(status=DelistJobStatus.PLANNING, created_at__lt=stale).values_list("pk", flat=True)
        )
        for job_id in job_ids:
            common.enqueue_plan(job_id)
    return len(job_ids)


def _reap_unclosed_jobs() -> int:
    """Close started jobs with no open chunk: their last worker died between its chunk and the check."""
    open_chunks = DelistChunk.objects.filter(job=OuterRef("pk"), state__in=OPEN_CHUNK_STATES)
    job_ids = DelistJob.objects.filter(
        ~Exists(open_chunks), status__in=(DelistJobStatus.RUNNING, DelistJobStatus.PAUSED)
    ).values_list("pk", flat=True)
    return sum(jobs.delist_job_close_if_done(job_id=job_id) for job_id in list(job_ids))


def delist_reap() -> dict[str, int] | None:
    """Recover what Redis or a worker lost; None when another reaper is running.

    Meant for beat every few seconds. The session-level advisory lock keeps two runs (a slow one and the next
    tick, or two beats) from re-sending the same chunks; PostgreSQL drops it if the connection dies.
    """
    with run_exclusively(REAPER_LOCK) as acquired:
        if not acquired:
            return None
        now = timezone.now()
        stale = now - timedelta(seconds=common.setting("DELIST_REQUEUE_AFTER_SECONDS", DEFAULT_REQUEUE_AFTER_SECONDS))
        dead_resend = common.setting("DELIST_DEAD_RESEND_SECONDS", DEFAULT_DEAD_RESEND_SECONDS)
        return {
            "chunks": _reap_chunks(now, stale, now - timedelta(seconds=dead_resend)),
            "plans": _reap_planning(stale),
            "closed": _reap_unclosed_jobs(),
        }
