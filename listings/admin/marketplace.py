"""Marketplace data in the admin: marketplaces, sellers and listings.

Listing and seller statuses and their timestamps are read-only (only services change them). Listings and
sellers are never deleted: strikes, case items, delisting targets, audit events and stay-down detection
refer to them. They number in the millions: their foreign keys use raw-id widgets, lists are ordered by
primary key and sort by no other column, filters are choices, booleans and the small marketplace table.
"""

from django.contrib import admin
from django.utils.html import format_html_join

from core.admin.mixins import (
    NoDeleteAdminMixin,
    ReadOnlyAdminMixin,
    ScaleAdminMixin,
    changelist_url,
)
from listings.admin.filters import ListingRemovedByJobFilter
from listings.models import (
    Listing,
    Marketplace,
    Seller,
    SellerIdentifier,
    SellerPenalty,
    Strike,
)


@admin.register(Marketplace)
class MarketplaceAdmin(ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "host_list", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "hosts", "listing_id_pattern", "listing_url_example", "is_active", "created_at")
    readonly_fields = ("created_at",)

    @admin.display(description="hosts")
    def host_list(self, obj: Marketplace) -> str:
        return ", ".join(obj.hosts)


@admin.register(Seller)
class SellerAdmin(NoDeleteAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "marketplace",
        "external_id",
        "account_type",
        "country",
        "status",
        "status_changed_at",
    )
    list_display_links = ("id", "name")
    list_select_related = ("marketplace",)
    list_filter = ("marketplace", "status", "account_type")
    search_fields = ("name", "external_id__exact")
    search_help_text = "Part of the seller's name, or the marketplace's exact seller id."
    ordering = ("-pk",)
    sortable_by = ("id",)
    fields = (
        "marketplace",
        "external_id",
        "name",
        "account_type",
        "country",
        "status",
        "status_changed_at",
        "created_at",
        "related",
    )
    readonly_fields = ("status", "status_changed_at", "created_at", "related")
    readonly_after_create = ("marketplace", "external_id")

    @admin.display(description="see also")
    def related(self, obj: Seller) -> str:
        if obj.pk is None:
            return ""
        links = (
            (changelist_url(Listing, seller__id__exact=obj.pk), "Listings"),
            (
                changelist_url(Strike, seller__id__exact=obj.pk),
                f"Strikes ({obj.strikes.active().weight()} active, by weight)",
            ),
            (changelist_url(SellerPenalty, seller__id__exact=obj.pk), "Penalties"),
            (changelist_url(SellerIdentifier, seller__id__exact=obj.pk), "Identifiers (hashed)"),
        )
        return format_html_join(" · ", '<a href="{}">{}</a>', links)


@admin.register(SellerIdentifier)
class SellerIdentifierAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """The keyed hashes of what the marketplace sent about its sellers: view-only (the platform upsert writes
    them), and only the hash, since the clear value was never stored."""

    list_display = ("id", "seller", "kind", "digest", "created_at")
    list_select_related = ("seller__marketplace",)
    list_filter = ("kind",)
    search_fields = ("digest__exact", "seller__external_id__exact")
    search_help_text = "An exact digest, or the marketplace's exact seller id."
    ordering = ("-pk",)
    sortable_by = ("id",)
    raw_id_fields = ("seller",)


@admin.register(Listing)
class ListingAdmin(NoDeleteAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "__str__", "marketplace", "seller", "status", "price", "currency", "status_changed_at")
    list_display_links = ("id", "__str__")
    # A seller's name shows its marketplace: select it too.
    list_select_related = ("marketplace", "seller__marketplace")
    list_filter = ("marketplace", "status", ListingRemovedByJobFilter)
    # Exact lookups keep the URL and id searches on their unique indexes; the title search uses the
    # trigram index on UPPER(title).
    search_fields = ("url__exact", "external_id__exact", "title")
    search_help_text = "The listing's exact URL or marketplace id, or part of its title."
    ordering = ("-pk",)
    sortable_by = ("id",)
    raw_id_fields = ("seller",)
    fields = (
        "marketplace",
        "url",
        "external_id",
        "seller",
        "title",
        ("price", "currency"),
        "status",
        "status_changed_at",
        "created_at",
        "snapshot",
    )
    readonly_fields = ("status", "status_changed_at", "created_at", "snapshot")
    readonly_after_create = ("marketplace", "url")
