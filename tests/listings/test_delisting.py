"""The delisting engine, driven by calling its services and task functions directly.

Enqueuing is checked by capturing the on-commit callbacks (each is `task.delay` with its arguments), so
no message reaches Redis here; tests/listings/test_delisting_worker.py runs the same jobs through a real
worker.
"""

import re
import threading
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.utils import timezone

from core.audit.models import AuditEvent
from core.audit.services import audit_record_state_changes
from core.locks import lock_key
from listings import choices, delisting
from listings.choices import (
    DelistChunkState,
    DelistJobStatus,
    DelistSelectionKind,
    ListingStatus,
)
from listings.delisting import ChunkRun, DelistJobStateError, chunks, jobs, planning
from listings.models import DelistChunk, DelistJob, DelistTarget, Listing
from listings.services import listing_remove
from listings.tasks import plan_delist_job, process_delist_chunk, reap_delist_chunks
from tests import factories
from tests.concurrency import wait_for_a_lock_wait

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_lock_checks")]

PLAN = plan_delist_job.name
CHUNK = process_delist_chunk.name


@pytest.fixture(autouse=True)
def chunks_of_three(settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "DELIST_CHUNK_SIZE": 3, "DELIST_MAX_ATTEMPTS": 3}


@pytest.fixture
def seller(marketplace):
    return factories.SellerFactory(marketplace=marketplace)


@pytest.fixture
def make_listings(marketplace, seller):
    def make(n: int, **kwargs) -> list[Listing]:
        return factories.ListingFactory.create_batch(n, marketplace=marketplace, seller=seller, **kwargs)

    return make


@pytest.fixture
def create_job(moderator):
    """create_job(listings=..., **overrides) → a job created through the service (not yet planned)."""
    keys = iter(range(1, 1_000_000))

    def create(listings=(), **overrides) -> DelistJob:
        kwargs = {
            "selection_kind": DelistSelectionKind.LISTING_IDS,
            "selection": {},
            "listing_ids": [listing.pk for listing in listings],
            "actor": moderator,
            "reason": "Counterfeit sweep.",
            "idempotency_key": f"job-{next(keys)}",
        } | overrides
        return delisting.delist_job_create(**kwargs)

    return create


def enqueued(callbacks) -> list[tuple[str, tuple]]:
    """(task name, args) of each message the captured on-commit callbacks would send
    (`core.queue.send_on_commit` registers `send(task, *args)`)."""
    return [(callback.args[0].name, callback.args[1:]) for callback in callbacks]


def chunk_ids(job: DelistJob) -> list[int]:
    return list(job.chunks.order_by("seq").values_list("pk", flat=True))


def run(job: DelistJob) -> DelistJob:
    """Plan the job and process each of its chunks once, in order."""
    delisting.delist_job_plan(job_id=job.pk)
    for chunk_id in chunk_ids(job):
        delisting.delist_chunk_process(chunk_id=chunk_id)
    job.refresh_from_db()
    return job


def outcomes(job: DelistJob) -> dict[str, str]:
    """What the job did with each selected listing, keyed by listing id (or, for input that named none, its
    reference): "removed" for the ids its chunks removed, the others from their target rows."""
    removed = {str(pk): "removed" for ids in job.chunks.values_list("removed_ids", flat=True) for pk in ids}
    others = {
        str(listing_id or reference): outcome
        for listing_id, reference, outcome in job.targets.values_list("listing_id", "reference", "outcome")
    }
    assert not removed.keys() & others.keys(), "a removed listing also has a target row"
    return removed | others


def selected(job: DelistJob) -> list[int]:
    """The listing ids the job's chunks hold, in chunk order."""
    return [pk for ids in job.chunks.order_by("seq").values_list("listing_ids", flat=True) for pk in ids]


def statuses(listings) -> list[str]:
    return list(Listing.objects.filter(pk__in=[x.pk for x in listings]).order_by("pk").values_list("status", flat=True))


def removals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="listing.remove").order_by("target_id"))


# --- selections --------------------------------------------------------------------------------------


def test_listing_ids_are_frozen_once_each_and_unknown_ids_reported(create_job, make_listings, moderator):
    a, b = make_listings(2)
    missing = b.pk + 1000

    job = run(create_job(listing_ids=[b.pk, a.pk, b.pk, missing]))

    assert job.selection == {"listing_ids": sorted([a.pk, b.pk, missing])}
    assert (job.actor, job.reason, job.automated) == (moderator, "Counterfeit sweep.", False)
    assert outcomes(job) == {str(a.pk): "removed", str(b.pk): "removed", str(missing): "not_found"}
    assert job.targets.get(listing=None).detail == "No listing has this id."
    assert job.total == 3
    assert job.status == DelistJobStatus.COMPLETED_WITH_ERRORS


@pytest.fixture
def picked_selection(monkeypatch):
    """A kind of selection a higher app registers (as cases registers "case_items"): listings by title."""
    monkeypatch.setattr(choices, "_registered_selections", {})
    return choices.register_delist_selection(
        "picked_titles",
        "Listings picked by title",
        lambda selection: Listing.objects.filter(title__in=selection["titles"]).values_list("pk", flat=True),
    )


