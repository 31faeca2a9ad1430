"""Reusable reads of marketplace data, scoped by marketplace (`core.tenancy.MarketplaceScopedQuerySet`)."""

from datetime import datetime
from typing import Self

from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.tenancy import MarketplaceScopedQuerySet
from listings.choices import LISTING_LIVE_STATUSES


class MarketplaceQuerySet(MarketplaceScopedQuerySet):
    marketplace_path = ""


class MarketplaceChildQuerySet(MarketplaceScopedQuerySet):
    """Models with a direct `marketplace` foreign key (sellers)."""

    marketplace_path = "marketplace"


class ListingQuerySet(MarketplaceChildQuerySet):
    def live(self) -> Self:
        """Listings buyers can see (active or reinstated): the ones a removal can act on."""
        return self.filter(status__in=LISTING_LIVE_STATUSES)


class SellerChildQuerySet(MarketplaceScopedQuerySet):
    """A seller's strikes and penalties belong to the seller's marketplace."""

    marketplace_path = "seller__marketplace"


class StrikeQuerySet(SellerChildQuerySet):
    def active(self, at: datetime | None = None) -> Self:
        """Strikes that count towards the policy at `at` (now by default): unexpired and not revoked."""
        return self.filter(expires_at__gt=at or timezone.now(), revoked_at__isnull=True)

    def weight(self) -> int:
        """What these strikes count for in the penalty ladder: the sum of their weights (0 for none)."""
        return self.aggregate(total=Coalesce(Sum("weight"), 0))["total"]
