"""The delisting engine: batch removal of listings, planned into chunks and run by Celery chunk tasks.

How it stays correct when Celery and Redis misbehave:

- PostgreSQL is the source of truth. A job and its chunks are rows, and every decision (may this chunk
  run, is the job finished) is taken from those rows under row locks. A Redis message only says "this
  chunk may have work": a lost message is re-sent by the reaper, a duplicated one finds its chunk claimed
  or closed and does nothing.
- Planning cuts the selected listing ids, in id order, into chunks of DELIST_CHUNK_SIZE in one pass
  (keyset: never OFFSET, which would re-read every earlier row). Each chunk row freezes its ids as an
  array, so a chunk's listings are one row away wherever it sits in the job, and planning writes one row
  per chunk rather than one per listing.
- A chunk is claimed with SELECT ... FOR UPDATE SKIP LOCKED: a second copy of its message skips a chunk
  another worker holds instead of queueing behind its lock. The claim (attempt count, lease) is committed
  before the work, so a worker that dies mid-chunk still used up an attempt: a chunk that kills its worker
  every time is failed after DELIST_MAX_ATTEMPTS instead of being redelivered forever.
- The work is one set-based statement in one transaction: it locks and removes the chunk's listings that
  are still live, inserts their audit events, writes a target row for each listing it did not remove
  (already removed, held back by a lock check, gone) and closes the chunk with the removed ids and its
  counters. A chunk takes effect whole or not at all, and running it again changes nothing (only live
  listings are touched). Nothing is written per listing beyond the removal itself when all goes well.
- Completion is read from the chunk rows under the job's row lock, never from a chord or a counter in
  Redis: whichever chunk finishes last finds no open chunk and closes the job, and the status guard
  makes that happen once.
- Locks are taken job row first, chunk rows second. Worker transactions that hold a chunk lock read the
  job without locking it, and the completion check runs in a transaction of its own, so the services
  (cancel, pause, resume) can wait for chunk locks without a deadlock being possible.
- Memory stays flat: no job is ever loaded whole into Python. Chunks are cut by INSERT ... SELECT (a
  seller's live listings; the frozen id list, expanded inside PostgreSQL; a file streamed line by line in
  batches into a temporary table); a chunk's ids stay in the database (only registered lock checks see
  them, one chunk at a time).

The tasks in `listings.tasks` only call the functions here.
"""

import itertools
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.audit.services import audit_record
from core.locks import run_exclusively
from listings.choices import (
    DELIST_JOB_FINISHED,
    LISTING_LIVE_STATUSES,
    DelistChunkState,
    DelistJobStatus,
    DelistOutcome,
    DelistSelectionKind,
    ListingStatus,
)
from listings.models import DelistChunk, DelistJob, DelistTarget, Listing
from listings.services import normalise_listing_url

#: Defaults of the settings.MARKETSAFE keys that tune the engine.
DEFAULT_CHUNK_SIZE = 5000
DEFAULT_MAX_ATTEMPTS = 5
#: Past the chunk task's hard time limit (600 s): a lease only lapses once its worker is surely gone.
DEFAULT_LEASE_SECONDS = 660
DEFAULT_REQUEUE_AFTER_SECONDS = 600

#: Lines of an uploaded file resolved per query.
FILE_BATCH = 5000
MAX_BIGINT = 2**63 - 1

OPEN_CHUNK_STATES = (DelistChunkState.PENDING, DelistChunkState.RUNNING)
#: Outcomes that leave a listing up although the job asked to take it down.
FAILED_OUTCOMES = (DelistOutcome.NOT_FOUND, DelistOutcome.LOCKED, DelistOutcome.ERROR)

#: The reaper's advisory lock (core.locks): two reapers never re-send the same chunks.
REAPER_LOCK = "listings.delisting.delist_reap"

LockCheck = Callable[[Sequence[int]], Collection[int]]
_lock_checks: list[LockCheck] = []


class DelistJobStateError(Exception):
    """The job's current status does not allow the requested change."""


class ChunkRun(StrEnum):
    """What one call of `delist_chunk_process` did."""

    DONE = "done"  # the chunk's listings were processed
    BUSY = "busy"  # another worker holds the chunk (or it no longer exists)
    CLOSED = "closed"  # done, failed or cancelled before: nothing to do
    PAUSED = "paused"  # the job is paused; the chunk waits for a resume
    CANCELLED = "cancelled"  # the job was cancelled; the chunk is closed unprocessed
    FAILED = "failed"  # the chunk used its last attempt
    RETRY = "retry"  # the attempt failed; the chunk is pending again


