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


class CaseChildQuerySet(BrandScopedQuerySet):
    brand_path = "case__brand"


class CaseItemChildQuerySet(BrandScopedQuerySet, MarketplaceScopedQuerySet):
    brand_path = "item__brand"
    marketplace_path = "item__listing__marketplace"
