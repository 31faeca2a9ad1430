"""A delisting job's admin page as the moderators' console: live progress, links to what the job did,
and pause, resume and cancel through the engine's services, as a superuser and as staff without the
permission.

Jobs are created and planned through the engine; chunks are processed by calling it between requests.
Enqueued tasks never leave the test's transaction, so no message reaches Redis.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from core import queue
from core.audit.models import AuditEvent
from devtools.devenv import free_port
from listings import delisting
from listings.admin import JOB_OPERATIONS
from listings.choices import DelistChunkState, DelistJobStatus, DelistOutcome, DelistSelectionKind, ListingStatus
from listings.models import DelistJob, DelistTarget, Listing
from tests import factories
from tests.outages import broker_at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_lock_checks")]


@pytest.fixture(autouse=True)
def chunks_of_three(settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "DELIST_CHUNK_SIZE": 3}


@pytest.fixture
def make_listings(marketplace):
    seller = factories.SellerFactory(marketplace=marketplace)

    def make(n: int, **kwargs) -> list[Listing]:
        return factories.ListingFactory.create_batch(n, marketplace=marketplace, seller=seller, **kwargs)

    return make


@pytest.fixture
def planned_job(moderator):
    """planned_job(listing_ids) → a job created and planned through the engine, its chunks not yet run."""
    keys = iter(range(1, 1_000_000))

    def create(listing_ids) -> DelistJob:
        job = delisting.delist_job_create(
            selection_kind=DelistSelectionKind.LISTING_IDS,
            selection={},
            listing_ids=listing_ids,
            actor=moderator,
            reason="Counterfeit sweep.",
            idempotency_key=f"admin-job-{next(keys)}",
        )
        delisting.delist_job_plan(job_id=job.pk)
        job.refresh_from_db()
        return job

    return create


def process(job: DelistJob, chunks: int | None = None) -> None:
    """Process the job's first `chunks` chunks (all by default), in order."""
    for chunk_id in list(job.chunks.order_by("seq").values_list("pk", flat=True))[:chunks]:
        delisting.delist_chunk_process(chunk_id=chunk_id)


@pytest.fixture
def root():
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def root_client(client, root):
    client.force_login(root)
    return client


def staff_with(*codenames: str):
    user = factories.UserFactory(username=f"staff-{'-'.join(codenames) or 'none'}", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="listings", codename__in=codenames))
    return user


@pytest.fixture
def viewer_client(client):
    """Staff who may view jobs, not pause, resume or cancel them."""
    client.force_login(staff_with("view_delistjob"))
    return client


def change_url(job: DelistJob) -> str:
    return reverse("admin:listings_delistjob_change", args=[job.pk])


def progress_url(job: DelistJob) -> str:
    return reverse("admin:listings_delistjob_progress", args=[job.pk])


def operation_url(job: DelistJob, name: str) -> str:
    return reverse(f"admin:listings_delistjob_{name}", args=[job.pk])


def figure(response, name: str) -> str:
    """The value shown in the panel's row `name`."""
    match = re.search(rf'<th scope="row">{re.escape(name)}</th><td>([^<]*)</td>', response.content.decode())
    assert match, f"no {name!r} row"
    return match.group(1)


def progress_bar(response) -> tuple[str, str]:
    match = re.search(r'<progress id="delist-progress-bar" value="(\d+)" max="(\d+)">', response.content.decode())
    assert match, "no determinate progress bar"
    return match.group(1), match.group(2)


def offered(response, job: DelistJob) -> set[str]:
    """The operations whose buttons the page offers."""
    return {name for name in JOB_OPERATIONS if f'action="{operation_url(job, name)}"' in response.content.decode()}


# --- the progress panel ------------------------------------------------------------------------------


def test_the_job_page_shows_progress_figures_from_the_database(root_client, planned_job, make_listings):
    live = make_listings(4)
    gone = make_listings(1, status=ListingStatus.REMOVED)[0]
    missing = 10**12
    # 5 listings in id order, chunks of 3 and 2; the missing id is settled (failed) at planning.
    job = planned_job([*(x.pk for x in live), gone.pk, missing])
    process(job, chunks=1)

    response = root_client.get(change_url(job))

    assert response.status_code == 200
    removed = sum(len(ids) for ids in job.chunks.values_list("removed_ids", flat=True))
    failed = job.targets.filter(outcome__in=delisting.FAILED_OUTCOMES).count()
    assert progress_bar(response) == (str(removed + failed), str(job.total)) == ("4", "6")
    assertContains(response, "4 of 6 targets processed (66%)")
    assert figure(response, "Status") == "Running"
    assert figure(response, "Chunks done") == "1 of 2"
    assert figure(response, "Removed") == str(removed) == "3"
    assert figure(response, "Skipped (already removed)") == "0"
    assert figure(response, "Failed") == str(failed) == "1"
    assert re.fullmatch(r"\d+\.\d targets/s", figure(response, "Rate"))
    assert re.fullmatch(r"\d+ (h \d+ min|min \d+ s|s)", figure(response, "Time left"))


