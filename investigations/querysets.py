"""Scoped querysets of the investigations app: one entry point per tenant (`core.tenancy`).

A test purchase belongs to a brand (`for_user` / `for_brand`) and concerns a listing of one marketplace
(`for_marketplace`, the platform endpoint through which that marketplace confirms the order)."""

from core.tenancy import BrandScopedQuerySet, MarketplaceScopedQuerySet


class TestPurchaseQuerySet(BrandScopedQuerySet, MarketplaceScopedQuerySet):
    brand_path = "brand"
    marketplace_path = "listing__marketplace"


class PurchaseChildQuerySet(BrandScopedQuerySet):
    """Files and custody events: scoped through their purchase."""

    brand_path = "purchase__brand"
