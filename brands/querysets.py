"""Brand-scoped querysets: the single entry point (`for_user`) for reading brand-owned rows."""

from datetime import date
from typing import Self

from django.db import models
from django.utils import timezone

from brands.choices import MEMBERSHIP_ACTIVE_STATUSES, IPRightStatus
from core.tenancy import BrandScopedQuerySet


class BrandQuerySet(BrandScopedQuerySet):
    brand_path = ""


class BrandChildQuerySet(BrandScopedQuerySet):
    """Models with a direct `brand` foreign key."""

    brand_path = "brand"


class IPRightQuerySet(BrandChildQuerySet):
    def usable(self, on: date | None = None) -> Self:
        """Rights a new notice may rely on: verified, not retired, and valid on `on` (today by default)."""
        on = on or timezone.localdate()
        return self.filter(status=IPRightStatus.VERIFIED, retired_at__isnull=True).filter(
            models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=on),
            models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=on),
        )


class IPRightDocumentQuerySet(BrandScopedQuerySet):
    brand_path = "right__brand"


class ProgramApplicationChildQuerySet(BrandScopedQuerySet):
    brand_path = "application__brand"


class ProgramMembershipQuerySet(BrandChildQuerySet):
    def active(self) -> Self:
        """Memberships that currently give the expedited lane."""
        return self.filter(status__in=MEMBERSHIP_ACTIVE_STATUSES)