def test_the_progress_partial_follows_the_chunks_and_says_when_it_is_finished(root_client, planned_job, make_listings):
    live = make_listings(3)
    gone = make_listings(1, status=ListingStatus.REMOVED)[0]
    # Chunk 1 is `live`, chunk 2 `gone`; the missing id is settled (failed) at planning.
    job = planned_job([*(x.pk for x in live), gone.pk, 10**12])

    before = root_client.get(progress_url(job))
    process(job, chunks=1)
    after_one = root_client.get(progress_url(job))
    process(job)
    done = root_client.get(progress_url(job))

    assert progress_bar(before) == ("1", "5")
    assertContains(before, 'data-finished="false"')
    assert "<html" not in before.content.decode()  # the panel alone
    assert progress_bar(after_one) == ("4", "5")
    assert figure(after_one, "Removed") == "3"
    assertContains(after_one, 'data-finished="false"')
    assert progress_bar(done) == ("5", "5")
    assert (figure(done, "Skipped (already removed)"), figure(done, "Failed")) == ("1", "1")
    assert figure(done, "Status") == "Completed with errors"
    assert figure(done, "Time left") == "None: the job is finished"
    assert figure(before, "Finished at") == "—"
    job.refresh_from_db()
    assert figure(done, "Finished at") == date_format(timezone.localtime(job.finished_at), "DATETIME_FORMAT")
    assertContains(done, 'data-finished="true"')
    assert offered(done, job) == set()


def warnings_of(response) -> list[str]:
    return re.findall(r'<li class="warning">([^<]*)</li>', response.content.decode())


def test_the_panel_says_which_chunks_run_wait_retry_or_lost_their_worker(
    root_client, planned_job, make_listings, claimant
):
    job = planned_job([x.pk for x in make_listings(12)])
    dead, live, retrying, _waiting = job.chunks.order_by("seq").values_list("pk", flat=True)
    job.chunks.filter(pk__in=(dead, live)).update(
        state=DelistChunkState.RUNNING, attempts=1, lease_until=timezone.now() + timedelta(minutes=10)
    )
    claimant(live)  # its worker is alive; dead's claim lock is free, within its lease all the same
    job.chunks.filter(pk=retrying).update(attempts=1, last_error="OperationalError: the database is starting up")

    response = root_client.get(progress_url(job))

    assert figure(response, "Chunks open") == "2 running, 2 waiting for a worker, 1 of them retrying after an error"
    assert warnings_of(response) == [
        "1 chunk lost its worker; another worker takes it over within seconds.",
        "1 chunk retrying after an error: OperationalError: the database is starting up",
    ]
    assert figure(response, "Status") == "Running"


def test_a_job_without_progress_says_since_when_it_is_stalled(root_client, planned_job, make_listings):
    job = planned_job([x.pk for x in make_listings(6)])
    process(job, chunks=1)
    quiet_since = timezone.now() - timedelta(minutes=5)
    job.chunks.filter(state=DelistChunkState.DONE).update(finished_at=quiet_since)

    response = root_client.get(progress_url(job))

    [warning] = warnings_of(response)
    assert warning.startswith(
        f"Stalled since {date_format(timezone.localtime(quiet_since), 'DATETIME_FORMAT')} (5 min 0"
    ), warning
    assert figure(response, "Time left") == "Not known while the job is stalled"
    process(job)  # progress again: no warning
    assert warnings_of(root_client.get(progress_url(job))) == []


def test_a_paused_job_is_pausing_until_its_claimed_chunks_finish(
    root_client, planned_job, make_listings, moderator, claimant
):
    job = planned_job([x.pk for x in make_listings(6)])
    first, _ = job.chunks.order_by("seq").values_list("pk", flat=True)
    job.chunks.filter(pk=first).update(state=DelistChunkState.RUNNING, attempts=1)
    claimant(first)  # a worker is at work on it
    delisting.delist_job_pause(job_id=job.pk, actor=moderator)

    pausing = root_client.get(progress_url(job))
    job.chunks.filter(pk=first).update(state=DelistChunkState.PENDING)  # its worker saw the pause and let go
    paused = root_client.get(progress_url(job))

    assert figure(pausing, "Status") == "Pausing: waiting for 1 chunk in flight to finish"
    assert figure(paused, "Status") == "Paused"


