"""A delisting job's life as a whole: creating it, its status moves (pause, resume, cancel, complete,
fail) and its progress.

Every status move goes through `JOB_MOVES` (`core.transitions.StateMachine`): the job's row is locked,
the move is checked against the statuses it may start from, saved and audited (`delist_job.<action>`).
A refused move raises `DelistJobStateError`, a `core.errors.TransitionNotAllowed`, which each edge
maps like any other refusal. Chunk rows are not moved one by one: the chunk SQL closes them in bulk.
"""

from collections.abc import Iterable
from datetime import timedelta
from pathlib import PurePath
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.audit.services import audit_record
from core.errors import TransitionNotAllowed
from core.transitions import StateMachine
from listings.choices import DELIST_JOB_FINISHED, DelistChunkState, DelistJobStatus
from listings.delisting import common
from listings.delisting.common import OPEN_CHUNK_STATES
from listings.delisting.selections import frozen_selection
from listings.models import DelistChunk, DelistJob

S = DelistJobStatus

JOB_MOVES = StateMachine(
    model=DelistJob,
    choices=DelistJobStatus,
    allowed_from={
        "pause": {S.RUNNING},
        "resume": {S.PAUSED},
        "cancel": {S.PLANNING, S.RUNNING, S.PAUSED},
        # Only a started job completes, once none of its chunks is open (the last chunk, or the reaper).
        "complete": {S.RUNNING, S.PAUSED},
        # Only planning fails a job (its selection file cannot be read); a failed chunk does not.
        "fail": {S.PLANNING},
    },
    audit_prefix="delist_job",
    refusal="A {status} job cannot be {verb}.",
)


class DelistJobStateError(TransitionNotAllowed):
    """The job's current status does not allow the requested change."""


def job_move(job: DelistJob, action: str, to: str, *, verb: str | None = None, **kwargs: Any) -> str:
    """`JOB_MOVES.move` (the job locked by the caller), refusing with `DelistJobStateError`; a move to a
    finished status also sets `finished_at`."""
    try:
        JOB_MOVES.check(job, action, verb=verb)
    except TransitionNotAllowed as exc:
        raise DelistJobStateError(exc.message) from None
    if to in DELIST_JOB_FINISHED:
        kwargs["finished_at"] = timezone.now()
    return JOB_MOVES.move(job, action, to, check=False, **kwargs)


@transaction.atomic
def delist_job_create(
    *,
    selection_kind: str,
    selection: dict,
    listing_ids: Iterable[int] | None = None,
    file: File | None = None,
    actor: Any,
    reason: str,
    idempotency_key: str,
    automated: bool = False,
) -> DelistJob:
    """Create a delisting job and enqueue its planning once the caller's transaction commits.

    A list of ids comes as `listing_ids`; a kind registered by a higher app is resolved to listing ids
    by its resolver (`selections`); a seller is stored by id and a file as uploaded, both expanded by the
    planning task. Submitting the same `idempotency_key` again returns the existing job and creates
    nothing, also when two submissions race (the unique constraint decides, the loser reads the winner's row).
    """
    existing = DelistJob.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    kind, frozen = frozen_selection(selection_kind, selection, listing_ids, file)
    job = DelistJob(
        idempotency_key=idempotency_key,
        selection_kind=kind,
        selection=frozen,
        reason=reason,
        actor=actor,
        automated=automated,
    )
    if file is not None:
        job.selection_file.save(PurePath(file.name or "selection.txt").name, file, save=False)
    try:
        with transaction.atomic():
            job.save(force_insert=True)
    except IntegrityError:
        winner = DelistJob.objects.filter(idempotency_key=idempotency_key).first()
        if winner is None:
            raise
        if job.selection_file:
            job.selection_file.delete(save=False)
        return winner
    audit_record(
        action="delist_job.create",
        target=job,
        actor=actor,
        automated=automated,
        to_state=job.status,
        reason=reason,
        data={"selection_kind": str(kind)},
    )
    common.enqueue_plan(job.pk)
    return job


# --- completion -------------------------------------------------------------------------------------


def close_if_done(job: DelistJob) -> bool:
    """Close a started job (whose row the caller has locked) once none of its chunks is open."""
    if not JOB_MOVES.allows(job, "complete"):
        return False  # never started, or already closed (by the last chunk, a cancel, the reaper)
    tally = job.chunks.aggregate(
        open=Count("pk", filter=Q(state__in=OPEN_CHUNK_STATES)),
        failed_chunks=Count("pk", filter=Q(state=DelistChunkState.FAILED)),
        failed_targets=Coalesce(Sum("failed"), 0),
    )
    if tally["open"]:
        return False
    failed = tally["failed_chunks"] or tally["failed_targets"] or job.unresolved
    job_move(job, "complete", S.COMPLETED_WITH_ERRORS if failed else S.COMPLETED, automated=True)
    return True


