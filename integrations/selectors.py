"""Reads of the integration app: the marketplace's decisions feed and webhook delivery lists.

The decisions feed walks the outbox (`WebhookEvent`) by (txid, id) after the client's cursor, and only
over events whose transaction id is below the *horizon*: the smallest transaction id still running in
this database (or, with none running, the next id to be handed out). An id alone would not do: ids are
taken when a row is written, not when it commits, so a long transaction can commit a smaller id after a
reader has moved past it, and that decision would never be read. Below the horizon every transaction has
finished, and every transaction still to commit has a larger id, so nothing can appear behind the cursor
later. The price is latency, never loss: the feed waits while a writing transaction is open.

The horizon is read from `pg_stat_activity` for this database only, not from the cluster-wide
`pg_snapshot_xmin`, so transactions of other databases on the same server do not hold the feed back.
That needs the portal's connections to see each other's `backend_xid`, which they do when they share
one database role (the usual set-up). No OFFSET: each page is an index range scan
(`webhookevent_feed_idx`).
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet

from cases.choices import ItemStatus
from integrations.choices import EventType
from integrations.models import WebhookDelivery, WebhookEvent

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


class BadCursor(ValidationError):
    """A cursor this API did not return: invalid input of the `cursor` parameter (the API's 400 `invalid`
    with `errors.cursor`, from the error shape's mapping of Django's `ValidationError`)."""

    def __init__(self, message: str) -> None:
        super().__init__({"cursor": message})


def encode_cursor(txid: int, event_id: int) -> str:
    return f"{txid}-{event_id}"


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        txid, event_id = (int(part) for part in cursor.split("-"))
    except ValueError as exc:
        raise BadCursor("The cursor is not one this API returned.") from exc
    return txid, event_id


def widen_xid(xid: int, next_xid: int) -> int:
    """The 64-bit id of a running transaction from its 32-bit `backend_xid` and the next 64-bit id: in the
    next id's epoch, or the previous one when the xid is above the next id's low half (it wrapped since)."""
    epoch, low = next_xid >> 32, next_xid & 0xFFFFFFFF
    return ((epoch - 1 if xid > low else epoch) << 32) | xid


def feed_horizon() -> int:
    """The smallest transaction id that may still commit in this database (see the module's docstring)."""
    with connection.cursor() as cursor:
        # The next id first: whatever starts after this has a larger one, whichever backends we see next.
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        next_xid = int(cursor.fetchone()[0])
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh activity, not the transaction's cached copy
        cursor.execute(
            "SELECT backend_xid::text::bigint FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_xid IS NOT NULL"
        )
        running = [widen_xid(int(xid), next_xid) for (xid,) in cursor.fetchall()]
    return min([next_xid, *running])


@dataclass(frozen=True)
class FeedPage:
    events: list[WebhookEvent]
    next_cursor: str
    has_more: bool


def decisions_feed(*, marketplace: Any, cursor: str | None, limit: int) -> FeedPage:
    """Decisions on the marketplace's listings after `cursor` (from the beginning when None)."""
    after = decode_cursor(cursor) if cursor else (0, 0)
    rows = list(
        WebhookEvent.objects.for_marketplace(marketplace)
        .filter(
            type=EventType.ITEM_STATUS_CHANGED,
            to_status__in=DECISION_STATUSES,
            txid__lt=feed_horizon(),
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
