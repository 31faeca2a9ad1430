"""Tenant-scoped querysets for cases and their children: by brand (`for_user`/`for_brand`) and, for the
rows a marketplace acts on (cases, items and the items' notices, appeals and statements), by the
marketplace of the reported listings (`for_marketplace`)."""

from datetime import datetime
from typing import Self

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, OrderBy, Q
from django.utils import timezone

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

    def in_queue_order(self, *, now: datetime | None = None) -> Self:
        """In the review queue's order (`queue_ordering`)."""
        return self.order_by(*queue_ordering(now=now))


def queue_ordering(*, now: datetime | None = None) -> tuple[str | OrderBy, ...]:
    """The review queue's order, for the items waiting for a first decision:

    1. lane: the expedited lane (MarketSafe members) before the standard lane;
    2. deferred last: an item a live "lower priority" risk rule hit (`priority_lowered`) whose SLA is due
       later than `QUEUE_LOWERED_PRIORITY_GUARD` from now goes behind every other item of its lane;
    3. SLA due time, earliest first; then the item id.

    So a lowered item moves down its lane's queue while its deadline is far, and once its SLA is within
    the guard it is ordered by SLA due time like any other item: near its deadline it comes before the
    items due after it, and lowering never delays it past its SLA. Evaluated per request (`now`), not
    stored: the flag is the only thing written on the item.
    """
    horizon = (now or timezone.now()) + settings.MARKETSAFE["QUEUE_LOWERED_PRIORITY_GUARD"]
    deferred = ExpressionWrapper(Q(priority_lowered=True, sla_due_at__gt=horizon), output_field=BooleanField())
    # False sorts before True: the deferred items last.
    return ("lane", deferred.asc(), "sla_due_at", "pk")


class CaseChildQuerySet(BrandScopedQuerySet):
    brand_path = "case__brand"


class CaseItemChildQuerySet(BrandScopedQuerySet, MarketplaceScopedQuerySet):
    brand_path = "item__brand"
    marketplace_path = "item__listing__marketplace"
