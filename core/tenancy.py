"""Tenant scoping: the one entry point through which brand-owned rows are read.

Every brand-owned model's manager is built from `BrandScopedQuerySet`; views, the API, exports, file
downloads, form choices and tasks read through `.for_user(user, brand=...)`, so a row of a brand the user
is not an active member of is simply not found (a 404, never a 403 that would confirm it exists).

The base knows no app: it only relies on the convention that a brand's memberships are reachable as
`<brand path>__memberships` with `user` and `is_active` fields.
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


def brand_owned_models() -> list[type[models.Model]]:
    """Every installed model whose default manager scopes by brand."""
    from django.apps import apps

    return [m for m in apps.get_models() if isinstance(m._default_manager.all(), BrandScopedQuerySet)]
