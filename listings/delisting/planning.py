"""Planning a delisting job: its selection cut into chunks, in one transaction under the job's row lock.

Planning cuts the selected listing ids, in id order, into chunks of DELIST_CHUNK_SIZE in one pass
(keyset: never OFFSET, which would re-read every earlier row). Each chunk row freezes its ids as an
array, so a chunk's listings are one row away wherever it sits in the job, and planning writes one row
per chunk rather than one per listing. Chunks are cut by INSERT ... SELECT (a seller's live listings;
the frozen id list, expanded inside PostgreSQL; a file streamed line by line in batches into a temporary
table): no job is ever loaded whole into Python. Input that names no listing gets a not-found target.

A job of one chunk (a seller of a few hundred listings, a short list) is run by its planning task right
after the plan commits (`run_single_chunk`), instead of through a message of its own: for hundreds of
small suspensions the message round trip was a large part of each job's cost. Nothing is lost if the
planner dies in between: the chunk is committed as pending and stamped as sent, so the reaper re-sends it
like any lost message.
"""

import itertools
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from listings.choices import (
    LISTING_LIVE_STATUSES,
    DelistChunkState,
    DelistJobStatus,
    DelistOutcome,
    DelistSelectionKind,
)
from listings.delisting import common
from listings.delisting.chunks import ChunkRun, delist_chunk_process
from listings.delisting.common import DEFAULT_CHUNK_SIZE
from listings.delisting.jobs import close_if_done, job_move
from listings.delisting.selections import PICKED_IDS, SELLER_LISTINGS, SelectionUnreadable, file_lines, read_line
from listings.models import DelistJob, DelistTarget

#: Lines of an uploaded file resolved per query.
FILE_BATCH = 5000


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
                "size": common.setting("DELIST_CHUNK_SIZE", DEFAULT_CHUNK_SIZE),
                "pending": DelistChunkState.PENDING,
            },
        )
        rows = cursor.fetchall()
    return [chunk_id for chunk_id, _ in rows], sum(size for _, size in rows)


def _plan_seller(job: DelistJob) -> tuple[list[int], int]:
    params = {"seller": job.selection["seller_id"], "live": list(LISTING_LIVE_STATUSES)}
    return *_cut_chunks(job, SELLER_LISTINGS, params), 0


def _plan_ids(job: DelistJob) -> tuple[list[int], int]:
    """Chunks of the frozen ids that name a listing; one not-found target for each id that names none."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO listings_delisttarget (job_id, listing_id, reference, outcome, detail)
            SELECT %(job)s, NULL, picked.id::text, %(not_found)s, 'No listing has this id.'
            FROM ({PICKED_IDS}) AS picked
            WHERE NOT EXISTS (SELECT FROM listings_listing AS listing WHERE listing.id = picked.id)
            ORDER BY picked.id
            """,  # noqa: S608 (only this module's constant SQL and integer ids are interpolated)
            {"job": job.pk, "not_found": DelistOutcome.NOT_FOUND},
        )
        unresolved = cursor.rowcount
    found = f"""
        SELECT picked.id FROM ({PICKED_IDS}) AS picked
        WHERE EXISTS (SELECT FROM listings_listing AS listing WHERE listing.id = picked.id)
    """  # noqa: S608 (only this module's constant SQL and integer ids are interpolated)
    return *_cut_chunks(job, found, {}), unresolved


def _plan_file(job: DelistJob) -> tuple[list[int], int]:
    """Resolve the file in batches into a temporary table of listing ids (deduplicated by its key), then
    cut chunks from it. Each line that names no listing gets a not-found target of its own."""
    reference_length = DelistTarget._meta.get_field("reference").max_length
    staging = f"delist_plan_{job.pk}"
    unresolved = 0
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} (id bigint PRIMARY KEY) ON COMMIT DROP")
        for batch in itertools.batched(file_lines(job), FILE_BATCH):
            ids, urls, details = zip(*map(read_line, batch), strict=True)
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
#: Kinds registered by higher apps froze their listing ids at creation, like a list of ids.
_PLANNERS: dict[str, Callable[[DelistJob], tuple[list[int], int, int]]] = {
    DelistSelectionKind.SELLER: _plan_seller,
    DelistSelectionKind.LISTING_IDS: _plan_ids,
    DelistSelectionKind.FILE: _plan_file,
}


def delist_job_plan(*, job_id: int, run_single_chunk: bool = False) -> bool:
    """Cut the job's selection into chunks, start it and enqueue its chunks; False if nothing to do.

    With `run_single_chunk` (the planning task's way), a job of one chunk has it run here, after the
    plan commits, rather than enqueued.

    Idempotent: the whole plan is one transaction under the job's row lock, guarded by the planning
    status. A crash rolls everything back for the next attempt; a second copy of the task finds the job
    locked (another planner is at work) or planned, and returns. An uploaded file that cannot be read
    fails the job, since no retry would bring it back.
    """
    run_now = None
    with transaction.atomic():
        job = DelistJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.status != DelistJobStatus.PLANNING:
            return False
        try:
            with transaction.atomic():
                chunk_ids, listings, unresolved = _PLANNERS.get(job.selection_kind, _plan_ids)(job)
        except SelectionUnreadable as exc:
            reason = f"The selection file could not be read: {exc}"
            job_move(job, "fail", DelistJobStatus.FAILED, automated=True, reason=reason)
            return False
        job.total = listings + unresolved
        job.unresolved = unresolved
        job.status = DelistJobStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["total", "unresolved", "status", "started_at"])
        if run_single_chunk and len(chunk_ids) == 1:
            (run_now,) = chunk_ids
        else:
            common.enqueue_chunks(chunk_ids)
        close_if_done(job)  # a selection that found nothing is finished at once
    if run_now is not None:
        _run_single_chunk(run_now)
    return True


def _run_single_chunk(chunk_id: int) -> None:
    """Run a one-chunk job's chunk in the planner; on a failed attempt hand it to the chunk task, whose
    retries (and the attempt cap in the database) take over from there."""
    if delist_chunk_process(chunk_id=chunk_id) is ChunkRun.RETRY:
        common.enqueue_chunks([chunk_id])
