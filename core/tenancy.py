"""Tenant scoping: the one entry point per tenant through which tenant-owned rows are read.

The portal has two kinds of tenant, and each has one scope:

- brands: every brand-owned model's manager is built from `BrandScopedQuerySet`; views, the API, exports,
  file downloads, form choices and tasks read through `.for_user(user, brand=...)` (or `.for_brand(brand)`
  once the brand is resolved and checked), so a row of a brand the user is not an active member of is
  simply not found (a 404, never a 403 that would confirm it exists);
- marketplaces: every marketplace-owned model's manager is built from `MarketplaceScopedQuerySet`; the
  platform endpoints, their exports and tasks read through `.for_marketplace(marketplace)`, the
  marketplace of the service token, so another marketplace's row is not found either.

A model owned by both (a case item: a brand reported it, on a marketplace's listing) has both scopes. A
prefetch of tenant rows is scoped too: `Prefetch("appeals", queryset=Appeal.objects.for_brand(brand))`,
so a relation never brings back rows the root query's scope would not (NetBox's `RestrictedPrefetch`).

The bases know no app: `BrandScopedQuerySet` only relies on the convention that a brand's memberships
are reachable as `<brand path>__memberships` with `user` and `is_active` fields; `MarketplaceScopedQuerySet`
only on a lookup path to the marketplace.
"""

from typing import Any, Self

from django.db import models


class BrandScopedQuerySet(models.QuerySet):
    #: Lookup path from the model to its brand ("" for the brand model itself).
    brand_path: str = "brand"

    def _path(self, field: str) -> str:
        return f"{self.brand_path}__{field}" if self.brand_path else field

    def for_brand(self, brand: Any) -> Self:
        """Rows of one brand, for code that has already resolved and checked the brand (tasks, services)."""
        if self.brand_path:
            return self.filter(**{self.brand_path: brand})
        return self.filter(pk=getattr(brand, "pk", brand))

    def for_user(self, user: Any, brand: Any = None) -> Self:
        """Rows of the brands `user` is an active member of; only `brand`'s when it is given."""
        if user is None or not user.is_authenticated:
            return self.none()
        scoped = self.filter(**{self._path("memberships__user"): user, self._path("memberships__is_active"): True})
        return scoped.for_brand(brand) if brand is not None else scoped


class MarketplaceScopedQuerySet(models.QuerySet):
    #: Lookup path from the model to its marketplace ("" for the marketplace model itself). It may cross a
    #: to-many relation (a case reaches marketplaces through its items): each row is then found once.
    marketplace_path: str = "marketplace"

    def _path_is_many(self) -> bool:
        model, many = self.model, False
        for name in filter(None, self.marketplace_path.split("__")):
            field = model._meta.get_field(name)
            many = many or field.one_to_many or field.many_to_many
            model = field.related_model
        return many

    def for_marketplace(self, marketplace: Any) -> Self:
        """Rows of one marketplace (an instance or its id): the only read of marketplace-owned rows that the
        platform endpoints, exports and tasks make. The marketplace is required: None finds nothing."""
        if marketplace is None:
            return self.none()
        if not self.marketplace_path:
            return self.filter(pk=getattr(marketplace, "pk", marketplace))
        lookup = {self.marketplace_path: marketplace}
        if self._path_is_many():
            # A join through a to-many relation repeats the row once per match: select by id instead.
            return self.filter(pk__in=self.model._base_manager.filter(**lookup).values("pk"))
        return self.filter(**lookup)


def _models_scoped_by(base: type[models.QuerySet]) -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if isinstance(m._default_manager.all(), base)]


def brand_owned_models() -> list[type[models.Model]]:
    """Every installed model whose default manager scopes by brand."""
    return _models_scoped_by(BrandScopedQuerySet)


def marketplace_owned_models() -> list[type[models.Model]]:
    """Every installed model whose default manager scopes by marketplace."""
    return _models_scoped_by(MarketplaceScopedQuerySet)