QUEUE_UNREACHABLE = "The queue (the Celery broker) is unreachable"


def test_the_panel_says_when_the_queue_is_unreachable_with_the_broker_really_stopped(
    root_client, planned_job, make_listings, moderator, own_redis, monkeypatch
):
    monkeypatch.setattr(queue, "BROKER_CHECK_SECONDS", 0)  # each look asks the broker again
    job = planned_job([x.pk for x in make_listings(6)])

    with broker_at(own_redis.url):
        reachable = root_client.get(progress_url(job))
        own_redis.stop()
        unreachable = root_client.get(progress_url(job))
        delisting.delist_job_pause(job_id=job.pk, actor=moderator)
        paused = root_client.get(progress_url(job))  # its chunks wait for the resume, not for the queue
        delisting.delist_job_resume(job_id=job.pk, actor=moderator)
        own_redis.start()
        back = root_client.get(progress_url(job))

    assert warnings_of(reachable) == []
    [warning] = warnings_of(unreachable)
    assert warning.startswith(QUEUE_UNREACHABLE)
    assert figure(unreachable, "Chunks open") == "0 running, 2 waiting for a worker"
    assert warnings_of(paused) == []
    assert warnings_of(back) == []


def test_the_answer_about_the_queue_is_kept_a_few_seconds(own_redis):
    with broker_at(own_redis.url):
        assert queue.broker_reachable()
        own_redis.stop()
        assert queue.broker_reachable()  # the answer of a moment ago: a polled page costs no connection each time
    with broker_at(f"redis://127.0.0.1:{free_port()}/0"):
        assert not queue.broker_reachable()  # another broker: asked at once


def test_the_panel_marks_each_change_of_chunk_states_for_the_chunk_table_to_follow(
    root_client, planned_job, make_listings
):
    job = planned_job([x.pk for x in make_listings(6)])

    def mark() -> str:
        return re.search(r'data-chunks="([^"]*)"', root_client.get(progress_url(job)).content.decode())[1]

    before = mark()
    process(job, chunks=1)
    one_done = mark()
    process(job)
    final = mark()

    assert before == "Running; 0; 0 running, 2 waiting for a worker"
    assert one_done == "Running; 1; 0 running, 1 waiting for a worker"
    assert final.startswith("Completed; 2; ")


def test_a_job_still_planning_shows_an_indeterminate_bar(root_client, moderator):
    job = delisting.delist_job_create(
        selection_kind=DelistSelectionKind.LISTING_IDS,
        selection={},
        listing_ids=[1],
        actor=moderator,
        reason="Counterfeit sweep.",
        idempotency_key="not-planned-yet",
    )

    response = root_client.get(progress_url(job))

    assertContains(response, '<progress id="delist-progress-bar">Planning</progress>', html=True)
    assert figure(response, "Time left") == "Not known until the first chunk is done"
    assert offered(response, job) == {"cancel"}


def test_the_progress_view_needs_the_view_permission(client, viewer_client, planned_job, make_listings):
    job = planned_job([x.pk for x in make_listings(1)])

    assert viewer_client.get(progress_url(job)).status_code == 200
    client.force_login(staff_with())
    assert client.get(progress_url(job)).status_code == 403
    assert client.get(reverse("admin:listings_delistjob_progress", args=[job.pk + 1000])).status_code == 403
    client.logout()
    assert client.get(progress_url(job)).status_code == 302  # to the admin's login page


def test_the_progress_of_a_job_that_does_not_exist_is_not_found(root_client):
    assert root_client.get(reverse("admin:listings_delistjob_progress", args=[987654])).status_code == 404


def test_the_page_runs_no_script_without_a_nonce_and_loads_the_poller(root_client, planned_job, make_listings):
    job = planned_job([x.pk for x in make_listings(2)])

    response = root_client.get(change_url(job))

    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
    assert any('src="/static/js/delist-progress.js"' in tag and " defer" in tag for tag in scripts)
    panel = html[html.index('<section class="module" aria-labelledby="delist-progress-title">') :]
    panel = panel[: panel.index("</section>")]
    assert "style=" not in panel and "<script" not in panel and not re.search(r"\son[a-z]+=", panel)
    assert f'data-delist-progress-url="{progress_url(job)}"' in html


