"""`manage.py ops_status` (marketsafe/operations.py) against the real PostgreSQL and a real Redis.

Each test points the broker at a Redis of its own (`own_redis`), so the queue depths are only what the
test sent; the rows are the state a deployment would be in (a job whose chunks wait, deliveries due).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from cases.models import BulkDecision, CaseDraft, CaseDraftState
from core.queue import send
from devtools.devenv import free_port
from integrations.choices import DeliveryState, EventType
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from integrations.tasks import deliver_webhook
from listings.choices import DelistChunkState, DelistJobStatus, DelistSelectionKind
from listings.models import DelistChunk, DelistJob
from listings.tasks import plan_delist_job
from tests.cases.test_filing_tasks import make_draft
from tests.outages import broker_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(own_redis):
    with broker_at(own_redis.url):
        yield own_redis


def ops_status(*args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `manage.py ops_status *args`."""
    out, err = StringIO(), StringIO()
    try:
        call_command("ops_status", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), str(error)
    return 0, out.getvalue(), ""


def ops_json(*args: str) -> tuple[int, dict]:
    code, out, _ = ops_status("--json", *args)
    return code, json.loads(out)


def delist_job(actor, *, status=DelistJobStatus.RUNNING, age=timedelta(minutes=20)) -> DelistJob:
    job = DelistJob.objects.create(
        idempotency_key=f"ops-{DelistJob.objects.count()}",
        selection_kind=DelistSelectionKind.SELLER,
        selection={"seller_id": 0},
        reason="Seller suspended.",
        actor=actor,
        status=status,
    )
    started = timezone.now() - age
    DelistJob.objects.filter(pk=job.pk).update(created_at=started, started_at=started)
    return job


def chunk(job: DelistJob, seq: int, state: str, finished_ago: timedelta | None = None) -> DelistChunk:
    finished_at = None if finished_ago is None else timezone.now() - finished_ago
    return DelistChunk.objects.create(
        job=job, seq=seq, listing_ids=[seq], size=1, first_listing_id=seq, last_listing_id=seq, state=state,
        finished_at=finished_at,
    )  # fmt: skip


def test_all_clear_prints_every_queue_and_exits_0(broker):
    code, out, err = ops_status()
    assert (code, err) == (0, "")
    for queue in ("delisting", "filing", "webhooks", "mail", "detection", "sweeps", "celery"):
        assert f"queue {queue}: 0 waiting" in out
    assert "oldest pending delisting chunk: none" in out
    assert "stalled delisting jobs: 0" in out


def test_json_gives_the_depth_of_each_queue(broker):
    for delivery_id in (1, 2, 3):
        assert send(deliver_webhook, delivery_id)
    assert send(plan_delist_job, 1)

    code, status = ops_json()

    assert code == 0
    assert status["queues"] == {
        "celery": 0,
        "delisting": 1,
        "detection": 0,
        "filing": 0,
        "mail": 0,
        "sweeps": 0,
        "webhooks": 3,
    }
    assert status["unavailable"] == [] and status["breaches"] == []


def test_a_queue_over_its_threshold_exits_2_naming_it(broker):
    for delivery_id in (1, 2, 3):
        assert send(deliver_webhook, delivery_id)

    code, _, message = ops_status("--max-queue-depth", "2")

    assert code == 2
    assert message == "queue webhooks holds 3 messages (threshold 2)"
    assert ops_status("--max-queue-depth", "3")[0] == 0


def test_the_oldest_pending_chunk_and_a_stalled_job_are_reported(broker, moderator):
    job = delist_job(moderator, age=timedelta(minutes=20))
    chunk(job, 1, DelistChunkState.DONE, finished_ago=timedelta(minutes=15))
    chunk(job, 2, DelistChunkState.PENDING)

    code, status = ops_json()

    assert code == 2
    assert 1200 <= status["oldest_pending_chunk_age"] < 1300
    [stalled] = status["stalled_jobs"]
    assert (stalled["job"], stalled["status"]) == (job.pk, "running")
    assert 900 <= stalled["seconds_without_progress"] < 1000
    assert len(status["breaches"]) == 2
    assert ops_status("--max-chunk-age", "3600", "--stalled-after", "1800")[0] == 0