def _setting(name: str, default: int) -> int:
    return int(settings.MARKETSAFE.get(name, default))


def register_lock_check(check: LockCheck) -> LockCheck:
    """Register `check(listing_ids) -> ids that must not be removed now`; their targets end up `locked`.

    This app knows nothing of cases, yet a listing held by a pending counter-notice must stay up: cases
    registers its check from its AppConfig.ready(). Checks run inside the chunk's transaction with one
    chunk's live listing ids. Returns `check`, so it can be used as a decorator.
    """
    if check not in _lock_checks:
        _lock_checks.append(check)
    return check


# --- creating and planning a job ---------------------------------------------------------------------


def _frozen_selection(
    kind: DelistSelectionKind, selection: dict, listing_ids: Iterable[int] | None, file: File | None
) -> dict:
    frozen = dict(selection)
    takes_ids = kind in (DelistSelectionKind.CASE_ITEMS, DelistSelectionKind.CASE, DelistSelectionKind.LISTING_IDS)
    if takes_ids and listing_ids is None:
        raise ValueError(f"a selection of {kind.label.lower()} needs listing_ids")
    if not takes_ids and listing_ids is not None:
        raise ValueError("listing_ids go only with case items, a case or a list of ids")
    if (kind == DelistSelectionKind.FILE) != (file is not None):
        raise ValueError("an uploaded file goes with a file selection, and a file selection needs one")
    if kind == DelistSelectionKind.SELLER and not isinstance(selection.get("seller_id"), int):
        raise ValueError("a seller selection needs selection['seller_id']")
    if listing_ids is not None:
        # Frozen in the job row; planning expands the list inside PostgreSQL.
        frozen["listing_ids"] = sorted({int(pk) for pk in listing_ids})
    return frozen


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

    The caller resolves what only it understands into listing ids (a case's or case items' listings);
    a seller is stored by id and a file as uploaded, both expanded by the planning task. Submitting the
    same `idempotency_key` again returns the existing job and creates nothing, also when two submissions
    race (the unique constraint decides, the loser reads the winner's row).
    """
    existing = DelistJob.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    kind = DelistSelectionKind(selection_kind)
    job = DelistJob(
        idempotency_key=idempotency_key,
        selection_kind=kind,
        selection=_frozen_selection(kind, selection, listing_ids, file),
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
        data={"selection_kind": kind.value},
    )
    _enqueue_plan(job.pk)
    return job


def _enqueue_plan(job_id: int) -> None:
    from listings.tasks import plan_delist_job  # here, not at the top: the tasks module imports this one

    plan_delist_job.delay_on_commit(job_id)


def _enqueue_chunks(chunk_ids: Iterable[int]) -> None:
    from listings.tasks import process_delist_chunk  # here, not at the top: the tasks module imports this one

    for chunk_id in chunk_ids:
        process_delist_chunk.delay_on_commit(chunk_id)


#: Listing ids of every kind of selection, cut into chunks by `_cut_chunks`. Each is one SELECT with a
#: single column `id` (a listing id) and the parameters below.
_SELLER_LISTINGS = """
    -- status = ANY(live) implies the predicate of listing_seller_live_idx, which serves this scan.
    SELECT listing.id FROM listings_listing AS listing
    WHERE listing.seller_id = %(seller)s AND listing.status = ANY(%(live)s)
"""
_PICKED_IDS = """
    SELECT picked.id::bigint AS id
    FROM listings_delistjob AS job
    CROSS JOIN LATERAL jsonb_array_elements_text(job.selection -> 'listing_ids') AS picked(id)
    WHERE job.id = %(job)s
"""


def _cut_chunks(job: DelistJob, source: str, params: dict[str, Any]) -> tuple[list[int], int]:
    """Cut the listing ids `source` selects into chunks of DELIST_CHUNK_SIZE ids, in id order, in one pass.

    Each chunk row freezes its ids as an array: a chunk's listings are one row away wherever it sits in
    the job, and planning writes one row per chunk, not one per listing. Returns (chunk ids, listings).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO listings_delistchunk
                (job_id, seq, listing_ids, size, first_listing_id, last_listing_id, removed_ids, state, attempts,
                 enqueued_at, removed, skipped, failed, last_error)
            SELECT %(job)s, numbered.seq, array_agg(numbered.id ORDER BY numbered.id), count(*), min(numbered.id),
                   max(numbered.id), '{{}}', %(pending)s, 0, now(), 0, 0, 0, ''
            FROM (
                SELECT source.id, (row_number() OVER (ORDER BY source.id) - 1) / %(size)s + 1 AS seq
                FROM ({source}) AS source
            ) AS numbered
            GROUP BY numbered.seq
            ORDER BY numbered.seq
            RETURNING id, size
            """,  # noqa: S608 (only this module's constant SQL and integer ids are interpolated)
            {
                **params,
                "job": job.pk,
                "size": _setting("DELIST_CHUNK_SIZE", DEFAULT_CHUNK_SIZE),
                "pending": DelistChunkState.PENDING,
            },
        )
        rows = cursor.fetchall()
    return [chunk_id for chunk_id, _ in rows], sum(size for _, size in rows)


def _plan_seller(job: DelistJob) -> tuple[list[int], int]:
    params = {"seller": job.selection["seller_id"], "live": list(LISTING_LIVE_STATUSES)}
    return *_cut_chunks(job, _SELLER_LISTINGS, params), 0


def _plan_ids(job: DelistJob) -> tuple[list[int], int]:
    """Chunks of the frozen ids that name a listing; one not-found target for each id that names none."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO listings_delisttarget (job_id, listing_id, reference, outcome, detail)
            SELECT %(job)s, NULL, picked.id::text, %(not_found)s, 'No listing has this id.'
            FROM ({_PICKED_IDS}) AS picked
            WHERE NOT EXISTS (SELECT FROM listings_listing AS listing WHERE listing.id = picked.id)
            ORDER BY picked.id
            """,  # noqa: S608 (only this module's constant SQL and integer ids are interpolated)
            {"job": job.pk, "not_found": DelistOutcome.NOT_FOUND},
        )
        unresolved = cursor.rowcount
    found = f"""
        SELECT picked.id FROM ({_PICKED_IDS}) AS picked
        WHERE EXISTS (SELECT FROM listings_listing AS listing WHERE listing.id = picked.id)
    """  # noqa: S608 (only this module's constant SQL and integer ids are interpolated)
    return *_cut_chunks(job, found, {}), unresolved


class SelectionUnreadable(Exception):
    """The job's selection file cannot be read: no retry would bring it back."""


def _file_lines(job: DelistJob) -> Iterator[str]:
    """The file's non-blank lines, stripped; read in chunks, never whole."""
    try:
        with job.selection_file.open("rb") as file:
            for raw in file:
                line = raw.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
                if line:
                    yield line
    except OSError as exc:  # only the file's own errors: a lost database connection is no reason to fail
        raise SelectionUnreadable(str(exc)) from exc


def _read_line(line: str) -> tuple[int | None, str | None, str]:
    """(listing id, normalised URL, what to say if neither names a listing) for one input line."""
    if line.isascii() and line.isdigit():
        number = int(line)
        return (number, None, "No listing has this id.") if number <= MAX_BIGINT else (None, None, "Id out of range.")
    try:
        return None, normalise_listing_url(line), "No listing has this URL."
    except ValueError:
        return None, None, "Neither a listing id nor a listing URL."


def _plan_file(job: DelistJob) -> tuple[list[int], int]:
    """Resolve the file in batches into a temporary table of listing ids (deduplicated by its key), then
    cut chunks from it. Each line that names no listing gets a not-found target of its own."""
    reference_length = DelistTarget._meta.get_field("reference").max_length
    staging = f"delist_plan_{job.pk}"
    unresolved = 0
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} (id bigint PRIMARY KEY) ON COMMIT DROP")
        for batch in itertools.batched(_file_lines(job), FILE_BATCH):
            ids, urls, details = zip(*map(_read_line, batch), strict=True)
            cursor.execute(
                f"""
                WITH found AS MATERIALIZED (
                    SELECT line.n, line.line, line.detail, COALESCE(by_id.id, by_url.id) AS listing_id
                    FROM unnest(%(lines)s::text[], %(ids)s::bigint[], %(urls)s::text[], %(details)s::text[])
                        WITH ORDINALITY AS line(line, listing_id, url, detail, n)
                    LEFT JOIN listings_listing AS by_id ON by_id.id = line.listing_id
                    LEFT JOIN listings_listing AS by_url ON by_url.url = line.url
                ),
                staged AS (
                    INSERT INTO {staging} (id)
                    SELECT found.listing_id FROM found WHERE found.listing_id IS NOT NULL
                    ON CONFLICT DO NOTHING
                )
                INSERT INTO listings_delisttarget (job_id, listing_id, reference, outcome, detail)
                SELECT %(job)s, NULL, found.line, %(not_found)s, found.detail
                FROM found
                WHERE found.listing_id IS NULL
                ORDER BY found.n
                """,  # noqa: S608 (only this module's constant SQL and integer ids are interpolated)
                {
                    "job": job.pk,
                    "lines": [line[:reference_length] for line in batch],
                    "ids": list(ids),
                    "urls": list(urls),
                    "details": list(details),
                    "not_found": DelistOutcome.NOT_FOUND,
                },
            )
            unresolved += cursor.rowcount
        planned = _cut_chunks(job, f"SELECT id FROM {staging}", {})  # noqa: S608 (an integer-named table)
        cursor.execute(f"DROP TABLE {staging}")
    return *planned, unresolved


