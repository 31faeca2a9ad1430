"""Issue 12, point 4 for moderators' background decisions: the decision commits and answers while the
broker is down, the sweep sends it once the broker is back, and running it again (a second delivery, or
after its worker died half-way) decides no item twice.

The broker is a Redis of the test's own, stopped for real (`tests.outages`); transactions are real
(`transaction=True`) so the publish runs on the request's commit as in production, and the claim lock is
a real PostgreSQL advisory lock held by another connection.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases import services
from cases import tasks as case_tasks
from cases.admin.forms import AcceptForm
from cases.choices import ItemStatus
from cases.models import BulkDecision
from core import queue
from core.audit.models import AuditEvent
from core.locks import claim_is_free, lock_key
from listings.choices import ListingStatus
from tests.cases import test_admin_console as console
from tests.cases.test_admin_queue import apply_decision
from tests.concurrency import held_in_another_session
from tests.integrations.test_broker_outage import broker_warnings, queued_tasks
from tests.outages import broker_at
from tests.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

staff_groups, staff, client_for, item_in = console.staff_groups, console.staff, console.client_for, console.item_in
refreshed, broker_warnings = console.refreshed, broker_warnings

S = ItemStatus


@pytest.fixture
def few(settings):
    """Background decisions from 3 items on (the default is a few dozen)."""
    settings.MARKETSAFE = {**settings.MARKETSAFE, "ADMIN_BACKGROUND_DECISION_MIN": 2}


UNREACHABLE = "The queue (the Celery broker) is unreachable"


def decision_events(items) -> int:
    return AuditEvent.objects.filter(action__startswith="item.", target_id__in=[item.pk for item in items]).count()


def age(bulk: BulkDecision) -> None:
    """As if the decision had been recorded (or last re-sent) longer ago than the sweep waits."""
    BulkDecision.objects.filter(pk=bulk.pk).update(
        updated_at=timezone.now() - services.bulk.BULK_UNSTARTED_AFTER - timedelta(seconds=1)
    )


def test_a_background_decision_taken_while_the_broker_is_down_answers_and_the_sweep_sends_it_once(
    few, own_redis, client_for, item_in, broker_warnings, monkeypatch
):
    monkeypatch.setattr(queue, "BROKER_CHECK_SECONDS", 0)  # each page asks the broker again
    items = [item_in(S.SUBMITTED) for _ in range(3)]
    client = client_for("moderator")

    with broker_at(own_redis.url):
        own_redis.stop()
        response = apply_decision(client, "accept_items", items, AcceptForm, "accept", message="Counterfeits.")

        bulk = BulkDecision.objects.get()
        assert response.status_code == 200 and "0 of 3 items processed" in response.content.decode()
        assert UNREACHABLE in response.content.decode()  # the progress page says why nothing moves
        assert bulk.state == BulkDecision.State.QUEUED
        [warning] = [warning for warning in broker_warnings() if "not sent" in warning]
        assert "cases.tasks.run_bulk_decision" in warning

        own_redis.start()
        assert UNREACHABLE not in client.get(response.redirect_chain[-1][0]).content.decode()
        assert case_tasks.sweep_bulk_decisions() == 0  # too early to call it lost
        age(bulk)
        assert case_tasks.sweep_bulk_decisions() == 1
        assert case_tasks.sweep_bulk_decisions() == 0  # not re-sent while its message waits

    assert queued_tasks(own_redis) == [("cases.tasks.run_bulk_decision", f"('{bulk.pk}',)")]
    assert case_tasks.run_bulk_decision(str(bulk.pk)) == BulkDecision.State.DONE  # what the worker does
    assert {refreshed(item).status for item in items} == {S.ACCEPTED}
    assert {refreshed(item).listing.status for item in items} == {ListingStatus.REMOVED}
    events = decision_events(items)

    assert case_tasks.run_bulk_decision(str(bulk.pk)) is None  # a second delivery changes nothing
    assert decision_events(items) == events
    bulk.refresh_from_db()
    assert (bulk.state, sorted(bulk.done_ids), bulk.refused) == (
        BulkDecision.State.DONE,
        sorted(item.pk for item in items),
        {},
    )


def test_a_decision_whose_worker_died_is_resent_and_resumed_after_its_last_saved_batch(few, item_in, staff):
    items = [item_in(S.SUBMITTED) for _ in range(3)]
    bulk = services.bulk_decision_start(
        actor=staff["moderator"], decision="reject", item_ids=[item.pk for item in items], code="duplicate"
    )
    # A worker decided the first item, saved that progress and died: RUNNING, and nobody holds its claim.
    services.item_reject(item_id=items[0].pk, actor=staff["moderator"], code="duplicate")
    BulkDecision.objects.filter(pk=bulk.pk).update(
        state=BulkDecision.State.RUNNING, done_ids=[items[0].pk], items_done=1
    )
    events = decision_events(items)

    assert services.bulk_decisions_sweep() == 1  # a dead claim is re-sent at once
    assert case_tasks.run_bulk_decision(str(bulk.pk)) == BulkDecision.State.DONE

    bulk.refresh_from_db()
    assert bulk.refused == {}  # the first item was not tried again (it would be refused as decided)
    assert sorted(bulk.done_ids) == sorted(item.pk for item in items)
    assert {refreshed(item).status for item in items} == {S.REJECTED}
    assert decision_events(items) == events + 2


def test_a_decision_whose_worker_is_alive_is_left_to_it(few, item_in, staff):
    item = item_in(S.SUBMITTED)
    bulk = services.bulk_decision_start(actor=staff["moderator"], decision="clarify", item_ids=[item.pk], message="?")
    BulkDecision.objects.filter(pk=bulk.pk).update(state=BulkDecision.State.RUNNING)

    def claim() -> None:  # in its own database session, as a running worker does
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key(services.bulk.bulk_claim_name(str(bulk.pk)))])

    with held_in_another_session(claim):
        assert services.bulk_decisions_sweep() == 0
        assert case_tasks.run_bulk_decision(str(bulk.pk)) is None  # a redelivered message does nothing
        assert refreshed(item).status == S.SUBMITTED

    # The other session has closed; PostgreSQL lets its locks go as that backend exits, a moment later.
    name = services.bulk.bulk_claim_name(str(bulk.pk))
    wait_until(lambda: claim_is_free(name), "the closed session's lock to be let go")
    assert services.bulk_decisions_sweep() == 1  # the worker's session is gone: its claim is dead
