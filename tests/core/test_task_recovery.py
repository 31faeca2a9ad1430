"""The Celery tasks that do real work survive a killed worker and a database outage (issue 12, point 6).

Every such task is acknowledged late and re-queued when its worker dies (so a killed worker's task runs
again at once), and retries with back-off on a database error instead of failing its message; the
sweeps that re-send lost work from PostgreSQL run every minute. That each task is safe to run twice is
tested with each task (test_filing_tasks, test_deadlines, test_program, test_webhooks); here, that a
database error in the nightly check reaches Celery's retry instead of being counted and dropped.
"""

from datetime import timedelta

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from brands.models import ProgramMembership
from brands.tasks import monitor_program_memberships
from cases.tasks import apply_item_deadlines, file_case_draft, preview_case_draft, run_bulk_decision
from integrations.tasks import deliver_webhook
from marketsafe.celery import app
from tests import factories
from tests.concurrency import held_in_another_session

REAL_WORK = [
    preview_case_draft,
    file_case_draft,
    run_bulk_decision,
    apply_item_deadlines,
    monitor_program_memberships,
    deliver_webhook,
]
SWEEPS = ["sweep-case-drafts", "sweep-bulk-decisions", "sweep-webhook-deliveries", "sweep-outgoing-email"]


@pytest.mark.parametrize("task", REAL_WORK, ids=lambda task: task.name)
def test_a_task_that_does_real_work_is_redelivered_after_a_worker_loss_and_retried_on_database_errors(task):
    assert task.acks_late is True
    assert task.reject_on_worker_lost or app.conf.task_reject_on_worker_lost
    assert {OperationalError, InterfaceError} <= set(task.autoretry_for)
    assert task.retry_backoff and task.retry_backoff_max <= 60
    assert task.max_retries >= 10


@pytest.mark.parametrize("name", SWEEPS)
def test_the_sweeps_that_resend_lost_work_run_every_minute(name):
    assert app.conf.beat_schedule[name]["schedule"] <= 60


@pytest.mark.django_db(transaction=True)
def test_a_database_error_in_the_nightly_check_is_retried_not_counted_as_a_failure(brand):
    member = factories.ProgramMembershipFactory(brand=brand, renews_on=timezone.localdate() + timedelta(days=200))
    # A reviewer's decision in progress, in its own connection.
    with held_in_another_session(lambda: ProgramMembership.objects.select_for_update().get(pk=member.pk)):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")  # PostgreSQL refuses the wait: a real OperationalError
            with pytest.raises(OperationalError):
                monitor_program_memberships()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")

    assert monitor_program_memberships()["checked"] == 1  # the retry
    assert monitor_program_memberships()["checked"] == 0  # and once only
    member.refresh_from_db()
    assert member.checked_on == timezone.localdate()
