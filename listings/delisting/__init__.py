"""The delisting engine: batch removal of listings, planned into chunks and run by Celery chunk tasks.

How it stays correct when Celery and Redis misbehave:

- PostgreSQL is the source of truth. A job and its chunks are rows, and every decision (may this chunk
  run, is the job finished) is taken from those rows under row locks. A Redis message only says "this
  chunk may have work": a lost message is re-sent by the reaper, a duplicated one finds its chunk claimed
  or closed and does nothing.
- Completion is read from the chunk rows under the job's row lock, never from a chord or a counter in
  Redis: whichever chunk finishes last finds no open chunk and closes the job, and the status guard
  makes that happen once.
- Locks are taken job row first, chunk rows second. Worker transactions that hold a chunk lock read the
  job without locking it, and the completion check runs in a transaction of its own, so the services
  (cancel, pause, resume) can wait for chunk locks without a deadlock being possible.
- Memory stays flat: no job is ever loaded whole into Python; a chunk's ids stay in the database (only
  registered lock checks see them, one chunk at a time).

The parts, each owning one step:

- `selections`: what a job selects (the engine's kinds and those higher apps register), the SQL that
  lists a selection's ids, and the reading of an uploaded file;
- `planning`: a job's selection cut into chunks (`delist_job_plan`);
- `chunks`: one chunk claimed and run (`delist_chunk_process`);
- `jobs`: a job created (`delist_job_create`), its status moves through `JOB_MOVES` (pause, resume,
  cancel, complete, fail), its completion check and its progress;
- `reaper`: what Redis or a worker lost, recovered (`delist_reap`);
- `common`: settings, constants and the hand-off to Celery.

This module is the engine's front: the names other apps, `listings.tasks` and the admin use are imported
from here, and it keeps the registry of lock checks. The tasks in `listings.tasks` only call these.
"""

from collections.abc import Callable, Collection, Sequence

from listings.choices import register_delist_selection
from listings.delisting.chunks import ChunkRun, LockCheck, delist_chunk_process, job_dead_claims
from listings.delisting.common import DEFAULT_CHUNK_SIZE, FAILED_OUTCOMES, MAX_BIGINT
from listings.delisting.jobs import (
    JOB_MOVES,
    DelistJobStateError,
    delist_job_cancel,
    delist_job_close_if_done,
    delist_job_create,
    delist_job_pause,
    delist_job_progress,
    delist_job_resume,
)
from listings.delisting.planning import delist_job_plan
from listings.delisting.reaper import REAPER_LOCK, delist_reap
from listings.delisting.selections import SelectionUnreadable

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "FAILED_OUTCOMES",
    "JOB_MOVES",
    "MAX_BIGINT",
    "REAPER_LOCK",
    "ChunkRun",
    "DelistJobStateError",
    "LockCheck",
    "SelectionUnreadable",
    "delist_chunk_process",
    "delist_job_cancel",
    "delist_job_close_if_done",
    "delist_job_create",
    "delist_job_pause",
    "delist_job_plan",
    "delist_job_progress",
    "delist_job_resume",
    "delist_reap",
    "job_dead_claims",
    "register_delist_selection",
    "register_lock_check",
]

#: The registered lock checks. Read at each chunk by `chunks.registered_lock_checks`; tests replace the
#: list here (`monkeypatch.setattr(delisting, "_lock_checks", [])`) so that each starts without any.
_lock_checks: list[LockCheck] = []


def register_lock_check(check: Callable[[Sequence[int]], Collection[int]]) -> LockCheck:
    """Register `check(listing_ids) -> ids that must not be removed now`; their targets end up `locked`.

    This app knows nothing of cases, yet a listing held by a pending counter-notice must stay up: cases
    registers its check from its AppConfig.ready(). Checks run inside the chunk's transaction with one
    chunk's live listing ids. Returns `check`, so it can be used as a decorator.
    """
    if check not in _lock_checks:
        _lock_checks.append(check)
    return check
