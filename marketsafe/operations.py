"""What an operator checks on a running deployment: the figures `manage.py ops_status` prints.

Queue depths come from the broker (core.health.queue_depths); the rest from PostgreSQL, the source of
truth for every background job, so the figures stay right when Redis lost messages:

- the oldest pending delisting chunk of a running job, aged from its job's start (the chunks are cut
  when the job starts, so that is how long the chunk has waited);
- stalled delisting jobs: running with no chunk finished for `stalled_after` seconds (counted from the
  job's start when none has finished yet), or still planning that long after their creation. The reaper
  re-sends their work every few seconds, so a stalled job means no worker consumes "delisting", or every
  attempt fails;
- the webhook backlog: pending deliveries already due, and deliveries given up in the last day;
- filing work waiting in Celery: large filing drafts being checked or filed, and background bulk
  decisions queued or running.

Each figure has a threshold (settings `OPS_STATUS_THRESHOLDS`, overridden per run by the command's
options); `Status.breaches` names those exceeded.
"""

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models import BulkDecision, BulkDecisionState, CaseDraft, CaseDraftState
from core.health import queue_depths
from integrations.choices import DeliveryState
from integrations.models import WebhookDelivery
from listings.choices import DelistChunkState, DelistJobStatus
from listings.models import DelistChunk, DelistJob

logger = logging.getLogger(__name__)

#: Deliveries given up within this window count in the backlog (older ones were seen already).
FAILED_WEBHOOK_WINDOW = timedelta(hours=24)


def thresholds(**overrides: int | None) -> dict[str, int]:
    """settings.OPS_STATUS_THRESHOLDS, with the given values (None: not given) instead."""
    return settings.OPS_STATUS_THRESHOLDS | {name: value for name, value in overrides.items() if value is not None}


@dataclass
class Status:
    queues: dict[str, int] = field(default_factory=dict)
    oldest_pending_chunk_age: float | None = None  # seconds; None when no chunk is pending
    stalled_jobs: list[dict[str, Any]] = field(default_factory=list)
    webhooks_due: int = 0
    webhooks_failed: int = 0
    filing_drafts_pending: int = 0
    bulk_decisions_pending: int = 0
    #: What could not be read ("database", "broker"): its figures above are missing.
    unavailable: list[str] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _seconds_since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max(0.0, (now - moment).total_seconds())


def stalled_delist_jobs(*, now: datetime, stalled_after: int) -> list[dict[str, Any]]:
    """Running jobs without a finished chunk for `stalled_after` seconds, and jobs planning that long."""
    cutoff = now - timedelta(seconds=stalled_after)
    running = (
        DelistJob.objects.filter(status=DelistJobStatus.RUNNING)
        .annotate(progress_at=Coalesce(Max("chunks__finished_at"), "started_at", "created_at"))
        .filter(progress_at__lt=cutoff)
        .values_list("pk", "status", "progress_at")
    )
    planning = DelistJob.objects.filter(status=DelistJobStatus.PLANNING, created_at__lt=cutoff).values_list(
        "pk", "status", "created_at"
    )
    rows = sorted([*running, *planning])
    return [
        {"job": pk, "status": status, "seconds_without_progress": round(_seconds_since(since, now) or 0.0)}
        for pk, status, since in rows
    ]


def _read_database(status: Status, *, now: datetime, stalled_after: int) -> None:
    oldest = DelistChunk.objects.filter(state=DelistChunkState.PENDING, job__status=DelistJobStatus.RUNNING).aggregate(
        started=Min("job__started_at")
    )["started"]
    status.oldest_pending_chunk_age = _seconds_since(oldest, now)
    status.stalled_jobs = stalled_delist_jobs(now=now, stalled_after=stalled_after)
    deliveries = WebhookDelivery.objects.aggregate(
        due=Count("pk", filter=Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)),
        failed=Count("pk", filter=Q(state=DeliveryState.FAILED, created_at__gte=now - FAILED_WEBHOOK_WINDOW)),
    )
    status.webhooks_due, status.webhooks_failed = deliveries["due"], deliveries["failed"]
    status.filing_drafts_pending = CaseDraft.objects.filter(
        state__in=(CaseDraftState.CHECKING, CaseDraftState.FILING)
    ).count()
    status.bulk_decisions_pending = BulkDecision.objects.filter(
        state__in=(BulkDecisionState.QUEUED, BulkDecisionState.RUNNING)
    ).count()


def _breaches(status: Status, limits: dict[str, int]) -> list[str]:
    found = [
        f"queue {queue} holds {depth} messages (threshold {limits['max_queue_depth']})"
        for queue, depth in status.queues.items()
        if depth > limits["max_queue_depth"]
    ]
    if "database" in status.unavailable:
        return found
    age = status.oldest_pending_chunk_age
    if age is not None and age > limits["max_chunk_age"]:
        found.append(f"oldest pending delisting chunk waited {age:.0f} s (threshold {limits['max_chunk_age']})")
    counts = [
        ("stalled delisting jobs", len(status.stalled_jobs), "max_stalled_jobs"),
        ("webhook deliveries due", status.webhooks_due, "max_webhooks_due"),
        ("webhook deliveries given up in the last 24 h", status.webhooks_failed, "max_webhooks_failed"),
        ("filing drafts and bulk decisions pending", status.filing_drafts_pending + status.bulk_decisions_pending,
         "max_filing_pending"),
    ]  # fmt: skip
    found += [f"{value} {label} (threshold {limits[name]})" for label, value, name in counts if value > limits[name]]
    return found


def ops_status(*, limits: dict[str, int] | None = None) -> Status:
    """Read every figure; what cannot be read is named in `unavailable` instead of raising."""
    limits = limits or thresholds()
    status = Status()
    now = timezone.now()
    try:
        status.queues = queue_depths(settings.QUEUE_NAMES)
    except Exception:  # any broker failure: the operator sees "broker unavailable", the exit code says 1
        logger.warning("ops_status: the broker could not be read", exc_info=True)
        status.unavailable.append("broker")
    try:
        _read_database(status, now=now, stalled_after=limits["stalled_after"])
    except Exception:
        logger.warning("ops_status: the database could not be read", exc_info=True)
        status.unavailable.append("database")
    status.breaches = _breaches(status, limits)
    return status