#: Each writes a job's chunks (and not-found targets): (chunk ids, listings in chunks, unresolved input).
_PLANNERS: dict[str, Callable[[DelistJob], tuple[list[int], int, int]]] = {
    DelistSelectionKind.CASE_ITEMS: _plan_ids,
    DelistSelectionKind.CASE: _plan_ids,
    DelistSelectionKind.LISTING_IDS: _plan_ids,
    DelistSelectionKind.SELLER: _plan_seller,
    DelistSelectionKind.FILE: _plan_file,
}


def delist_job_plan(*, job_id: int) -> bool:
    """Cut the job's selection into chunks, start it and enqueue its chunks; False if nothing to do.

    Idempotent: the whole plan is one transaction under the job's row lock, guarded by the planning
    status. A crash rolls everything back for the next attempt; a second copy of the task finds the job
    locked (another planner is at work) or planned, and returns. An uploaded file that cannot be read
    fails the job, since no retry would bring it back.
    """
    with transaction.atomic():
        job = DelistJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.status != DelistJobStatus.PLANNING:
            return False
        try:
            with transaction.atomic():
                chunk_ids, listings, unresolved = _PLANNERS[job.selection_kind](job)
        except SelectionUnreadable as exc:
            job.status = DelistJobStatus.FAILED
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "finished_at"])
            reason = f"The selection file could not be read: {exc}"
            audit_record(action="delist_job.fail", target=job, automated=True, to_state=job.status, reason=reason)
            return False
        job.total = listings + unresolved
        job.unresolved = unresolved
        job.status = DelistJobStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["total", "unresolved", "status", "started_at"])
        _enqueue_chunks(chunk_ids)
        _close_if_done(job)  # a selection that found nothing is finished at once
    return True


