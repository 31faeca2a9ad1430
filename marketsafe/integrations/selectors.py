"""Reads of the integration app: the marketplace's decisions feed and webhook delivery lists.

The decisions feed walks the outbox (`WebhookEvent`) by (txid, id) after the client's cursor, and only
over events whose transaction is older than every transaction still running
(`pg_snapshot_xmin(pg_current_snapshot())`). An id alone would not do: ids are taken when a row is
written, not when it commits, so a long transaction can commit a smaller id after a reader has moved
past it, and that decision would never be read. A transaction id below the snapshot's xmin belongs to
a finished transaction, and every transaction still to commit has a larger one, so nothing can appear
behind the cursor later. No OFFSET: each page is an index range scan (`webhookevent_feed_idx`).
"""

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from cases.choices import ItemStatus
from marketsafe.integrations.choices import EventType
from marketsafe.integrations.models import WebhookDelivery, WebhookEvent

#: The statuses a marketplace acts on or reports: decisions, their reversal and their finality.
DECISION_STATUSES = (
    ItemStatus.ACCEPTED,
    ItemStatus.REJECTED,
    ItemStatus.CLARIFICATION_REQUESTED,
    ItemStatus.UPHELD,
    ItemStatus.FINAL,
    ItemStatus.REINSTATED,
    ItemStatus.WITHDRAWN,
    ItemStatus.APPEALED,
    ItemStatus.COUNTER_NOTICED,
)


class BadCursor(ValueError):
    pass


def encode_cursor(txid: int, event_id: int) -> str:
    return f"{txid}-{event_id}"


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        txid, event_id = (int(part) for part in cursor.split("-"))
    except ValueError as exc:
        raise BadCursor("The cursor is not one this API returned.") from exc
    return txid, event_id


def _snapshot_xmin() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return int(cursor.fetchone()[0])


@dataclass(frozen=True)
class FeedPage:
    events: list[WebhookEvent]
    next_cursor: str
    has_more: bool


def decisions_feed(*, marketplace: Any, cursor: str | None, limit: int) -> FeedPage:
    """Decisions on the marketplace's listings after `cursor` (from the beginning when None)."""
    after = decode_cursor(cursor) if cursor else (0, 0)
    rows = list(
        WebhookEvent.objects.filter(
            marketplace=marketplace,
            type=EventType.ITEM_STATUS_CHANGED,
            to_status__in=DECISION_STATUSES,
            txid__lt=_snapshot_xmin(),
        )
        .filter(Q(txid__gt=after[0]) | Q(txid=after[0], id__gt=after[1]))
        .order_by("txid", "id")[: limit + 1]
    )
    events, has_more = rows[:limit], len(rows) > limit
    last = events[-1] if events else None
    next_cursor = encode_cursor(last.txid, last.pk) if last else encode_cursor(*after)
    return FeedPage(events=events, next_cursor=next_cursor, has_more=has_more)


def endpoint_deliveries(endpoint_id: int) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, with the event (for its type)."""
    return (
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id).select_related("event").order_by("-created_at", "-id")
    )
