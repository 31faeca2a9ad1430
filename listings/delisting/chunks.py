"""Running one chunk of a delisting job: claiming it, its work in one statement, and its failures.

- A chunk is claimed with SELECT ... FOR UPDATE SKIP LOCKED: a second copy of its message skips a chunk
  another worker holds instead of queueing behind its lock. The claim (attempt count, lease) is committed
  before the work, so a worker that dies mid-chunk still used up an attempt: a chunk that kills its worker
  every time is failed after DELIST_MAX_ATTEMPTS instead of being redelivered forever.
- A claim dies with its worker: the claimant holds a session-level advisory lock on the chunk (the claim
  lock, `claim_key`) from its claim to the end of its work. PostgreSQL drops it when the claimant's session
  ends (a killed worker process, a lost connection, a vanished host), so a running chunk whose claim lock
  is free has no live worker: a redelivered message, or the reaper a few seconds later, takes it over at
  once instead of waiting for the lease. The lease stays as the deadline shown to people, not as the test
  of liveness. A worker that is alive keeps its lock, so a duplicate message still finds the chunk busy.
- The work is one set-based statement in one transaction (`_run_chunk`): it locks and removes the chunk's
  listings that are still live, inserts their audit events, writes a target row for each listing it did
  not remove and closes the chunk with the removed ids and its counters. A chunk takes effect whole or not
  at all, and running it again changes nothing (only live listings are touched). This is the engine's fast
  path: listings and chunks are moved in bulk here, not one by one through a state machine.
- Listings a higher app must keep up are held back by its lock checks (`listings.delisting.register_lock_check`),
  which see one chunk's ids at a time.
- Locks are taken job row first, chunk rows second. Worker transactions that hold a chunk lock read the
  job without locking it, and the completion check runs in a transaction of its own afterwards.
"""

import json
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from enum import StrEnum

from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

import listings.delisting as engine
from listings.choices import LISTING_LIVE_STATUSES, DelistChunkState, DelistJobStatus, DelistOutcome, ListingStatus
from listings.delisting import common, jobs
from listings.delisting.common import DEFAULT_LEASE_SECONDS, DEFAULT_MAX_ATTEMPTS, OPEN_CHUNK_STATES
from listings.models import DelistChunk, DelistTarget, Listing

LockCheck = Callable[[Sequence[int]], Collection[int]]


def registered_lock_checks() -> list[LockCheck]:
    """The lock checks registered now. They live on the package (`listings.delisting._lock_checks`), where
    higher apps register them and tests replace them, so they are looked up there at each chunk."""
    return engine._lock_checks


class ChunkRun(StrEnum):
    """What one call of `delist_chunk_process` did."""

    DONE = "done"  # the chunk's listings were processed
    BUSY = "busy"  # another worker holds the chunk (or it no longer exists)
    CLOSED = "closed"  # done, failed or cancelled before: nothing to do
    PAUSED = "paused"  # the job is paused; the chunk waits for a resume
    CANCELLED = "cancelled"  # the job was cancelled; the chunk is closed unprocessed
    FAILED = "failed"  # the chunk used its last attempt
    RETRY = "retry"  # the attempt failed; the chunk is pending again


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


def claim_key(chunk_id: int) -> int:
    """The chunk's claim lock (a session-level advisory lock). Negative, so it never meets a `core.locks`
    key, which is a crc32 and never negative."""
    return -chunk_id


def claim_lock_take(chunk_id: int) -> bool:
    """Take the chunk's claim lock for this session; False when a live session holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [claim_key(chunk_id)])
        return bool(cursor.fetchone()[0])


def claim_lock_release(chunk_id: int) -> None:
    """Release the chunk's claim lock. A session that is gone has lost it already, hence no error."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [claim_key(chunk_id)])
    except DatabaseError:
        pass  # the connection broke: PostgreSQL released the lock with the session


