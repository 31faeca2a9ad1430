"""What every part of the delisting engine shares: its tuning settings, a few constants, and the hand-off
to Celery (the tasks live in `listings.tasks`, which imports this package, hence the late imports)."""

from collections.abc import Iterable

from django.conf import settings

from core.queue import send_on_commit
from listings.choices import DelistChunkState, DelistOutcome

#: Defaults of the settings.MARKETSAFE keys that tune the engine.
DEFAULT_CHUNK_SIZE = 5000
DEFAULT_MAX_ATTEMPTS = 5
#: Past the chunk task's hard time limit (600 s): the time by which a live worker has surely finished. Only
#: shown to people: whether a claim's worker lives is told by its claim lock (`chunks.claim_key`).
DEFAULT_LEASE_SECONDS = 660
#: A pending chunk of a job that finished no chunk for this long had its message lost (a Redis restart
#: without the message on disk, a worker dropping reserved messages on connection loss): it is re-sent.
DEFAULT_REQUEUE_AFTER_SECONDS = 30
#: A dead claim is re-sent at once, and again after this long if it is still dead.
DEFAULT_DEAD_RESEND_SECONDS = 10

MAX_BIGINT = 2**63 - 1

OPEN_CHUNK_STATES = (DelistChunkState.PENDING, DelistChunkState.RUNNING)
#: Outcomes that leave a listing up although the job asked to take it down.
FAILED_OUTCOMES = (DelistOutcome.NOT_FOUND, DelistOutcome.LOCKED, DelistOutcome.ERROR)


def setting(name: str, default: int) -> int:
    return int(settings.MARKETSAFE.get(name, default))


# Both go through `core.queue.send_on_commit`: with the broker down the job and its chunks are committed
# all the same, and the reaper re-sends the planning of jobs stuck in planning and chunks whose message
# was lost, so a request that creates a job never fails on the broker.


def enqueue_plan(job_id: int) -> None:
    """Plan the job once the caller's transaction commits."""
    from listings.tasks import plan_delist_job  # here, not at the top: the tasks module imports the engine

    send_on_commit(plan_delist_job, job_id)


def enqueue_chunks(chunk_ids: Iterable[int]) -> None:
    """Run the chunks once the caller's transaction commits (a message only says "this may have work")."""
    from listings.tasks import process_delist_chunk  # here, not at the top: the tasks module imports the engine

    for chunk_id in chunk_ids:
        send_on_commit(process_delist_chunk, chunk_id)