# --- processing a chunk ------------------------------------------------------------------------------


def _job_gate(chunk: DelistChunk) -> ChunkRun | None:
    """None when the chunk's job lets it run; otherwise apply what the job's status means to the chunk."""
    status = chunk.job.status
    if status == DelistJobStatus.RUNNING:
        return None
    if status == DelistJobStatus.PAUSED:
        # Back to pending (also releasing a lapsed lease): a resume enqueues it again.
        chunk.state = DelistChunkState.PENDING
        chunk.lease_until = None
        chunk.save(update_fields=["state", "lease_until"])
        return ChunkRun.PAUSED
    chunk.state = DelistChunkState.CANCELLED
    chunk.lease_until = None
    chunk.finished_at = timezone.now()
    chunk.save(update_fields=["state", "lease_until", "finished_at"])
    return ChunkRun.CANCELLED


def _locked_chunk(chunk_id: int, *, skip_locked: bool = False) -> DelistChunk | None:
    # Locks the chunk only: its job is read, not locked (see the module docstring on lock order). The id
    # arrays stay in PostgreSQL: the statements that need them read them from the chunk row.
    return (
        DelistChunk.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .select_related("job")
        .defer("listing_ids", "removed_ids")
        .filter(pk=chunk_id)
        .first()
    )


