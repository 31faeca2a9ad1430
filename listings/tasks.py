"""Celery tasks of the marketplace side: thin wrappers that take ids and call `listings.delisting`.

Every task is safe to run twice or concurrently, because the service decides from PostgreSQL rows, never
from the message; that is what makes late acknowledgement and re-queue on worker loss harmless.
"""

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from listings import delisting

#: Retry delays stay under a minute: a long countdown sits in Redis as an unacked ETA message, which the
#: broker redelivers after its visibility timeout (research F1); the reaper covers anything longer.
MAX_RETRY_COUNTDOWN = 60


#: A database outage must not turn queued messages into failed ones: work tasks retry with jittered
#: exponential back-off (1, 2, 4 ... capped at 30 s) for as long as the database does not answer.
DATABASE_DOWN = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": None,
}


@shared_task(acks_late=True, reject_on_worker_lost=True, **DATABASE_DOWN)
def plan_delist_job(job_id: int) -> bool:
    """Materialise a job's targets and chunks and enqueue the chunks (a job of one chunk runs it here)."""
    return delisting.delist_job_plan(job_id=job_id, run_single_chunk=True)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, **DATABASE_DOWN)
def process_delist_chunk(self: Task, chunk_id: int) -> str:
    """Process one chunk of a delisting job.

    Celery retries without limit because the limit lives in the database (DELIST_MAX_ATTEMPTS), where it
    also counts attempts whose worker died and so never reached a retry. While the database is down the
    claim itself fails, so those retries cost no attempt.
    """
    outcome = delisting.delist_chunk_process(chunk_id=chunk_id)
    if outcome is delisting.ChunkRun.RETRY:
        raise self.retry(countdown=min(MAX_RETRY_COUNTDOWN, 5 * 2**self.request.retries))
    return outcome


@shared_task
def reap_delist_chunks() -> dict[str, int] | None:
    """Re-send delisting work a worker or Redis lost; meant for beat every few seconds."""
    return delisting.delist_reap()
