"""Brand-scoped querysets: the single entry point (`for_user`) for reading brand-owned rows, and the one
lookup of a user's active memberships (`BrandMembership.objects.active_of`)."""

from datetime import date
from typing import Any, Self

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from brands.choices import MEMBERSHIP_ACTIVE_STATUSES, IPRightStatus
from core.tenancy import BrandScopedQuerySet


class BrandQuerySet(BrandScopedQuerySet):
    brand_path = ""


class BrandChildQuerySet(BrandScopedQuerySet):
    """Models with a direct `brand` foreign key."""

    brand_path = "brand"


class BrandMembershipQuerySet(BrandChildQuerySet):
    def active(self) -> Self:
        """Memberships that count: a removed member's row is kept (inactive) for the audit trail."""
        return self.filter(is_active=True)

    def active_of(self, user: Any, *, brand: Any = None, brand_slug: str | None = None) -> Self:
        """`user`'s active memberships, with their brand; only the one in `brand` (or the brand with
        `brand_slug`) when given. None for an anonymous user.

        The one way every part of the brand side asks "is this person a member, and with which role":
        brand pages, the API's session and token endpoint, the brand switcher, the importers."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        memberships = self.active().filter(user=user).select_related("brand")
        if brand is not None:
            memberships = memberships.filter(brand=brand)
        if brand_slug is not None:
            memberships = memberships.filter(brand__slug=brand_slug)
        return memberships


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

    def in_force(self) -> Self:
        """Active memberships within their dates now: started, and not past their renewal date (the day
        itself counts), whether or not the nightly check has lapsed them yet."""
        return self.active().filter(started_at__lte=Now(), renews_on__gte=timezone.localdate())
