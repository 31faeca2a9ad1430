"""Celery tasks of the integration app: thin wrappers around `integrations.services`.

The delivery rows decide, never the message: a duplicate message finds the delivery already sent or
not yet due and does nothing. Retries are scheduled by the task itself (a countdown message after the
back-off) and, should that message be lost, by the sweep that beat runs every minute. A database outage
makes the delivery task retry with back-off (`core.queue.RETRY_ON_DATABASE_ERRORS`); the attempt's row
lock and state check make a retry after a half-done attempt safe.
"""

from datetime import timedelta

from celery import shared_task

from core.locks import run_exclusively
from core.queue import RETRY_ON_DATABASE_ERRORS
from integrations import services

#: Longer waits are left to the sweep: a countdown message held past the broker's visibility timeout
#: (an hour) would be handed out again and again by the Redis transport.
LONGEST_COUNTDOWN = timedelta(minutes=30)


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def deliver_webhook(delivery_id: int) -> str | None:
    result = services.delivery_attempt(delivery_id=delivery_id)
    if result is None:
        return None
    if result.retry_in is not None and result.retry_in <= LONGEST_COUNTDOWN:
        deliver_webhook.apply_async((delivery_id,), countdown=result.retry_in.total_seconds())
    return result.state


@shared_task
def dispatch_webhook_deliveries(delivery_ids: list[int]) -> int:
    """Fan out the deliveries one transaction created, one task each (so each retries on its own)."""
    for delivery_id in delivery_ids:
        deliver_webhook.delay(delivery_id)
    return len(delivery_ids)


@shared_task
def sweep_webhook_deliveries() -> int | None:
    """Re-queue due deliveries whose message was lost; None when the previous sweep still runs."""
    with run_exclusively("integrations.tasks.sweep_webhook_deliveries") as acquired:
        if not acquired:
            return None
        due = services.deliveries_due()
        for delivery_id in due:
            deliver_webhook.delay(delivery_id)
        return len(due)