# --- links to what the job did -----------------------------------------------------------------------


def test_the_links_list_exactly_the_jobs_removed_listings_and_its_failures(
    root_client, planned_job, make_listings, monkeypatch
):
    removed, held, other = make_listings(2), *make_listings(1), *make_listings(1)
    gone = make_listings(1, status=ListingStatus.REMOVED)[0]
    delisting.register_lock_check(lambda ids: {held.pk} & set(ids))
    job = planned_job([*(x.pk for x in removed), held.pk, gone.pk, 10**12])
    process(job)
    other_job = planned_job([other.pk, 10**12 + 1])  # removes and fails too, but is another job
    process(other_job)

    panel = root_client.get(change_url(job)).context["delist_progress"]
    listings = root_client.get(panel.removed_listings_url)
    failures = root_client.get(panel.failures_url)

    assert {x.pk for x in listings.context["cl"].result_list} == {x.pk for x in removed}
    assertContains(listings, "removed by delisting job")
    failed = {(t.listing_id, t.reference, t.outcome) for t in failures.context["cl"].result_list}
    assert failed == {(held.pk, "", DelistOutcome.LOCKED), (None, str(10**12), DelistOutcome.NOT_FOUND)}
    assert failed == set(
        DelistTarget.objects.filter(job=job, outcome__in=delisting.FAILED_OUTCOMES).values_list(
            "listing_id", "reference", "outcome"
        )
    )


@pytest.mark.parametrize(
    ("model", "query"),
    [("listing", "delist_job=abc"), ("listing", "delist_job=0"), ("delisttarget", "outcome=gone")],
)
def test_a_filter_value_that_means_nothing_is_refused_not_ignored(root_client, model, query):
    url = reverse(f"admin:listings_{model}_changelist")

    response = root_client.get(f"{url}?{query}")

    assertRedirects(response, f"{url}?e=1", fetch_redirect_response=False)


# --- pause, resume, cancel ---------------------------------------------------------------------------


def test_pause_resume_and_cancel_go_through_the_services(root_client, root, planned_job, make_listings):
    job = planned_job([x.pk for x in make_listings(4)])
    assert offered(root_client.get(change_url(job)), job) == {"pause", "cancel"}

    paused = root_client.post(operation_url(job, "pause"), follow=True)

    assertRedirects(paused, change_url(job))
    assertContains(paused, f"Delisting job #{job.pk} was paused.")
    assert offered(paused, job) == {"resume", "cancel"}
    job.refresh_from_db()
    assert job.status == DelistJobStatus.PAUSED

    root_client.post(operation_url(job, "resume"))
    job.refresh_from_db()
    assert job.status == DelistJobStatus.RUNNING

    cancelled = root_client.post(operation_url(job, "cancel"), follow=True)

    assertContains(cancelled, f"Delisting job #{job.pk} was cancelled.")
    assert offered(cancelled, job) == set()
    job.refresh_from_db()
    assert job.status == DelistJobStatus.CANCELLED
    events = AuditEvent.objects.filter(target_id=job.pk, action__in=["delist_job.pause", "delist_job.resume"])
    assert sorted((e.action, e.actor, e.from_state, e.to_state) for e in events) == [
        ("delist_job.pause", root, "running", "paused"),
        ("delist_job.resume", root, "paused", "running"),
    ]
    assert AuditEvent.objects.get(target_id=job.pk, action="delist_job.cancel").actor == root


def test_staff_with_the_change_permission_may_pause(client, planned_job, make_listings):
    lead = staff_with("change_delistjob")
    client.force_login(lead)
    job = planned_job([x.pk for x in make_listings(1)])

    client.post(operation_url(job, "pause"))

    job.refresh_from_db()
    assert job.status == DelistJobStatus.PAUSED
    assert AuditEvent.objects.get(action="delist_job.pause").actor == lead


@pytest.mark.parametrize("name", ["pause", "cancel"])
def test_staff_without_the_permission_see_no_buttons_and_are_refused(viewer_client, planned_job, make_listings, name):
    job = planned_job([x.pk for x in make_listings(1)])

    page = viewer_client.get(change_url(job))
    response = viewer_client.post(operation_url(job, name))

    assert page.status_code == 200 and offered(page, job) == set()
    assertContains(page, "Listings removed by this job")
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == DelistJobStatus.RUNNING
    assert not AuditEvent.objects.filter(action__in=["delist_job.pause", "delist_job.cancel"]).exists()


