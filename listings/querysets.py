"""Reusable reads of marketplace data."""

from datetime import datetime
from typing import Self

from django.db import models
from django.utils import timezone

from listings.choices import LISTING_LIVE_STATUSES


class ListingQuerySet(models.QuerySet):
    def live(self) -> Self:
        """Listings buyers can see (active or reinstated): the ones a removal can act on."""
        return self.filter(status__in=LISTING_LIVE_STATUSES)


class StrikeQuerySet(models.QuerySet):
    def active(self, at: datetime | None = None) -> Self:
        """Strikes that count towards the policy at `at` (now by default): unexpired and not revoked."""
        return self.filter(expires_at__gt=at or timezone.now(), revoked_at__isnull=True)