def _chunk_fail(chunk: DelistChunk, error: str) -> None:
    """Close a chunk that used its last attempt: each of its listings gets an `error` target."""
    detail = f"The chunk failed: {error}"[: DelistTarget._meta.get_field("detail").max_length]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO listings_delisttarget (job_id, listing_id, reference, outcome, detail)
            SELECT %(job)s, listing.id, CASE WHEN listing.id IS NULL THEN picked.id::text ELSE '' END,
                   %(error)s, %(detail)s
            FROM listings_delistchunk AS chunk
            CROSS JOIN LATERAL unnest(chunk.listing_ids) AS picked(id)
            LEFT JOIN listings_listing AS listing ON listing.id = picked.id
            WHERE chunk.id = %(chunk)s
            """,
            {"job": chunk.job_id, "chunk": chunk.pk, "error": DelistOutcome.ERROR, "detail": detail},
        )
        failed = cursor.rowcount
    chunk.state = DelistChunkState.FAILED
    chunk.failed = failed
    chunk.last_error = error
    chunk.lease_until = None
    chunk.finished_at = timezone.now()
    chunk.save(update_fields=["state", "failed", "last_error", "lease_until", "finished_at"])


def _chunk_claim(chunk_id: int) -> tuple[DelistChunk | None, ChunkRun | None]:
    """Claim the chunk for one attempt, committed before the work: (chunk, None), or (chunk?, why not)."""
    with transaction.atomic():
        chunk = _locked_chunk(chunk_id, skip_locked=True)
        if chunk is None:
            return None, ChunkRun.BUSY
        if chunk.state not in OPEN_CHUNK_STATES:
            return chunk, ChunkRun.CLOSED
        now = timezone.now()
        if chunk.state == DelistChunkState.RUNNING and chunk.lease_until and chunk.lease_until > now:
            return chunk, ChunkRun.BUSY  # claimed by a worker that is still within its lease
        if refused := _job_gate(chunk):
            return chunk, refused
        if chunk.attempts >= _setting("DELIST_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS):
            # Each earlier attempt claimed the chunk and never reported back: its worker was lost.
            _chunk_fail(chunk, chunk.last_error or f"Gave up after {chunk.attempts} attempts (worker lost).")
            return chunk, ChunkRun.FAILED
        chunk.attempts += 1
        chunk.state = DelistChunkState.RUNNING
        chunk.lease_until = now + timedelta(seconds=_setting("DELIST_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
        chunk.save(update_fields=["attempts", "state", "lease_until"])
        return chunk, None


def _locked_listings(chunk: DelistChunk) -> list[int]:
    """The chunk's listings that a registered lock check holds back (no query without checks)."""
    if not _lock_checks:
        return []
    listing_ids = DelistChunk.objects.filter(pk=chunk.pk).values_list("listing_ids", flat=True).get()
    held: set[int] = set()
    for check in _lock_checks:
        held.update(check(listing_ids))
    return sorted(held.intersection(listing_ids))


