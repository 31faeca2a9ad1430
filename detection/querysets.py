"""Brand-scoped querysets of the detection app (the one entry point, `for_user`/`for_brand`)."""

from typing import Self

from django.db import models
from django.db.models.functions import Now

from core.tenancy import BrandScopedQuerySet
from detection.choices import CandidateStatus


class FingerprintQuerySet(BrandScopedQuerySet):
    brand_path = "brand"

    def live(self) -> Self:
        """Entries the matcher may use: enabled and not expired with their rights."""
        return self.filter(enabled=True).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=Now()))


class CandidateQuerySet(BrandScopedQuerySet):
    brand_path = "brand"

    def open(self) -> Self:
        return self.filter(status=CandidateStatus.OPEN)


class PolicyQuerySet(BrandScopedQuerySet):
    brand_path = "brand"


class WatchSearchQuerySet(BrandScopedQuerySet):
    brand_path = "brand"

    def active(self) -> Self:
        return self.filter(active=True)


class WatchMatchQuerySet(BrandScopedQuerySet):
    brand_path = "brand"


class WatchDigestQuerySet(BrandScopedQuerySet):
    brand_path = "brand"