def test_an_operation_is_a_post(root_client, planned_job, make_listings):
    job = planned_job([x.pk for x in make_listings(1)])

    assert root_client.get(operation_url(job, "cancel")).status_code == 405
    job.refresh_from_db()
    assert job.status == DelistJobStatus.RUNNING


@pytest.mark.parametrize(
    "status",
    [
        DelistJobStatus.COMPLETED,
        DelistJobStatus.COMPLETED_WITH_ERRORS,
        DelistJobStatus.CANCELLED,
        DelistJobStatus.FAILED,
    ],
)
def test_finished_jobs_offer_no_buttons_and_a_stale_request_is_reported(
    root_client, planned_job, make_listings, status
):
    job = planned_job([x.pk for x in make_listings(1)])
    DelistJob.objects.filter(pk=job.pk).update(status=status)

    page = root_client.get(change_url(job))
    stale = root_client.post(operation_url(job, "cancel"), follow=True)

    assert offered(page, job) == set()
    assertContains(page, 'data-finished="true"')
    assertContains(stale, f'<li class="error">A {DelistJobStatus(status).label.lower()} job cannot be cancelled.</li>')
    job.refresh_from_db()
    assert job.status == status


@pytest.mark.parametrize("status", DelistJobStatus.values)
@pytest.mark.parametrize("name", list(JOB_OPERATIONS))
def test_the_buttons_offered_match_what_the_services_allow(planned_job, make_listings, moderator, status, name):
    operation = JOB_OPERATIONS[name]
    job = planned_job([x.pk for x in make_listings(1)])
    DelistJob.objects.filter(pk=job.pk).update(status=status)

    try:
        operation.service(job_id=job.pk, actor=moderator)
    except delisting.DelistJobStateError:
        allowed = False
    else:
        allowed = True

    assert allowed == (status in operation.allowed_from)


# --- the changelist ----------------------------------------------------------------------------------


def test_changelist_actions_apply_to_each_selected_job_and_report(root_client, planned_job, make_listings):
    running = [planned_job([x.pk for x in make_listings(1)]) for _ in range(2)]
    finished = planned_job([x.pk for x in make_listings(1)])
    process(finished)
    url = reverse("admin:listings_delistjob_changelist")

    response = root_client.post(
        url, {"action": "cancel_jobs", "_selected_action": [j.pk for j in (*running, finished)]}, follow=True
    )

    assert [j.status for j in DelistJob.objects.order_by("pk")] == ["cancelled", "cancelled", "completed"]
    change = [reverse("admin:listings_delistjob_change", args=[j.pk]) for j in (*running, finished)]
    assertContains(
        response,
        f'Cancelled 2 jobs: <a href="{change[0]}">#{running[0].pk}</a>, <a href="{change[1]}">#{running[1].pk}</a>.',
    )
    assertContains(
        response, f'Not cancelled: <a href="{change[2]}">#{finished.pk}</a> (A completed job cannot be cancelled.)'
    )
    assert AuditEvent.objects.filter(action="delist_job.cancel").count() == 2


def test_changelist_actions_are_not_offered_without_the_permission(viewer_client, planned_job, make_listings):
    job = planned_job([x.pk for x in make_listings(1)])
    url = reverse("admin:listings_delistjob_changelist")

    page = viewer_client.get(url)
    viewer_client.post(url, {"action": "cancel_jobs", "_selected_action": [job.pk]})

    assertNotContains(page, "cancel_jobs")
    job.refresh_from_db()
    assert job.status == DelistJobStatus.RUNNING


def test_the_changelist_shows_progress_with_a_bounded_number_of_queries(
    root_client, planned_job, make_listings, django_assert_max_num_queries
):
    def queries() -> int:
        with django_assert_max_num_queries(12) as captured:
            response = root_client.get(reverse("admin:listings_delistjob_changelist"))
        assert response.status_code == 200
        return len(captured)

    first = planned_job([x.pk for x in make_listings(4)])
    process(first, chunks=1)
    one = queries()
    for _ in range(2):
        process(planned_job([x.pk for x in make_listings(2)]))
    three = queries()

    response = root_client.get(reverse("admin:listings_delistjob_changelist"))
    assert one == three
    assertContains(response, '<td class="field-progress">3 / 4</td>', html=True)
    assertContains(response, '<td class="field-progress">2 / 2</td>', count=2, html=True)