def _run_chunk(chunk: DelistChunk, locked: Sequence[int]) -> tuple[int, int, int]:
    """Remove the chunk's still-live listings (but `locked`), audit each, record the others and close the
    chunk, in one statement; returns (removed, skipped, failed).

    - The listings are locked in id order before the update, so the old status recorded is the one
      replaced and two jobs sharing listings cannot deadlock.
    - The audit INSERT writes the columns `core.audit.services.audit_record_state_changes` writes
      (a test holds the two together).
    - A listing the chunk did not remove gets a target row saying why: it was locked (live and held by a
      lock check), it no longer exists, or it was no longer live (already removed, by anyone). When all
      goes well, that is no row at all.
    - The chunk row keeps the removed ids and the counters; the statement touches it once, at the end.
    Every join has an index lookup on its inner side (row estimates of CTEs are guesses).
    """
    job = chunk.job
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH picked AS MATERIALIZED (
                SELECT unnest(chunk.listing_ids) AS id FROM listings_delistchunk AS chunk WHERE chunk.id = %(chunk)s
            ),
            doomed AS (
                SELECT listing.id, listing.status
                FROM picked JOIN listings_listing AS listing ON listing.id = picked.id
                WHERE listing.status = ANY(%(live)s) AND listing.id <> ALL(%(locked)s::bigint[])
                ORDER BY listing.id
                FOR UPDATE OF listing
            ),
            removed AS (
                UPDATE listings_listing AS listing
                SET status = %(removed)s, status_changed_at = now()
                FROM doomed
                WHERE listing.id = doomed.id
                RETURNING listing.id, doomed.status AS old_status
            ),
            audited AS (
                INSERT INTO audit_auditevent
                    (occurred_at, actor_id, automated, action, target_type_id, target_id, brand_id,
                     from_state, to_state, reason, data)
                SELECT now(), %(actor)s, %(automated)s, 'listing.remove', %(listing_type)s, removed.id, NULL,
                       removed.old_status, %(removed)s, %(reason)s, %(data)s::jsonb
                FROM removed
            ),
            unremoved AS (
                INSERT INTO listings_delisttarget (job_id, listing_id, reference, outcome, detail)
                SELECT %(job)s, listing.id,
                       CASE WHEN listing.id IS NULL THEN picked.id::text ELSE '' END,
                       CASE WHEN listing.id IS NULL THEN %(not_found)s
                            WHEN listing.status = ANY(%(live)s) AND picked.id = ANY(%(locked)s::bigint[])
                            THEN %(locked_outcome)s
                            ELSE %(already_removed)s END,
                       CASE WHEN listing.id IS NULL THEN 'The listing no longer exists.' ELSE '' END
                FROM picked LEFT JOIN listings_listing AS listing ON listing.id = picked.id
                WHERE NOT EXISTS (SELECT FROM removed WHERE removed.id = picked.id)
                RETURNING outcome
            )
            UPDATE listings_delistchunk AS chunk
            SET removed_ids = coalesce((SELECT array_agg(removed.id ORDER BY removed.id) FROM removed), '{}'),
                removed = (SELECT count(*) FROM removed),
                skipped = (SELECT count(*) FROM unremoved WHERE unremoved.outcome = %(already_removed)s),
                failed = (SELECT count(*) FROM unremoved WHERE unremoved.outcome <> %(already_removed)s),
                state = %(done)s,
                lease_until = NULL,
                finished_at = now()
            WHERE chunk.id = %(chunk)s
            RETURNING chunk.removed, chunk.skipped, chunk.failed
            """,
            {
                "job": job.pk,
                "chunk": chunk.pk,
                "live": list(LISTING_LIVE_STATUSES),
                "locked": list(locked),
                "removed": ListingStatus.REMOVED,
                "actor": job.actor_id,
                "automated": job.automated,
                "listing_type": ContentType.objects.get_for_model(Listing).pk,
                "reason": job.reason,
                "data": json.dumps({"delist_job": job.pk}),
                "not_found": DelistOutcome.NOT_FOUND,
                "locked_outcome": DelistOutcome.LOCKED,
                "already_removed": DelistOutcome.ALREADY_REMOVED,
                "done": DelistChunkState.DONE,
            },
        )
        return cursor.fetchone()


def _chunk_work(chunk_id: int, attempt: int) -> ChunkRun:
    """The chunk's effect, in the caller's transaction: listings, audit events, outcomes, counters."""
    chunk = _locked_chunk(chunk_id)
    if chunk is None or chunk.state != DelistChunkState.RUNNING or chunk.attempts != attempt:
        return ChunkRun.BUSY  # our lease lapsed and another worker took the chunk over
    if refused := _job_gate(chunk):  # cancelled or paused since the claim
        return refused
    _run_chunk(chunk, _locked_listings(chunk))
    return ChunkRun.DONE


def _chunk_record_error(chunk_id: int, attempt: int, error: str) -> ChunkRun:
    """After a failed attempt: fail the chunk on its last attempt, else make it pending for a retry."""
    with transaction.atomic():
        chunk = _locked_chunk(chunk_id)
        if chunk is None or chunk.state != DelistChunkState.RUNNING or chunk.attempts != attempt:
            return ChunkRun.BUSY
        if chunk.attempts >= _setting("DELIST_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS):
            _chunk_fail(chunk, error)
            return ChunkRun.FAILED
        chunk.state = DelistChunkState.PENDING
        chunk.last_error = error
        chunk.lease_until = None
        chunk.enqueued_at = timezone.now()  # the task re-sends it; the reaper need not
        chunk.save(update_fields=["state", "last_error", "lease_until", "enqueued_at"])
        return ChunkRun.RETRY


def delist_chunk_process(*, chunk_id: int) -> ChunkRun:
    """Run one chunk: claim it, remove its still-live listings, then close the job if it was the last one.

    Safe to call any number of times, concurrently too: a held chunk is skipped, a closed one left alone,
    and the work itself only touches listings that are still live. An error is recorded on the chunk
    (RETRY, or FAILED once DELIST_MAX_ATTEMPTS are used up); the caller decides when to retry.
    """
    chunk, outcome = _chunk_claim(chunk_id)
    if chunk is None:
        return ChunkRun.BUSY
    if outcome is None:
        try:
            with transaction.atomic():
                outcome = _chunk_work(chunk_id, chunk.attempts)
        except Exception as exc:  # any error costs an attempt; the attempt cap stops a poison chunk
            outcome = _chunk_record_error(chunk_id, chunk.attempts, f"{type(exc).__name__}: {exc}")
    if outcome in (ChunkRun.DONE, ChunkRun.FAILED, ChunkRun.CANCELLED):
        # Its own transaction, after the chunk's: never wait for the job row while holding a chunk lock.
        delist_job_close_if_done(job_id=chunk.job_id)
    return outcome


# --- finishing, cancelling, pausing, resuming ---------------------------------------------------------


def _close_if_done(job: DelistJob) -> bool:
    """Close a started job (whose row the caller has locked) once none of its chunks is open."""
    if job.status not in (DelistJobStatus.RUNNING, DelistJobStatus.PAUSED):
        return False  # never started, or already closed (by the last chunk, a cancel, the reaper)
    tally = job.chunks.aggregate(
        open=Count("pk", filter=Q(state__in=OPEN_CHUNK_STATES)),
        failed_chunks=Count("pk", filter=Q(state=DelistChunkState.FAILED)),
        failed_targets=Coalesce(Sum("failed"), 0),
    )
    if tally["open"]:
        return False
    old = job.status
    failed = tally["failed_chunks"] or tally["failed_targets"] or job.unresolved
    job.status = DelistJobStatus.COMPLETED_WITH_ERRORS if failed else DelistJobStatus.COMPLETED
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])
    audit_record(action="delist_job.complete", target=job, automated=True, from_state=old, to_state=job.status)
    return True


def delist_job_close_if_done(*, job_id: int) -> bool:
    """The completion check: close the job if no chunk is open. True only for the call that closed it."""
    with transaction.atomic():
        job = DelistJob.objects.select_for_update().get(pk=job_id)
        return _close_if_done(job)


def _job_transition(
    *, job_id: int, actor: Any, allowed_from: Collection[str], to: str, action: str, verb: str
) -> DelistJob:
    job = DelistJob.objects.select_for_update().get(pk=job_id)
    if job.status not in allowed_from:
        raise DelistJobStateError(f"A {job.get_status_display().lower()} job cannot be {verb}.")
    old = job.status
    job.status = to
    update_fields = ["status"]
    if to in DELIST_JOB_FINISHED:
        job.finished_at = timezone.now()
        update_fields.append("finished_at")
    job.save(update_fields=update_fields)
    audit_record(action=action, target=job, actor=actor, from_state=old, to_state=to)
    return job


@transaction.atomic
def delist_job_cancel(*, job_id: int, actor: Any) -> DelistJob:
    """Cancel a job: its pending chunks are closed unprocessed, nothing new starts.

    A chunk a worker is processing right now finishes (its transaction is already under way) and the job
    stays cancelled; a chunk whose worker died is closed as cancelled when the reaper re-sends it. A job
    being planned is cancelled once its planning commits (the planner holds the job's row lock).
    """
    job = _job_transition(
        job_id=job_id,
        actor=actor,
        allowed_from=(DelistJobStatus.PLANNING, DelistJobStatus.RUNNING, DelistJobStatus.PAUSED),
        to=DelistJobStatus.CANCELLED,
        action="delist_job.cancel",
        verb="cancelled",
    )
    # Waiting for a chunk a worker is claiming is safe: worker transactions never wait for the job row.
    pending = DelistChunk.objects.select_for_update().filter(job=job, state=DelistChunkState.PENDING)
    DelistChunk.objects.filter(pk__in=list(pending.values_list("pk", flat=True))).update(
        state=DelistChunkState.CANCELLED, lease_until=None, finished_at=timezone.now()
    )
    return job


@transaction.atomic
def delist_job_pause(*, job_id: int, actor: Any) -> DelistJob:
    """Pause a running job: chunks not yet claimed stay pending until a resume; claimed ones finish."""
    return _job_transition(
        job_id=job_id,
        actor=actor,
        allowed_from=(DelistJobStatus.RUNNING,),
        to=DelistJobStatus.PAUSED,
        action="delist_job.pause",
        verb="paused",
    )


@transaction.atomic
def delist_job_resume(*, job_id: int, actor: Any) -> DelistJob:
    """Resume a paused job: its pending chunks are enqueued again once this commits."""
    job = _job_transition(
        job_id=job_id,
        actor=actor,
        allowed_from=(DelistJobStatus.PAUSED,),
        to=DelistJobStatus.RUNNING,
        action="delist_job.resume",
        verb="resumed",
    )
    pending = DelistChunk.objects.select_for_update().filter(job=job, state=DelistChunkState.PENDING)
    chunk_ids = list(pending.values_list("pk", flat=True))
    DelistChunk.objects.filter(pk__in=chunk_ids).update(enqueued_at=timezone.now())
    _enqueue_chunks(chunk_ids)
    _close_if_done(job)  # every chunk may have finished while it was paused
    return job


# --- the reaper -------------------------------------------------------------------------------------


def _reap_chunks(now: datetime, stale: datetime) -> int:
    """Re-send chunks whose worker died (lease lapsed) or whose message was lost.

    A pending chunk counts as lost only when its job has finished no chunk for DELIST_REQUEUE_AFTER_SECONDS:
    a long job's chunks wait in the queue for a while, and re-sending those would only duplicate them.
    A chunk is re-sent at most once per that period, paused jobs are left alone, and chunks of cancelled
    jobs are re-sent so that their claim closes them.
    """
    recent_progress = DelistChunk.objects.filter(job=OuterRef("job"), finished_at__gte=stale)
    lapsed = Q(state=DelistChunkState.RUNNING, lease_until__lt=now)
    lost = Q(state=DelistChunkState.PENDING) & ~Exists(recent_progress)
    not_sent_lately = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale)
    with transaction.atomic():
        chunk_ids = list(
            DelistChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                (lapsed | lost) & not_sent_lately,
                job__status__in=(DelistJobStatus.RUNNING, DelistJobStatus.CANCELLED),
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        DelistChunk.objects.filter(pk__in=chunk_ids).update(enqueued_at=now)
        _enqueue_chunks(chunk_ids)
    return len(chunk_ids)


def _reap_planning(stale: datetime) -> int:
    """Re-send the planning of jobs still planning long after creation (a planner is skipped if at work)."""
    with transaction.atomic():
        job_ids = list(
            DelistJob.objects.filter(status=DelistJobStatus.PLANNING, created_at__lt=stale).values_list("pk", flat=True)
        )
        for job_id in job_ids:
            _enqueue_plan(job_id)
    return len(job_ids)


def _reap_unclosed_jobs() -> int:
    """Close started jobs with no open chunk: their last worker died between its chunk and the check."""
    open_chunks = DelistChunk.objects.filter(job=OuterRef("pk"), state__in=OPEN_CHUNK_STATES)
    job_ids = DelistJob.objects.filter(
        ~Exists(open_chunks), status__in=(DelistJobStatus.RUNNING, DelistJobStatus.PAUSED)
    ).values_list("pk", flat=True)
    return sum(delist_job_close_if_done(job_id=job_id) for job_id in list(job_ids))


def delist_reap() -> dict[str, int] | None:
    """Recover what Redis or a worker lost; None when another reaper is running.

    Meant for beat every minute. The session-level advisory lock keeps two runs (a slow one and the next
    tick, or two beats) from re-sending the same chunks; PostgreSQL drops it if the connection dies.
    """
    with run_exclusively(REAPER_LOCK) as acquired:
        if not acquired:
            return None
        now = timezone.now()
        stale = now - timedelta(seconds=_setting("DELIST_REQUEUE_AFTER_SECONDS", DEFAULT_REQUEUE_AFTER_SECONDS))
        return {
            "chunks": _reap_chunks(now, stale),
            "plans": _reap_planning(stale),
            "closed": _reap_unclosed_jobs(),
        }


# --- progress ---------------------------------------------------------------------------------------


def delist_job_progress(job: DelistJob) -> dict[str, Any]:
    """The job's progress from one aggregate query over its chunks (a few rows, where targets are millions).

    `rate` is targets processed per second since the job started; `seconds_left` is None while no rate is
    known yet, and 0 once the job is finished.
    """
    tally = job.chunks.aggregate(
        chunks=Count("pk"),
        chunks_done=Count("pk", filter=~Q(state__in=OPEN_CHUNK_STATES)),
        removed=Coalesce(Sum("removed"), 0),
        skipped=Coalesce(Sum("skipped"), 0),
        failed=Coalesce(Sum("failed"), 0),
    )
    # Input that named no listing was settled at planning, outside any chunk.
    tally["failed"] += job.unresolved
    processed = tally["removed"] + tally["skipped"] + tally["failed"]
    elapsed = ((job.finished_at or timezone.now()) - job.started_at).total_seconds() if job.started_at else 0.0
    rate = processed / elapsed if elapsed > 0 else 0.0
    if job.status in DELIST_JOB_FINISHED:
        seconds_left: int | None = 0
    elif rate:
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
