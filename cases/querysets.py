"""Tenant-scoped querysets for cases and their children: by brand (`for_user`/`for_brand`) and, for the
rows a marketplace acts on (cases, items and the items' notices, appeals and statements), by the
marketplace of the reported listings (`for_marketplace`)."""

from typing import Self

from cases.choices import ITEM_OPEN_STATUSES
from core.tenancy import BrandScopedQuerySet, MarketplaceScopedQuerySet


class CaseQuerySet(BrandScopedQuerySet, MarketplaceScopedQuerySet):
    brand_path = "brand"
    # A case is a marketplace's when one of its items is on that marketplace.
    marketplace_path = "items__listing__marketplace"


class CaseItemQuerySet(BrandScopedQuerySet, MarketplaceScopedQuerySet):
    # Items carry their brand (denormalised from the case), so scoping needs no join through the case.
    brand_path = "brand"
    marketplace_path = "listing__marketplace"

    def open(self) -> Self:
        """Items still waiting for a first decision."""
        return self.filter(status__in=ITEM_OPEN_STATUSES)

    def in_queue_order(self) -> Self:
        """In the review queue's order (`QUEUE_ORDERING`)."""
        return self.order_by(*QUEUE_ORDERING)


#: The review queue's order, for the items waiting for a first decision:
#:
#: 1. lane: the expedited lane (MarketSafe members) before the standard lane;
#: 2. `priority_lowered`: an item a live "lower priority" risk rule hit goes behind every other item of its
#:    lane, but only while its SLA is due later than `QUEUE_LOWERED_PRIORITY_GUARD` (4 hours) from now: it is
#:    lowered only then, and the deadline sweep (every 5 minutes) gives its place back once its SLA is that
#:    close (`cases.services.priority`);
#: 3. SLA due time, earliest first; then the item id.
#:
#: So a lowered item moves down its lane's queue while its deadline is far, and near it is ordered by SLA due
#: time like any other: lowering never delays it past its SLA. All stored columns, so the partial index
#: `item_queue_priority_idx` serves the order (a condition on the time at query time made every page sort
#: all the queued items: 1.2 s instead of 45 ms with 228,000 of them).
QUEUE_ORDERING = ("lane", "priority_lowered", "sla_due_at", "pk")


class CaseChildQuerySet(BrandScopedQuerySet):
    brand_path = "case__brand"


class CaseItemChildQuerySet(BrandScopedQuerySet, MarketplaceScopedQuerySet):
    brand_path = "item__brand"
    marketplace_path = "item__listing__marketplace"