def test_a_registered_selection_keeps_its_record_and_delists_the_listings_its_app_resolves(
    picked_selection, create_job, make_listings
):
    listings = make_listings(3)
    record = {"titles": [listings[0].title, listings[2].title]}

    job = run(create_job(selection_kind="picked_titles", selection=record, listing_ids=None))

    picked = sorted([listings[0].pk, listings[2].pk])
    assert (job.selection_kind, job.get_selection_kind_display()) == ("picked_titles", "Listings picked by title")
    assert job.selection == record | {"listing_ids": picked}
    assert selected(job) == picked
    assert statuses(listings) == ["removed", "active", "removed"]
    assert job.status == DelistJobStatus.COMPLETED


def test_a_registered_selection_is_resolved_by_its_app_only(picked_selection, create_job, make_listings):
    with pytest.raises(ValueError, match="is resolved by its app: no listing_ids"):
        create_job(selection_kind="picked_titles", selection={"titles": []}, listings=make_listings(1))
    with pytest.raises(ValueError, match="one of the engine's own selection kinds"):
        choices.register_delist_selection(DelistSelectionKind.SELLER, "Sellers", lambda selection: [])
    assert not DelistJob.objects.exists()


def test_a_seller_selection_takes_that_sellers_live_listings(create_job, make_listings, seller):
    active = make_listings(4)
    reinstated = make_listings(1, status=ListingStatus.REINSTATED)
    already = make_listings(1, status=ListingStatus.REMOVED)
    elsewhere = factories.ListingFactory()

    job = run(
        create_job(selection_kind=DelistSelectionKind.SELLER, selection={"seller_id": seller.pk}, listing_ids=None)
    )

    assert selected(job) == sorted(x.pk for x in active + reinstated)
    assert statuses(active + reinstated) == ["removed"] * 5
    assert statuses([*already, elsewhere]) == ["removed", "active"]
    assert job.status == DelistJobStatus.COMPLETED
    assert {e.from_state for e in removals()} == {"active", "reinstated"}


def test_a_file_selection_reads_urls_and_ids_line_by_line(create_job, make_listings, monkeypatch):
    monkeypatch.setattr(planning, "FILE_BATCH", 2)  # several batches, and duplicates across them
    by_url, by_id, twice = make_listings(3)
    lines = [
        "\ufeff" + by_url.url.replace("https://shopnow", "HTTP://ShopNow") + "/",  # normalised before lookup
        "",
        f"  {by_id.pk}  ",
        twice.url,
        "   ",
        "https://shopnow.example/item/nobody",
        str(twice.pk),  # the same listing again, in a later batch
        "99999999",
        "not a listing at all",
        "123456789012345678901234567890",
    ]
    upload = SimpleUploadedFile("urls.txt", "\r\n".join(lines).encode() + b"\n")

    job = run(create_job(selection_kind=DelistSelectionKind.FILE, listing_ids=None, file=upload))

    assert job.selection_file.name.endswith(".txt")
    assert outcomes(job) == {
        str(by_url.pk): "removed",
        str(by_id.pk): "removed",
        str(twice.pk): "removed",
        "https://shopnow.example/item/nobody": "not_found",
        "99999999": "not_found",
        "not a listing at all": "not_found",
        "123456789012345678901234567890": "not_found",
    }
    details = dict(job.targets.filter(listing=None).values_list("reference", "detail"))
    assert details == {
        "https://shopnow.example/item/nobody": "No listing has this URL.",
        "99999999": "No listing has this id.",
        "not a listing at all": "Neither a listing id nor a listing URL.",
        "123456789012345678901234567890": "Id out of range.",
    }
    # Each listing once, in id order; the lines that named none were settled at planning.
    assert selected(job) == sorted([by_url.pk, by_id.pk, twice.pk])
    assert (job.total, job.unresolved, job.status) == (7, 4, DelistJobStatus.COMPLETED_WITH_ERRORS)
    assert len(removals()) == 3


def test_a_selection_file_that_is_gone_fails_the_job(create_job):
    upload = SimpleUploadedFile("urls.txt", b"https://shopnow.example/item/L1\n")
    job = create_job(selection_kind=DelistSelectionKind.FILE, listing_ids=None, file=upload)
    job.selection_file.storage.delete(job.selection_file.name)

    assert delisting.delist_job_plan(job_id=job.pk) is False

    job.refresh_from_db()
    assert (job.status, job.targets.count(), job.chunks.count()) == (DelistJobStatus.FAILED, 0, 0)
    assert job.finished_at is not None
    event = AuditEvent.objects.get(action="delist_job.fail")
    assert event.reason.startswith("The selection file could not be read:")
    DelistJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=1))
    assert delisting.delist_reap() == {"chunks": 0, "plans": 0, "closed": 0}  # a failed job is not re-planned


