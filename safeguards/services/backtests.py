"""Backtests: a rule version run over the items already decided, in the background with progress, and
scored against the decisions actually taken (how many accepted, rejected, reinstated items it would hit).

The run walks the decided items in primary-key ranges (never OFFSET), reads only the fields the rule
reads, and saves its progress after each batch; a resumed run goes on after `last_item_id`."""

from typing import Any

import rule_engine
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from cases.choices import ITEM_REMOVAL_STATUSES, ItemStatus
from cases.models import CaseItem
from core.locks import run_exclusively
from core.queue import send_on_commit
from safeguards.choices import BacktestState
from safeguards.expressions import matches, symbols_read, values_for
from safeguards.models import Backtest, RuleVersion
from safeguards.services.evaluation import compiled
from safeguards.services.rules import WRITE_PERMISSION

#: Items read and evaluated between two progress updates.
BATCH = 5_000
#: The decisions a backtest is scored against, by the counter they add to.
SCORED = {
    **dict.fromkeys(ITEM_REMOVAL_STATUSES, "matched_accepted"),
    ItemStatus.REJECTED: "matched_rejected",
    ItemStatus.REINSTATED: "matched_reinstated",
}


def decided_items():
    return CaseItem.objects.filter(status__in=list(SCORED))


@transaction.atomic
def backtest_start(*, version_id: int, actor: Any) -> Backtest:
    """Queue a backtest of a rule version over every decided item (leads only)."""
    if not actor.has_perm(WRITE_PERMISSION):
        raise PermissionDenied("Only moderation leads backtest risk rules.")
    version = RuleVersion.objects.get(pk=version_id)
    backtest = Backtest.objects.create(version=version, started_by=actor, items_total=decided_items().count())
    from safeguards.tasks import run_backtest  # tasks import this module

    send_on_commit(run_backtest, backtest.pk)
    return backtest


def backtest_run(*, backtest_id: int, batch: int = BATCH) -> Backtest | None:
    """Run (or resume) a backtest to its end; one run at a time per backtest."""
    with run_exclusively(f"safeguards.backtest:{backtest_id}") as acquired:
        if not acquired:
            return None
        backtest = Backtest.objects.select_related("version").get(pk=backtest_id)
        if backtest.state in (BacktestState.DONE, BacktestState.FAILED):
            return backtest
        rule = compiled(backtest.version)
        symbols = symbols_read(rule)
        backtest.state = BacktestState.RUNNING
        backtest.save(update_fields=["state"])
        while True:
            ids = list(
                decided_items().filter(pk__gt=backtest.last_item_id).order_by("pk").values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            values = values_for(ids, symbols, "status")
            for item_values in values.values():
                try:
                    hit = matches(rule, item_values)
                except rule_engine.errors.EngineError:
                    backtest.errors += 1
                    continue
                if hit:
                    backtest.matched += 1
                    counter = SCORED[item_values["status"]]
                    setattr(backtest, counter, getattr(backtest, counter) + 1)
            backtest.items_done += len(ids)
            backtest.last_item_id = ids[-1]
            backtest.save()
        backtest.state, backtest.finished_at = BacktestState.DONE, timezone.now()
        backtest.items_total = max(backtest.items_total, backtest.items_done)
        backtest.save()
        return backtest


def backtest_fail(*, backtest_id: int, error: str) -> None:
    Backtest.objects.filter(pk=backtest_id).exclude(state=BacktestState.DONE).update(
        state=BacktestState.FAILED, error=error, finished_at=timezone.now()
    )
