"""Celery tasks of the safeguards app: take ids, call one service."""

from celery import shared_task

from core.queue import DATABASE_UNAVAILABLE, RETRY_ON_DATABASE_ERRORS
from safeguards.services import audits, backtests


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def run_backtest(backtest_id: int) -> str | None:
    """Run a rule's backtest over the decided items, with progress on the backtest row."""
    try:
        backtest = backtests.backtest_run(backtest_id=backtest_id)
    except DATABASE_UNAVAILABLE:
        raise  # retried: the run resumes after its last batch
    except Exception:
        backtests.backtest_fail(backtest_id=backtest_id, error="The backtest stopped on an error; start it again.")
        raise
    return backtest.state if backtest else None


@shared_task(**RETRY_ON_DATABASE_ERRORS)
def draw_weekly_audit() -> int:
    """Monday's draw of last week's audit sample (idempotent: a second run returns the same round)."""
    return audits.audit_round_draw(week=audits.last_week()).pk
