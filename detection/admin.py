"""Stay-down detection in the admin (the moderators' console): the banks, the re-listing candidates and the
brands' watch searches, matches and digests.

View only: bank entries are written by the outbox subscriber and candidates by the matcher and the brand's
actions (`detection.services`). A moderator sees which items of the review queue were filed by automated
detection (a candidate with `automated` and its filed item) and the evidence trail back to the removal.
"""

from django.contrib import admin

from core.admin.mixins import ReadOnlyAdminMixin, ScaleAdminMixin
from detection.models import (
    FingerprintImageHash,
    ListingImageHash,
    ReListingCandidate,
    RemovalFingerprint,
    WatchDigest,
    WatchMatch,
    WatchSearch,
)


class FingerprintImageHashInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FingerprintImageHash
    fields = ("hash",)
    extra = 0


@admin.register(RemovalFingerprint)
class RemovalFingerprintAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "brand", "title", "seller", "enabled", "expires_at", "created_at")
    list_select_related = ("brand", "seller")
    list_filter = ("enabled",)
    search_fields = ("title_normalised",)
    raw_id_fields = ("source_item", "case", "listing", "seller")
    exclude = ("title_normalised",)
    inlines = [FingerprintImageHashInline]
    ordering = ("-pk",)
    sortable_by = ("id",)


@admin.register(ReListingCandidate)
class ReListingCandidateAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "brand", "listing", "score", "strength", "status", "automated", "filed_item", "created_at")
    list_select_related = ("brand", "listing", "filed_item")
    list_filter = ("status", "strength", "automated")
    raw_id_fields = ("fingerprint", "listing", "filed_case", "filed_item")
    ordering = ("-pk",)
    sortable_by = ("id",)


@admin.register(ListingImageHash)
class ListingImageHashAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "listing", "position", "hash")
    raw_id_fields = ("listing",)
    ordering = ("-pk",)
    sortable_by = ("id",)


# --- brand watch: view only (brands save their searches and decide their matches on their pages) ----------


@admin.register(WatchSearch)
class WatchSearchAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "brand", "name", "words", "marketplace", "active", "last_run_at", "last_run_capped")
    list_select_related = ("brand", "marketplace")
    list_filter = ("active", "last_run_capped")
    raw_id_fields = ("brand", "marketplace", "seller", "created_by", "subscribers")
    ordering = ("-pk",)
    sortable_by = ("id",)


@admin.register(WatchMatch)
class WatchMatchAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "brand", "search", "listing", "state", "matched_at", "filed_case")
    list_select_related = ("brand", "search", "listing")
    list_filter = ("state",)
    raw_id_fields = ("brand", "search", "listing", "decided_by", "filed_case")
    ordering = ("-pk",)
    sortable_by = ("id",)


@admin.register(WatchDigest)
class WatchDigestAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "brand", "day", "matches", "recipients", "created_at")
    list_select_related = ("brand",)
    raw_id_fields = ("brand",)
    ordering = ("-pk",)
    sortable_by = ("id",)
