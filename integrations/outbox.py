"""The subscribers to `cases.choices.ITEM_STATUS_CHANGED` and `detection.choices.WATCH_MATCHED` (see
`core.outbox`): they write the transactional outbox.

Inside the caller's transaction, each status change becomes one `WebhookEvent` row (whose `txid` records
the transaction) and one `WebhookDelivery` row per active endpoint that may see it: the item's brand's
endpoints and the endpoints of the listing's marketplace. The deliveries are handed to Celery only when
the transaction commits, so a rolled-back change notifies nobody, and a committed one cannot be lost: a
message lost on the way is re-queued by the sweep from the rows.

This module knows the case item only as an object with the fields it reads.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Q
from django.utils import timezone

from core.queue import send_on_commit
from integrations.choices import EventType
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def item_event_payload(item: Any, *, from_status: str, event_id: str, occurred_at: Any) -> dict[str, Any]:
    """The JSON receivers get: the item's new state and its listing, and no personal data."""
    listing = item.listing
    return {
        "id": event_id,
        "type": EventType.ITEM_STATUS_CHANGED.value,
        "created": _iso(occurred_at),
        "data": {
            "item": {
                "id": item.pk,
                "case_id": item.case_id,
                "brand_id": item.brand_id,
                "status": item.status,
                "previous_status": from_status or None,
                "reason_code": item.reason_code,
                "lane": item.lane,
                "rejection_code": item.rejection_code or None,
                "decided_at": _iso(item.decided_at),
                "counter_notice_due_at": _iso(item.counter_notice_due_at),
                "brand_answer_due_at": _iso(item.brand_answer_due_at),
                "appeal_until": _iso(item.appeal_until),
                "status_changed_at": _iso(item.status_changed_at),
            },
            "listing": {
                "id": listing.pk,
                "marketplace_id": listing.marketplace_id,
                "external_id": listing.external_id,
                "url": listing.url,
            },
        },
    }


def outbox_item_status_changed(items: Sequence[Any], *, from_status: str | Iterable[str] = "") -> list[WebhookEvent]:
    """Record that `items` (case items with their `listing` loaded) moved from `from_status` to their status.

    Call inside the transaction that changed them. Returns the events (one per item).
    """
    if not items:
        return []
    olds = [from_status] * len(items) if isinstance(from_status, str) else list(from_status)
    now = timezone.now()
    events = []
    for item, old in zip(items, olds, strict=True):
        event = WebhookEvent(
            type=EventType.ITEM_STATUS_CHANGED,
            brand_id=item.brand_id,
            marketplace_id=item.listing.marketplace_id,
            item_id=item.pk,
            from_status=old,
            to_status=item.status,
            occurred_at=now,
        )
        event.payload = item_event_payload(item, from_status=old, event_id=str(event.uuid), occurred_at=now)
        events.append(event)
    WebhookEvent.objects.bulk_create(events)
    _queue_deliveries(events)
    return events


def watch_match_payload(match: Any, *, event_id: str, occurred_at: Any) -> dict[str, Any]:
    """A brand watch match as receivers get it: the search's id and name, and the listing found."""
    listing = match.listing
    return {
        "id": event_id,
        "type": EventType.WATCH_MATCH.value,
        "created": _iso(occurred_at),
        "data": {
            "match": {
                "id": match.pk,
                "brand_id": match.brand_id,
                "search_id": match.search_id,
                "search_name": match.search.name,
                "state": match.state,
                "matched": match.signals.get("matched", []),
                "image_distance": match.signals.get("image_distance"),
            },
            "listing": {
                "id": listing.pk,
                "marketplace_id": listing.marketplace_id,
                "external_id": listing.external_id,
                "url": listing.url,
                "title": listing.title,
                "price": None if listing.price is None else str(listing.price),
                "currency": listing.currency,
            },
        },
    }


def outbox_watch_matched(matches: Sequence[Any], **details: Any) -> list[WebhookEvent]:
    """Record one `watch.match` event per new brand watch match (with its `listing` and `search` loaded), for
    the brand's endpoints only: a brand's searches are its own, so the event carries no marketplace."""
    now = timezone.now()
    events = []
    for match in matches:
        event = WebhookEvent(type=EventType.WATCH_MATCH, brand_id=match.brand_id, occurred_at=now)
        event.payload = watch_match_payload(match, event_id=str(event.uuid), occurred_at=now)
        events.append(event)
    WebhookEvent.objects.bulk_create(events)
    _queue_deliveries(events)
    return events


def _queue_deliveries(events: Sequence[WebhookEvent]) -> None:
    brand_ids = {e.brand_id for e in events if e.brand_id}
    marketplace_ids = {e.marketplace_id for e in events if e.marketplace_id}
    endpoints = list(
        WebhookEndpoint.objects.active()
        .filter(Q(brand_id__in=brand_ids) | Q(marketplace_id__in=marketplace_ids))
        .values_list("pk", "brand_id", "marketplace_id")
    )
    if not endpoints:
        return
    deliveries = [
        WebhookDelivery(event=event, endpoint_id=pk)
        for event in events
        for pk, brand_id, marketplace_id in endpoints
        if (brand_id and brand_id == event.brand_id) or (marketplace_id and marketplace_id == event.marketplace_id)
    ]
    WebhookDelivery.objects.bulk_create(deliveries)
    enqueue_on_commit([d.pk for d in deliveries])


def enqueue_on_commit(delivery_ids: list[int]) -> None:
    """After the commit, one message hands all the deliveries to Celery (the task fans them out); with the
    broker down, the sweep sends them from their rows once it is back."""
    if not delivery_ids:
        return
    from integrations.tasks import dispatch_webhook_deliveries  # the tasks import the services

    send_on_commit(dispatch_webhook_deliveries, delivery_ids)