@pytest.mark.parametrize(
    ("kind", "inputs", "message"),
    [
        (DelistSelectionKind.LISTING_IDS, {"listing_ids": None}, "needs listing_ids"),
        (DelistSelectionKind.SELLER, {"selection": {}, "listing_ids": None}, "needs selection['seller_id']"),
        (DelistSelectionKind.SELLER, {"selection": {"seller_id": 1}}, "listing_ids go only with"),
        (DelistSelectionKind.FILE, {"listing_ids": None}, "a file selection needs one"),
        (
            DelistSelectionKind.LISTING_IDS,
            {"file": SimpleUploadedFile("x.txt", b"1\n")},
            "an uploaded file goes with a file selection",
        ),
    ],
)
def test_selection_inputs_must_match_the_kind(kind, inputs, message, create_job):
    with pytest.raises(ValueError, match=re.escape(message)):
        create_job(selection_kind=kind, **inputs)
    assert not DelistJob.objects.exists()


# --- creation and idempotency ------------------------------------------------------------------------


def test_creating_a_job_enqueues_its_planning_on_commit_and_audits_it(
    create_job, make_listings, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        job = create_job(listings=make_listings(2))

    assert enqueued(callbacks) == [(PLAN, (job.pk,))]
    assert job.status == DelistJobStatus.PLANNING
    assert not job.targets.exists()  # no batch work in the request
    event = AuditEvent.objects.get(action="delist_job.create")
    assert (event.target_id, event.actor, event.to_state) == (job.pk, moderator, "planning")


def test_the_same_idempotency_key_gives_the_same_job_and_nothing_new(
    create_job, make_listings, django_capture_on_commit_callbacks
):
    first = create_job(listings=make_listings(2), idempotency_key="admin-form-123")

    with django_capture_on_commit_callbacks() as callbacks:
        again = create_job(listings=make_listings(1), idempotency_key="admin-form-123", reason="Other.")

    assert again == first
    assert again.reason == "Counterfeit sweep."
    assert DelistJob.objects.count() == 1
    assert callbacks == []
    assert AuditEvent.objects.filter(action="delist_job.create").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_racing_submissions_create_one_job(moderator):
    """The second INSERT waits on the unique index for the first, then reads the winner's row."""
    inserted, release = threading.Event(), threading.Event()
    second: list[DelistJob] = []

    def first_submission() -> None:
        try:
            with transaction.atomic():
                DelistJob.objects.create(
                    idempotency_key="race", selection_kind="listing_ids", reason="First.", actor=moderator
                )
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    def second_submission() -> None:
        try:
            second.append(
                delisting.delist_job_create(
                    selection_kind="listing_ids",
                    selection={},
                    listing_ids=[1],
                    actor=moderator,
                    reason="Second.",
                    idempotency_key="race",
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=first_submission, daemon=True)]
    threads[0].start()
    assert inserted.wait(10)
    threads.append(threading.Thread(target=second_submission, daemon=True))
    threads[1].start()
    assert wait_for_a_lock_wait(), "the second submission never waited for the first"
    release.set()
    for thread in threads:
        thread.join(10)

    assert [job.reason for job in second] == ["First."]
    assert DelistJob.objects.count() == 1


# --- planning ----------------------------------------------------------------------------------------


def test_planning_cuts_keyset_chunks_that_partition_the_selection(
    create_job, make_listings, django_capture_on_commit_callbacks
):
    listings = make_listings(8)
    job = create_job(listings=reversed(listings))

    with django_capture_on_commit_callbacks() as callbacks:
        assert delisting.delist_job_plan(job_id=job.pk) is True

    job.refresh_from_db()
    chunks = list(job.chunks.order_by("seq"))
    ids = [x.pk for x in listings]
    assert [c.seq for c in chunks] == [1, 2, 3]
    assert [c.listing_ids for c in chunks] == [ids[0:3], ids[3:6], ids[6:8]]
    assert [(c.size, c.first_listing_id, c.last_listing_id) for c in chunks] == [
        (3, ids[0], ids[2]),
        (3, ids[3], ids[5]),
        (2, ids[6], ids[7]),
    ]
    assert not job.targets.exists()  # planning writes no row per listing
    assert all(c.state == DelistChunkState.PENDING and c.enqueued_at for c in chunks)
    assert enqueued(callbacks) == [(CHUNK, (c.pk,)) for c in chunks]
    assert (job.status, job.total) == (DelistJobStatus.RUNNING, 8)
    assert job.started_at is not None


def test_planning_again_changes_nothing(create_job, make_listings, django_capture_on_commit_callbacks):
    job = create_job(listings=make_listings(4))
    delisting.delist_job_plan(job_id=job.pk)

    with django_capture_on_commit_callbacks() as callbacks:
        assert plan_delist_job.run(job.pk) is False

    assert (len(selected(job)), job.chunks.count()) == (4, 2)
    assert callbacks == []


def test_the_planning_task_runs_a_job_of_one_chunk_itself(
    create_job, make_listings, django_capture_on_commit_callbacks
):
    listings = make_listings(3)
    job = create_job(listings=listings)

    with django_capture_on_commit_callbacks() as callbacks:
        assert plan_delist_job.run(job.pk) is True

    job.refresh_from_db()
    assert job.status == DelistJobStatus.COMPLETED
    assert outcomes(job) == {str(listing.pk): "removed" for listing in listings}
    assert enqueued(callbacks) == []  # no message for the chunk the planner ran


def test_the_planning_task_enqueues_the_chunks_of_a_larger_job(
    create_job, make_listings, django_capture_on_commit_callbacks
):
    job = create_job(listings=make_listings(4))

    with django_capture_on_commit_callbacks() as callbacks:
        assert plan_delist_job.run(job.pk) is True

    job.refresh_from_db()
    assert job.status == DelistJobStatus.RUNNING
    assert enqueued(callbacks) == [(CHUNK, (chunk_id,)) for chunk_id in chunk_ids(job)]


def test_a_single_chunk_the_planner_could_not_run_goes_to_the_chunk_task(
    create_job, make_listings, monkeypatch, django_capture_on_commit_callbacks
):
    job = create_job(listings=make_listings(2))

    def crash(chunk, locked):
        raise ConnectionError("lost the database")

    monkeypatch.setattr(chunks, "_run_chunk", crash)
    with django_capture_on_commit_callbacks() as callbacks:
        assert plan_delist_job.run(job.pk) is True

    (chunk,) = job.chunks.all()
    assert (chunk.state, chunk.attempts) == (DelistChunkState.PENDING, 1)
    assert "lost the database" in chunk.last_error
    assert enqueued(callbacks) == [(CHUNK, (chunk.pk,))]
    monkeypatch.undo()
    assert process_delist_chunk.run(chunk.pk) == ChunkRun.DONE
    job.refresh_from_db()
    assert job.status == DelistJobStatus.COMPLETED


def test_a_planning_that_crashes_leaves_nothing_and_can_run_again(create_job, make_listings, monkeypatch):
    job = create_job(listings=make_listings(4))

    def crash(job, source, params):
        raise ConnectionError("lost the database")

    with monkeypatch.context() as patch:
        patch.setattr(planning, "_cut_chunks", crash)
        with pytest.raises(ConnectionError):
            delisting.delist_job_plan(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.targets.count(), job.chunks.count()) == (DelistJobStatus.PLANNING, 0, 0)
    assert run(job).status == DelistJobStatus.COMPLETED
    assert (len(selected(job)), job.chunks.count()) == (4, 2)


def test_a_selection_that_finds_nothing_completes_at_once(create_job, seller):
    job = run(
        create_job(selection_kind=DelistSelectionKind.SELLER, selection={"seller_id": seller.pk}, listing_ids=None)
    )

    assert (job.status, job.total, job.chunks.count()) == (DelistJobStatus.COMPLETED, 0, 0)
    assert job.finished_at is not None


# --- processing chunks -------------------------------------------------------------------------------


def test_a_job_removes_each_live_listing_with_one_audit_event(create_job, make_listings, moderator):
    listings = make_listings(5) + make_listings(2, status=ListingStatus.REINSTATED)

    job = run(create_job(listings=listings, automated=True))

    assert statuses(listings) == ["removed"] * 7
    assert all(x.status_changed_at for x in Listing.objects.all())
    events = removals()
    assert [e.target_id for e in events] == [x.pk for x in listings]
    assert [e.from_state for e in events] == ["active"] * 5 + ["reinstated"] * 2
    for event in events:
        assert (event.to_state, event.actor, event.automated, event.reason, event.data) == (
            "removed",
            moderator,
            True,
            "Counterfeit sweep.",
            {"delist_job": job.pk},
        )
    assert set(outcomes(job).values()) == {"removed"}
    assert not job.targets.exists()  # nothing to say about a listing that was removed
    assert [(c.state, c.removed, c.skipped, c.failed, c.attempts) for c in job.chunks.order_by("seq")] == [
        ("done", 3, 0, 0, 1),
        ("done", 3, 0, 0, 1),
        ("done", 1, 0, 0, 1),
    ]
    assert job.status == DelistJobStatus.COMPLETED
    assert job.finished_at is not None
    assert AuditEvent.objects.filter(action="delist_job.complete", target_id=job.pk).count() == 1


def test_the_engines_audit_events_match_those_of_the_audit_service(create_job, make_listings, moderator):
    """The chunk writes its audit INSERT itself (for speed); it must stay the service's row, field for field."""
    engine_listing, service_listing = make_listings(2)
    job = run(create_job(listings=[engine_listing], automated=True))
    audit_record_state_changes(
        action="listing.remove",
        model=Listing,
        changes=[(service_listing.pk, "active", "removed")],
        actor_id=moderator.pk,
        automated=True,
        reason=job.reason,
        data={"delist_job": job.pk},
    )

    def row(listing):
        event = AuditEvent.objects.get(action="listing.remove", target_id=listing.pk)
        fields = [
            f.attname for f in AuditEvent._meta.concrete_fields if f.attname not in {"id", "target_id", "occurred_at"}
        ]
        return {name: getattr(event, name) for name in fields}

    assert row(engine_listing) == row(service_listing)


def test_running_a_chunk_twice_changes_nothing_the_second_time(create_job, make_listings):
    job = create_job(listings=make_listings(3))
    delisting.delist_job_plan(job_id=job.pk)
    [chunk_id] = chunk_ids(job)

    assert process_delist_chunk.run(chunk_id) == ChunkRun.DONE
    assert process_delist_chunk.run(chunk_id) == ChunkRun.CLOSED
    assert len(removals()) == 3

    # Even forced to run again from scratch, it only finds listings that are no longer live.
    DelistJob.objects.filter(pk=job.pk).update(status=DelistJobStatus.RUNNING)
    DelistChunk.objects.filter(pk=chunk_id).update(state=DelistChunkState.PENDING)
    assert delisting.delist_chunk_process(chunk_id=chunk_id) == ChunkRun.DONE

    assert len(removals()) == 3
    chunk = DelistChunk.objects.get(pk=chunk_id)
    assert (chunk.removed, chunk.skipped, chunk.failed) == (0, 3, 0)
    assert set(outcomes(job).values()) == {"already_removed"}


def test_listings_removed_meanwhile_are_skipped_as_already_removed(create_job, make_listings, moderator):
    listings = make_listings(3)
    job = create_job(listings=listings)
    delisting.delist_job_plan(job_id=job.pk)
    listing_remove(listing_id=listings[1].pk, actor=moderator, reason="Decided on its own.")

    job = run(job)

    assert outcomes(job) == {
        str(listings[0].pk): "removed",
        str(listings[1].pk): "already_removed",
        str(listings[2].pk): "removed",
    }
    chunk = job.chunks.get()
    assert (chunk.removed, chunk.skipped, chunk.failed) == (2, 1, 0)
    assert [e.data for e in removals()] == [{"delist_job": job.pk}, {}, {"delist_job": job.pk}]
    assert job.status == DelistJobStatus.COMPLETED


def test_a_registered_lock_check_holds_listings_back(create_job, make_listings):
    listings = make_listings(4)
    held = listings[2]
    asked: list[list[int]] = []

    @delisting.register_lock_check
    def counter_notice_pending(listing_ids):
        asked.append(list(listing_ids))
        return {held.pk, 123456789}  # an id outside the chunk is ignored

    listing_remove(listing_id=listings[0].pk, reason="Already down.")
    job = run(create_job(listings=listings))

    assert asked == [[x.pk for x in listings[:3]], [listings[3].pk]]  # the chunk's listings, one chunk at a time
    assert outcomes(job)[str(held.pk)] == "locked"
    assert statuses([held]) == ["active"]
    assert [(c.removed, c.skipped, c.failed) for c in job.chunks.order_by("seq")] == [(1, 1, 1), (1, 0, 0)]
    assert job.status == DelistJobStatus.COMPLETED_WITH_ERRORS


def test_completion_is_recorded_exactly_once(create_job, make_listings, monkeypatch):
    job = create_job(listings=make_listings(4))
    delisting.delist_job_plan(job_id=job.pk)
    with monkeypatch.context() as patch:
        # As if each worker died between its chunk and the completion check.
        patch.setattr(jobs, "delist_job_close_if_done", lambda job_id: False)
        for chunk_id in chunk_ids(job):
            delisting.delist_chunk_process(chunk_id=chunk_id)
    job.refresh_from_db()
    assert job.status == DelistJobStatus.RUNNING

    assert delisting.delist_job_close_if_done(job_id=job.pk) is True
    assert delisting.delist_job_close_if_done(job_id=job.pk) is False

    job.refresh_from_db()
    assert job.status == DelistJobStatus.COMPLETED
    assert AuditEvent.objects.filter(action="delist_job.complete").count() == 1


def test_the_check_leaves_a_job_with_open_chunks_running(create_job, make_listings):
    job = create_job(listings=make_listings(4))
    delisting.delist_job_plan(job_id=job.pk)
    delisting.delist_chunk_process(chunk_id=chunk_ids(job)[0])

    assert delisting.delist_job_close_if_done(job_id=job.pk) is False
    job.refresh_from_db()
    assert job.status == DelistJobStatus.RUNNING


def test_a_failing_chunk_is_retried_then_failed_at_the_attempt_cap(create_job, make_listings, monkeypatch):
    listings = make_listings(4)
    job = create_job(listings=listings)
    delisting.delist_job_plan(job_id=job.pk)
    failing, healthy = chunk_ids(job)

    run_chunk = chunks._run_chunk

    def broken(chunk, locked):
        # Fails after the listings were updated and audited and the chunk closed, before the commit.
        run_chunk(chunk, locked)
        raise RuntimeError("audit table unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(chunks, "_run_chunk", broken)
        assert delisting.delist_chunk_process(chunk_id=failing) == ChunkRun.RETRY
        with pytest.raises(Retry):  # the task asks Celery to retry
            process_delist_chunk.run(failing)
        chunk = DelistChunk.objects.get(pk=failing)
        assert (chunk.state, chunk.attempts, chunk.lease_until) == ("pending", 2, None)
        assert delisting.delist_chunk_process(chunk_id=failing) == ChunkRun.FAILED

    chunk = DelistChunk.objects.get(pk=failing)
    assert (chunk.state, chunk.attempts, chunk.failed) == ("failed", 3, 3)
    assert chunk.last_error == "RuntimeError: audit table unavailable"
    assert statuses(listings[:3]) == ["active"] * 3  # each attempt rolled back whole
    assert removals() == []
    assert set(job.targets.filter(listing__in=listings[:3]).values_list("outcome", "detail")) == {
        ("error", "The chunk failed: RuntimeError: audit table unavailable")
    }
    assert delisting.delist_chunk_process(chunk_id=failing) == ChunkRun.CLOSED

    assert delisting.delist_chunk_process(chunk_id=healthy) == ChunkRun.DONE
    job.refresh_from_db()
    assert job.status == DelistJobStatus.COMPLETED_WITH_ERRORS
    assert [e.target_id for e in removals()] == [listings[3].pk]


def claimed(*chunk_ids: int, attempts: int = 1, lease_left: timedelta, **fields) -> None:
    """Mark the chunks running as a claim left them, their lease ending `lease_left` from now (negative:
    lapsed). Whether the claimant lives is told by the claim lock alone (the `claimant` fixture)."""
    DelistChunk.objects.filter(pk__in=chunk_ids).update(
        state=DelistChunkState.RUNNING, attempts=attempts, lease_until=timezone.now() + lease_left, **fields
    )


def test_a_chunk_whose_worker_keeps_dying_is_failed_instead_of_looping(create_job, make_listings):
    job = create_job(listings=make_listings(2))
    delisting.delist_job_plan(job_id=job.pk)
    [chunk_id] = chunk_ids(job)
    # Three claims that never reported back, the last lease lapsed.
    claimed(chunk_id, attempts=3, lease_left=timedelta(seconds=-1))

    assert delisting.delist_chunk_process(chunk_id=chunk_id) == ChunkRun.FAILED

    chunk = DelistChunk.objects.get(pk=chunk_id)
    assert (chunk.state, chunk.attempts, chunk.failed) == ("failed", 3, 2)
    assert chunk.last_error == "Gave up after 3 attempts (worker lost)."
    job.refresh_from_db()
    assert job.status == DelistJobStatus.COMPLETED_WITH_ERRORS


def test_a_chunk_whose_claimant_lives_is_left_to_it(create_job, make_listings, claimant):
    job = create_job(listings=make_listings(2))
    delisting.delist_job_plan(job_id=job.pk)
    [chunk_id] = chunk_ids(job)
    # Even with its lease lapsed: the claim lock says the worker is alive (a slow chunk, not a dead one).
    claimed(chunk_id, lease_left=timedelta(seconds=-1))
    claimant(chunk_id)

    assert delisting.delist_chunk_process(chunk_id=chunk_id) == ChunkRun.BUSY
    assert DelistChunk.objects.get(pk=chunk_id).attempts == 1
    assert removals() == []


def test_a_dead_claim_is_taken_over_at_once_within_its_lease(create_job, make_listings, claimant):
    listings = make_listings(2)
    job = create_job(listings=listings)
    delisting.delist_job_plan(job_id=job.pk)
    [chunk_id] = chunk_ids(job)
    claimed(chunk_id, lease_left=timedelta(minutes=10))
    claimant(chunk_id).close()  # the worker's session ends: PostgreSQL drops its claim lock

    assert delisting.delist_chunk_process(chunk_id=chunk_id) == ChunkRun.DONE

    chunk = DelistChunk.objects.get(pk=chunk_id)
    assert (chunk.state, chunk.attempts, chunk.removed) == ("done", 2, 2)
    assert statuses(listings) == ["removed", "removed"]
    assert [e.target_id for e in removals()] == [x.pk for x in listings]
    # The claim lock was given back: a later duplicate finds the chunk closed, not busy.
    assert delisting.delist_chunk_process(chunk_id=chunk_id) == ChunkRun.CLOSED
    assert chunks.dead_claims([chunk_id]) == [chunk_id]


# --- cancel, pause, resume ---------------------------------------------------------------------------


def test_cancel_closes_pending_chunks_and_leaves_their_listings_alone(create_job, make_listings, moderator):
    listings = make_listings(8)
    job = create_job(listings=listings)
    delisting.delist_job_plan(job_id=job.pk)
    first, *rest = chunk_ids(job)
    delisting.delist_chunk_process(chunk_id=first)

    cancelled = delisting.delist_job_cancel(job_id=job.pk, actor=moderator)

    assert cancelled.status == DelistJobStatus.CANCELLED
    assert cancelled.finished_at is not None
    assert list(job.chunks.order_by("seq").values_list("state", flat=True)) == ["done", "cancelled", "cancelled"]
    # A message still in the queue finds its chunk closed.
    assert [delisting.delist_chunk_process(chunk_id=c) for c in rest] == [ChunkRun.CLOSED, ChunkRun.CLOSED]
    assert delisting.delist_job_close_if_done(job_id=job.pk) is False
    assert statuses(listings) == ["removed"] * 3 + ["active"] * 5
    assert [e.target_id for e in removals()] == [x.pk for x in listings[:3]]
    job.refresh_from_db()
    assert job.status == DelistJobStatus.CANCELLED
    event = AuditEvent.objects.get(action="delist_job.cancel")
    assert (event.target_id, event.actor, event.from_state, event.to_state) == (
        job.pk,
        moderator,
        "running",
        "cancelled",
    )
    with pytest.raises(DelistJobStateError, match="A cancelled job cannot be cancelled"):
        delisting.delist_job_cancel(job_id=job.pk, actor=moderator)


def test_a_chunk_claimed_before_the_cancel_is_closed_when_it_comes_back(create_job, make_listings, moderator):
    listings = make_listings(2)
    job = create_job(listings=listings)
    delisting.delist_job_plan(job_id=job.pk)
    [chunk_id] = chunk_ids(job)
    claimed(chunk_id, lease_left=timedelta(seconds=-1))
    delisting.delist_job_cancel(job_id=job.pk, actor=moderator)
    assert DelistChunk.objects.get(pk=chunk_id).state == DelistChunkState.RUNNING  # its worker may be alive

    assert delisting.delist_chunk_process(chunk_id=chunk_id) == ChunkRun.CANCELLED

    assert DelistChunk.objects.get(pk=chunk_id).state == DelistChunkState.CANCELLED
    assert statuses(listings) == ["active", "active"]
    job.refresh_from_db()
    assert job.status == DelistJobStatus.CANCELLED


def test_a_job_can_be_cancelled_before_it_is_planned(create_job, make_listings, moderator):
    job = create_job(listings=make_listings(2))

    delisting.delist_job_cancel(job_id=job.pk, actor=moderator)

    assert delisting.delist_job_plan(job_id=job.pk) is False
    assert not job.targets.exists()


def test_pause_holds_chunks_back_until_resume(create_job, make_listings, moderator, django_capture_on_commit_callbacks):
    listings = make_listings(5)
    job = create_job(listings=listings)
    delisting.delist_job_plan(job_id=job.pk)
    first, second = chunk_ids(job)

    delisting.delist_job_pause(job_id=job.pk, actor=moderator)
    assert delisting.delist_chunk_process(chunk_id=first) == ChunkRun.PAUSED
    chunk = DelistChunk.objects.get(pk=first)
    assert (chunk.state, chunk.attempts) == ("pending", 0)
    assert statuses(listings) == ["active"] * 5
    with pytest.raises(DelistJobStateError, match="A paused job cannot be paused"):
        delisting.delist_job_pause(job_id=job.pk, actor=moderator)

    with django_capture_on_commit_callbacks() as callbacks:
        resumed = delisting.delist_job_resume(job_id=job.pk, actor=moderator)

    assert resumed.status == DelistJobStatus.RUNNING
    assert enqueued(callbacks) == [(CHUNK, (first,)), (CHUNK, (second,))]
    with pytest.raises(DelistJobStateError, match="A running job cannot be resumed"):
        delisting.delist_job_resume(job_id=job.pk, actor=moderator)
    assert [delisting.delist_chunk_process(chunk_id=c) for c in (first, second)] == [ChunkRun.DONE, ChunkRun.DONE]
    job.refresh_from_db()
    assert job.status == DelistJobStatus.COMPLETED
    assert list(
        AuditEvent.objects.filter(target_id=job.pk, action__startswith="delist_job.")
        .values_list("action", flat=True)
        .order_by("pk")
    ) == [
        "delist_job.create",
        "delist_job.pause",
        "delist_job.resume",
        "delist_job.complete",
    ]


def test_a_job_paused_while_its_last_chunk_runs_completes(create_job, make_listings, moderator):
    job = create_job(listings=make_listings(2))
    delisting.delist_job_plan(job_id=job.pk)

    @delisting.register_lock_check
    def pause_meanwhile(listing_ids):
        delisting.delist_job_pause(job_id=job.pk, actor=moderator)
        return set()

    assert delisting.delist_chunk_process(chunk_id=chunk_ids(job)[0]) == ChunkRun.DONE
    job.refresh_from_db()
    assert job.status == DelistJobStatus.COMPLETED  # nothing was left to hold back


# --- the reaper --------------------------------------------------------------------------------------


@pytest.fixture
def planned(create_job, make_listings):
    """planned(n) → a job of n listings, planned (chunks of three)."""

    def plan(n: int) -> DelistJob:
        job = create_job(listings=make_listings(n))
        delisting.delist_job_plan(job_id=job.pk)
        job.refresh_from_db()
        return job

    return plan


def test_the_reaper_resends_dead_claims_and_lost_chunks_but_not_live_or_fresh_ones(
    planned, claimant, django_capture_on_commit_callbacks
):
    job = planned(12)
    lapsed, lost, fresh, live = chunk_ids(job)
    now = timezone.now()
    long_ago = now - timedelta(minutes=11)
    # Dead: running, its claim lock free, its lease still valid. Live: the same with its lock held.
    claimed(lapsed, live, lease_left=timedelta(minutes=5), enqueued_at=long_ago)
    claimant(live)
    DelistChunk.objects.filter(pk=lost).update(enqueued_at=long_ago)

    with django_capture_on_commit_callbacks() as callbacks:
        assert reap_delist_chunks.run() == {"chunks": 2, "plans": 0, "closed": 0}

    assert enqueued(callbacks) == [(CHUNK, (lapsed,)), (CHUNK, (lost,))]
    assert DelistChunk.objects.get(pk=lapsed).enqueued_at > now
    assert DelistChunk.objects.get(pk=lost).enqueued_at > now
    # Just re-sent: not again on the next tick. A chunk never sent at all is sent at once.
    DelistChunk.objects.filter(pk=fresh).update(enqueued_at=None)
    with django_capture_on_commit_callbacks() as callbacks:
        assert delisting.delist_reap() == {"chunks": 1, "plans": 0, "closed": 0}
    assert enqueued(callbacks) == [(CHUNK, (fresh,))]


def test_the_reaper_leaves_jobs_that_make_progress_and_paused_jobs(
    planned, moderator, django_capture_on_commit_callbacks
):
    progressing, paused = planned(6), planned(3)
    long_ago = timezone.now() - timedelta(minutes=30)
    DelistChunk.objects.update(enqueued_at=long_ago)
    delisting.delist_chunk_process(chunk_id=chunk_ids(progressing)[0])  # finished just now
    delisting.delist_job_pause(job_id=paused.pk, actor=moderator)

    with django_capture_on_commit_callbacks() as callbacks:
        assert delisting.delist_reap() == {"chunks": 0, "plans": 0, "closed": 0}
    assert callbacks == []


def test_the_reaper_resends_stuck_planning_and_closes_orphaned_jobs(
    create_job, planned, make_listings, monkeypatch, django_capture_on_commit_callbacks
):
    stuck = create_job(listings=make_listings(1))
    DelistJob.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    create_job(listings=make_listings(1))  # created just now: its planning message is surely on its way
    orphaned = planned(2)
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "delist_job_close_if_done", lambda job_id: False)
        delisting.delist_chunk_process(chunk_id=chunk_ids(orphaned)[0])

    with django_capture_on_commit_callbacks() as callbacks:
        assert delisting.delist_reap() == {"chunks": 0, "plans": 1, "closed": 1}

    assert enqueued(callbacks) == [(PLAN, (stuck.pk,))]
    orphaned.refresh_from_db()
    assert orphaned.status == DelistJobStatus.COMPLETED


def test_the_reaper_never_overlaps_with_itself(planned):
    job = planned(3)
    DelistChunk.objects.filter(job=job).update(enqueued_at=None)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key(delisting.REAPER_LOCK)])
        assert delisting.delist_reap() is None
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key(delisting.REAPER_LOCK)])
        assert delisting.delist_reap() == {"chunks": 1, "plans": 0, "closed": 0}
    finally:
        other.close()


