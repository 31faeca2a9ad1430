"""Delisting jobs through a real Celery worker, against the real Redis and PostgreSQL.

The worker runs in a thread of this process (Celery's own test worker, solo pool) on the project's app,
so messages really go through Redis and every task commits for real: hence `transaction=True`, under
which `transaction.on_commit` fires as in production. The registered lock checks (cases' dispute check)
stay on, as in production: they run in the worker's chunk transactions. Every wait polls the database
with a deadline, so a lost message fails the test instead of hanging it.
"""

import threading
from collections.abc import Callable, Iterator

import pytest
from django.db.models import Count

from core.audit.models import AuditEvent
from listings import delisting
from listings.choices import DELIST_JOB_FINISHED, DelistChunkState, DelistJobStatus, DelistSelectionKind
from listings.models import DelistJob, Listing
from listings.tasks import plan_delist_job, process_delist_chunk
from marketsafe.celery import app
from tests import factories
from tests.workers import WAIT, running_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LISTINGS = 3000
CHUNK_SIZE = 500


@pytest.fixture
def worker(settings, lock_checks) -> Iterator[None]:
    """A worker consuming the queues the delisting tasks are routed to, started clean and always stopped,
    with the lock checks registered at start-up."""
    assert lock_checks, "cases registers its dispute check with the delisting engine"
    settings.MARKETSAFE = {**settings.MARKETSAFE, "DELIST_CHUNK_SIZE": CHUNK_SIZE}
    queues = sorted(
        {app.amqp.router.route({}, task.name)["queue"].name for task in (plan_delist_job, process_delist_chunk)}
    )
    with running_worker(queues=queues, shutdown_timeout=WAIT):
        yield


@pytest.fixture
def seller_job(moderator) -> Callable[[], DelistJob]:
    """seller_job() → a job delisting a new seller's LISTINGS active listings, submitted as a request would."""

    def submit() -> DelistJob:
        seller = factories.SellerFactory()
        Listing.objects.bulk_create(
            Listing(
                marketplace=seller.marketplace, seller=seller, url=f"https://{seller.marketplace.hosts[0]}/item/W{n}"
            )
            for n in range(LISTINGS)
        )
        return delisting.delist_job_create(
            selection_kind=DelistSelectionKind.SELLER,
            selection={"seller_id": seller.pk},
            actor=moderator,
            reason="Seller suspended.",
            idempotency_key=f"suspension-{seller.pk}",
            automated=True,
        )

    return submit


def removal_counts() -> dict[int, int]:
    """listing id → how many listing.remove audit events it has."""
    rows = AuditEvent.objects.filter(action="listing.remove").values_list("target_id").annotate(n=Count("pk"))
    return dict(rows)


def test_a_job_runs_to_completion_removing_each_listing_exactly_once(worker, seller_job):
    job = seller_job()

    wait_until(lambda: DelistJob.objects.get(pk=job.pk).status in DELIST_JOB_FINISHED, "the job to finish")

    job.refresh_from_db()
    assert (job.status, job.total) == (DelistJobStatus.COMPLETED, LISTINGS)
    assert list(job.chunks.order_by().values_list("state", "removed", "attempts").distinct()) == [
        ("done", CHUNK_SIZE, 1)
    ]
    ids = {pk for removed in job.chunks.values_list("removed_ids", flat=True) for pk in removed}
    assert len(ids) == LISTINGS
    assert set(Listing.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"removed"}
    assert removal_counts() == dict.fromkeys(ids, 1)
    events = AuditEvent.objects.filter(action="listing.remove")
    assert list(events.order_by().values_list("data", "automated", "actor").distinct()) == [
        ({"delist_job": job.pk}, True, job.actor_id)
    ]
    assert not job.targets.exists()  # no listing left up
    assert AuditEvent.objects.filter(action="delist_job.complete", target_id=job.pk).count() == 1


def test_a_cancelled_job_stops_and_leaves_a_consistent_state(worker, seller_job, moderator):
    in_second_chunk, cancelled = threading.Event(), threading.Event()
    calls = iter(range(1, 1_000_000))

    def hold_the_second_chunk(listing_ids: list[int]) -> set[int]:
        # Runs in the worker's chunk transaction: keeps the second chunk busy until the test has cancelled.
        if next(calls) == 2:
            in_second_chunk.set()
            cancelled.wait(WAIT)
        return set()

    delisting.register_lock_check(hold_the_second_chunk)
    try:
        job = seller_job()
        assert in_second_chunk.wait(WAIT), "the worker never reached the second chunk"
        delisting.delist_job_cancel(job_id=job.pk, actor=moderator)
    finally:
        cancelled.set()

    wait_until(lambda: not job.chunks.filter(state__in=("pending", "running")).exists(), "the running chunk to finish")

    job.refresh_from_db()
    assert job.status == DelistJobStatus.CANCELLED
    states = dict(job.chunks.values_list("state").annotate(n=Count("pk")))
    assert states == {DelistChunkState.DONE: 2, DelistChunkState.CANCELLED: LISTINGS // CHUNK_SIZE - 2}
    done = set()
    for listing_ids, removed_ids in job.chunks.filter(state=DelistChunkState.DONE).values_list(
        "listing_ids", "removed_ids"
    ):
        assert removed_ids == listing_ids
        done |= set(removed_ids)
    assert len(done) == 2 * CHUNK_SIZE
    all_ids = {pk for ids in job.chunks.values_list("listing_ids", flat=True) for pk in ids}
    assert len(all_ids) == LISTINGS
    assert set(Listing.objects.filter(pk__in=all_ids, status="removed").values_list("pk", flat=True)) == done
    assert removal_counts() == dict.fromkeys(done, 1)  # none for the listings left untouched
    assert not job.targets.exists()  # the cancelled chunks recorded nothing
