"""The outbox hook: how a domain service announces a change to whoever must hear of it, without knowing them.

A service calls `publish(topic, objects, ...)` inside the transaction that made the change. Subscribers
are registered once at start-up by the apps above (`subscribe` in an `AppConfig.ready`), and each writes
its own rows in that same transaction: the integrations app writes webhook events and deliveries, which are
committed or rolled back with the change itself (a transactional outbox), then handed to Celery on commit.

Topics are plain strings owned by the publishing app (e.g. `cases.choices.ITEM_STATUS_CHANGED`).
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

Subscriber = Callable[..., Any]

_subscribers: defaultdict[str, list[Subscriber]] = defaultdict(list)


def subscribe(topic: str, subscriber: Subscriber) -> None:
    """Call `subscriber(objects, **details)` for every `publish` of `topic` (once, however often it is registered)."""
    if subscriber not in _subscribers[topic]:
        _subscribers[topic].append(subscriber)


def publish(topic: str, objects: Sequence[Any], **details: Any) -> None:
    """Announce that `objects` changed; call inside the transaction that changed them."""
    if not objects:
        return
    for subscriber in _subscribers.get(topic, ()):
        subscriber(objects, **details)
