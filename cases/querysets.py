"""Brand-scoped querysets for cases and their children."""

from typing import Self

from cases.choices import ITEM_OPEN_STATUSES
from core.tenancy import BrandScopedQuerySet


class CaseQuerySet(BrandScopedQuerySet):
    brand_path = "brand"


class CaseItemQuerySet(BrandScopedQuerySet):
    # Items carry their brand (denormalised from the case), so scoping needs no join through the case.
    brand_path = "brand"

    def open(self) -> Self:
        """Items still waiting for a first decision."""
        return self.filter(status__in=ITEM_OPEN_STATUSES)


class CaseChildQuerySet(BrandScopedQuerySet):
    brand_path = "case__brand"


class CaseItemChildQuerySet(BrandScopedQuerySet):
    brand_path = "item__brand"