# --- progress and task options -----------------------------------------------------------------------


def test_progress_comes_from_one_query_over_the_chunks(planned, django_assert_num_queries):
    job = planned(5)
    DelistJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(seconds=2))
    job.refresh_from_db()
    delisting.delist_chunk_process(chunk_id=chunk_ids(job)[0])

    with django_assert_num_queries(1):
        progress = delisting.delist_job_progress(job)

    assert {k: progress[k] for k in ("status", "total", "chunks", "chunks_done", "removed", "skipped", "failed")} == {
        "status": "running",
        "total": 5,
        "chunks": 2,
        "chunks_done": 1,
        "removed": 3,
        "skipped": 0,
        "failed": 0,
    }
    assert 0 < progress["rate"] <= 3 / 2
    assert progress["seconds_left"] >= 1


def test_progress_of_a_finished_job_has_no_time_left(planned):
    job = planned(2)
    delisting.delist_chunk_process(chunk_id=chunk_ids(job)[0])
    job.refresh_from_db()

    progress = delisting.delist_job_progress(job)

    assert (progress["status"], progress["processed"], progress["seconds_left"]) == ("completed", 2, 0)


def test_work_tasks_are_acknowledged_late_and_requeued_on_worker_loss():
    for task in (plan_delist_job, process_delist_chunk):
        assert (task.acks_late, task.reject_on_worker_lost) == (True, True)


def test_a_missing_chunk_is_nothing_to_do():
    assert process_delist_chunk.run(987654321) == ChunkRun.BUSY
    assert not DelistTarget.objects.exists()