def delist_job_close_if_done(*, job_id: int) -> bool:
    """The completion check: close the job if no chunk is open. True only for the call that closed it."""
    with transaction.atomic():
        return close_if_done(JOB_MOVES.lock(job_id))


# --- what people ask of a job ------------------------------------------------------------------------


def _pending_chunks(job: DelistJob) -> list[int]:
    # Waiting for a chunk a worker is claiming is safe: worker transactions never wait for the job row.
    pending = DelistChunk.objects.select_for_update().filter(job=job, state=DelistChunkState.PENDING)
    return list(pending.values_list("pk", flat=True))


@transaction.atomic
def delist_job_cancel(*, job_id: int, actor: Any) -> DelistJob:
    """Cancel a job: its pending chunks are closed unprocessed, nothing new starts.

    A chunk a worker is processing right now finishes (its transaction is already under way) and the job
    stays cancelled; a chunk whose worker died is closed as cancelled when the reaper re-sends it. A job
    being planned is cancelled once its planning commits (the planner holds the job's row lock).
    """
    job = JOB_MOVES.lock(job_id)
    job_move(job, "cancel", S.CANCELLED, verb="cancelled", actor=actor)
    DelistChunk.objects.filter(pk__in=_pending_chunks(job)).update(
        state=DelistChunkState.CANCELLED, lease_until=None, finished_at=timezone.now()
    )
    return job


@transaction.atomic
def delist_job_pause(*, job_id: int, actor: Any) -> DelistJob:
    """Pause a running job: chunks not yet claimed stay pending until a resume; claimed ones finish."""
    job = JOB_MOVES.lock(job_id)
    job_move(job, "pause", S.PAUSED, verb="paused", actor=actor)
    return job


@transaction.atomic
def delist_job_resume(*, job_id: int, actor: Any) -> DelistJob:
    """Resume a paused job: its pending chunks are enqueued again once this commits."""
    job = JOB_MOVES.lock(job_id)
    job_move(job, "resume", S.RUNNING, verb="resumed", actor=actor)
    chunk_ids = _pending_chunks(job)
    DelistChunk.objects.filter(pk__in=chunk_ids).update(enqueued_at=timezone.now())
    common.enqueue_chunks(chunk_ids)
    close_if_done(job)  # every chunk may have finished while it was paused
    return job


# --- progress ---------------------------------------------------------------------------------------


def delist_job_progress(job: DelistJob) -> dict[str, Any]:
    """The job's progress from one aggregate query over its chunks (a few rows, where targets are millions).

    `rate` is targets processed per second since the job started; `seconds_left` is None while no rate is
    known yet (or while the job is stalled), and 0 once the job is finished. `chunks_running` are claimed,
    `chunks_waiting` wait for a worker, `chunks_retrying` of those wait after a failed attempt (`last_error`
    says why). `stalled_since` is when the last chunk finished (or the job started) if that is longer ago
    than DELIST_REQUEUE_AFTER_SECONDS while chunks are still open and the job runs, else None.
    """
    tally = job.chunks.aggregate(
        chunks=Count("pk"),
        chunks_done=Count("pk", filter=~Q(state__in=OPEN_CHUNK_STATES)),
        chunks_running=Count("pk", filter=Q(state=DelistChunkState.RUNNING)),
        chunks_waiting=Count("pk", filter=Q(state=DelistChunkState.PENDING)),
        chunks_retrying=Count("pk", filter=Q(state=DelistChunkState.PENDING) & ~Q(last_error="")),
        last_progress_at=Max("finished_at"),
        removed=Coalesce(Sum("removed"), 0),
        skipped=Coalesce(Sum("skipped"), 0),
        failed=Coalesce(Sum("failed"), 0),
    )
    now = timezone.now()
    quiet_since = tally["last_progress_at"] or job.started_at
    patience = timedelta(seconds=common.setting("DELIST_REQUEUE_AFTER_SECONDS", common.DEFAULT_REQUEUE_AFTER_SECONDS))
    stalled = (
        job.status == S.RUNNING
        and quiet_since is not None
        and tally["chunks_running"] + tally["chunks_waiting"] > 0
        and now - quiet_since > patience
    )
    tally["stalled_since"] = quiet_since if stalled else None
    # Input that named no listing was settled at planning, outside any chunk.
    tally["failed"] += job.unresolved
    processed = tally["removed"] + tally["skipped"] + tally["failed"]
    elapsed = ((job.finished_at or now) - job.started_at).total_seconds() if job.started_at else 0.0
    rate = processed / elapsed if elapsed > 0 else 0.0
    if job.status in DELIST_JOB_FINISHED:
        seconds_left: int | None = 0
    elif rate and not stalled:
        seconds_left = round((job.total - processed) / rate)
    else:
        seconds_left = None
    return {
        "status": job.status,
        "total": job.total,
        **tally,
        "processed": processed,
        "rate": rate,
        "seconds_left": seconds_left,
    }
