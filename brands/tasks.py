"""Celery tasks of the brands app: thin wrappers around one service.

The nightly check retries with back-off when the database is unavailable (`core.queue`); memberships
it already checked that night are skipped on the retry.
"""

from celery import shared_task

from brands.services import monitoring
from core.locks import run_exclusively
from core.queue import RETRY_ON_DATABASE_ERRORS


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def monitor_program_memberships() -> dict[str, int] | None:
    """The MarketSafe members' nightly check (accuracy warnings and suspensions, renewal reminders, lapses);
    beat runs it once a night. None when the previous run is still going."""
    with run_exclusively("brands.tasks.monitor_program_memberships") as acquired:
        return monitoring.memberships_monitor() if acquired else None
