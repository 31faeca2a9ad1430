"""Celery tasks of the brands app: thin wrappers around one service."""

from celery import shared_task

from brands.services import monitoring
from core.locks import run_exclusively


@shared_task
def monitor_program_memberships() -> dict[str, int] | None:
    """The MarketSafe members' nightly check (accuracy warnings and suspensions, renewal reminders, lapses);
    beat runs it once a night. None when the previous run is still going."""
    with run_exclusively("brands.tasks.monitor_program_memberships") as acquired:
        return monitoring.memberships_monitor() if acquired else None