def test_a_job_making_progress_is_not_stalled_but_one_stuck_planning_is(broker, moderator):
    moving = delist_job(moderator, age=timedelta(minutes=20))
    chunk(moving, 1, DelistChunkState.DONE, finished_ago=timedelta(seconds=10))
    chunk(moving, 2, DelistChunkState.RUNNING)
    stuck = delist_job(moderator, status=DelistJobStatus.PLANNING, age=timedelta(minutes=10))
    delist_job(moderator, status=DelistJobStatus.COMPLETED, age=timedelta(hours=2))

    code, status = ops_json()

    assert [job["job"] for job in status["stalled_jobs"]] == [stuck.pk]
    assert status["oldest_pending_chunk_age"] is None  # its chunk is running, not pending
    assert code == 2


def test_the_webhook_backlog_counts_due_and_recently_given_up_deliveries(broker, brand):
    endpoint = WebhookEndpoint.objects.create(brand=brand, url="https://hooks.example/in", secret="whsec_test")
    now = timezone.now()
    states = [
        (DeliveryState.PENDING, now - timedelta(minutes=5)),
        (DeliveryState.PENDING, now - timedelta(seconds=1)),
        (DeliveryState.PENDING, now + timedelta(minutes=5)),  # not due yet
        (DeliveryState.FAILED, now),
        (DeliveryState.SUCCEEDED, now),
    ]
    for state, next_attempt_at in states:
        event = WebhookEvent.objects.create(type=EventType.values[0], brand=brand, payload={})
        WebhookDelivery.objects.create(event=event, endpoint=endpoint, state=state, next_attempt_at=next_attempt_at)
    old_failure = WebhookDelivery.objects.create(
        event=WebhookEvent.objects.create(type=EventType.values[0], brand=brand, payload={}),
        endpoint=endpoint,
        state=DeliveryState.FAILED,
    )
    WebhookDelivery.objects.filter(pk=old_failure.pk).update(created_at=now - timedelta(days=2))

    code, status = ops_json()
    assert (status["webhooks_due"], status["webhooks_failed"]) == (2, 1)
    assert code == 0
    assert ops_status("--max-webhooks-due", "1")[0] == 2


def test_pending_filing_drafts_and_bulk_decisions_are_counted(broker, brand, reporter, right, marketplace, settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 1}
    checking, filing, ready = (make_draft(brand=brand, reporter=reporter, right=right, count=2) for _ in range(3))
    CaseDraft.objects.filter(pk=filing.pk).update(state=CaseDraftState.FILING)
    CaseDraft.objects.filter(pk=ready.pk).update(state=CaseDraftState.READY)
    BulkDecision.objects.create(actor=reporter, decision="accept", item_ids=[1, 2])
    BulkDecision.objects.create(actor=reporter, decision="accept", item_ids=[3], state=BulkDecision.State.DONE)

    code, out, _ = ops_status("--max-filing-pending", "2")

    assert CaseDraft.objects.get(pk=checking.pk).state == CaseDraftState.CHECKING
    assert "filing drafts pending: 2" in out
    assert "bulk decisions pending: 1" in out
    assert code == 2


def test_an_unreachable_broker_exits_1_and_still_prints_the_database_figures(broker):
    broker.stop()

    code, out, message = ops_status()

    assert code == 1
    assert message == "could not read: broker"
    assert "queues: broker unavailable" in out
    assert "stalled delisting jobs: 0" in out


@contextmanager
def database_unreachable() -> Iterator[None]:
    """The default connection pointed at a local port where nothing listens: a real refused connection."""
    saved = {**connection.settings_dict, "OPTIONS": {**connection.settings_dict["OPTIONS"]}}
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()), OPTIONS={"connect_timeout": 2})
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_exits_1_and_still_prints_the_queues(broker):
    assert send(deliver_webhook, 1)

    with database_unreachable():
        code, out, message = ops_status()

    assert code == 1
    assert message == "could not read: database"
    assert "queue webhooks: 1 waiting" in out
    assert "database unavailable" in out