def dead_claims(chunk_ids: Sequence[int]) -> list[int]:
    """Those of the running chunks `chunk_ids` whose claim lock nobody holds: their worker is gone.

    Each lock is taken and given back at once; a claimant holds its lock from before its claim commits to
    after its chunk closes, so a free lock on a chunk still running means the claimant's session ended.
    """
    if not chunk_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM unnest(%s::bigint[]) AS id WHERE pg_try_advisory_lock(-id) ORDER BY id", [list(chunk_ids)]
        )
        free = [chunk_id for (chunk_id,) in cursor.fetchall()]
        cursor.execute("SELECT pg_advisory_unlock(-id) FROM unnest(%s::bigint[]) AS id", [free])
    return free


def job_dead_claims(job_id: int) -> list[int]:
    """The job's running chunks whose worker is gone (their claim lock is free): the reaper's to take over."""
    running = DelistChunk.objects.filter(job_id=job_id, state=DelistChunkState.RUNNING).values_list("pk", flat=True)
    return dead_claims(list(running))


def _chunk_claim(chunk_id: int) -> tuple[DelistChunk | None, ChunkRun | None]:
    """Claim the chunk for one attempt, committed before the work: (chunk, None), or (chunk?, why not).

    On (chunk, None) this session holds the chunk's claim lock; the caller releases it after the work.
    Otherwise the lock is released here, after the transaction (an unlock in a failed one would fail).
    """
    held = [False]
    try:
        chunk, outcome = _chunk_claim_locked(chunk_id, held)
    except BaseException:
        if held[0]:
            claim_lock_release(chunk_id)
        raise
    if outcome is not None and held[0]:
        claim_lock_release(chunk_id)
    return chunk, outcome


def _chunk_claim_locked(chunk_id: int, held: list[bool]) -> tuple[DelistChunk | None, ChunkRun | None]:
    with transaction.atomic():
        chunk = _locked_chunk(chunk_id, skip_locked=True)
        if chunk is None:
            return None, ChunkRun.BUSY
        if chunk.state not in OPEN_CHUNK_STATES:
            return chunk, ChunkRun.CLOSED
        # Taken before the claim commits: from then on the chunk is never running without a held lock
        # while its worker lives. A running chunk whose lock we get was claimed by a worker now dead.
        if not claim_lock_take(chunk.pk):
            return chunk, ChunkRun.BUSY
        held[0] = True
        if refused := _job_gate(chunk):
            return chunk, refused
        if chunk.attempts >= common.setting("DELIST_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS):
            # Each earlier attempt claimed the chunk and never reported back: its worker was lost.
            _chunk_fail(chunk, chunk.last_error or f"Gave up after {chunk.attempts} attempts (worker lost).")
            return chunk, ChunkRun.FAILED
        chunk.attempts += 1
        chunk.state = DelistChunkState.RUNNING
        lease = common.setting("DELIST_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
        chunk.lease_until = timezone.now() + timedelta(seconds=lease)
        chunk.save(update_fields=["attempts", "state", "lease_until"])
        return chunk, None


def _locked_listings(chunk: DelistChunk) -> list[int]:
    """The chunk's listings that a registered lock check holds back (no query without checks)."""
    checks = registered_lock_checks()
    if not checks:
        return []
    listing_ids = DelistChunk.objects.filter(pk=chunk.pk).values_list("listing_ids", flat=True).get()
    held: set[int] = set()
    for check in checks:
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
      goes well, that is no row at all, and the listings are not read a second time to find out.
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
                -- The first condition is a one-time filter: when every picked listing was removed (the
                -- usual case), PostgreSQL skips this second pass over the chunk's listings altogether.
                WHERE (SELECT count(*) FROM removed) < (SELECT count(*) FROM picked)
                  AND NOT EXISTS (SELECT FROM removed WHERE removed.id = picked.id)
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
        if chunk.attempts >= common.setting("DELIST_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS):
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
            # With the database gone this raises too (OperationalError): the task then retries with back-off
            # and takes over its own dead claim once the database answers.
            outcome = _chunk_record_error(chunk_id, chunk.attempts, f"{type(exc).__name__}: {exc}")
        finally:
            claim_lock_release(chunk_id)
    if outcome in (ChunkRun.DONE, ChunkRun.FAILED, ChunkRun.CANCELLED):
        # Its own transaction, after the chunk's: never wait for the job row while holding a chunk lock.
        jobs.delist_job_close_if_done(job_id=chunk.job_id)
    return outcome
