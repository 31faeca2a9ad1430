"""Stay-down detection in the admin (the moderators' console): the banks, the re-listing candidates and the
brands' watch searches, matches and digests.

View only: bank entries are written by the outbox subscriber and candidates by the matcher and the brand's
actions (`detection.services`). A moderator sees which items of the review queue were filed by automated
detection (a candidate with `automated` and its filed item) and the evidence trail back to the removal.
"""

from django.contrib import admin

from core.admin.mixins import ReadOnlyAdminMixin, ScaleAdminMixin
from detection.models import (
    EvidenceImageHash,
    FingerprintImageHash,
    ListingImageHash,
    PendingMatch,
    ReListingCandidate,
    RemovalFingerprint,
    StayDownPolicy,
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


@admin.register(StayDownPolicy)
class StayDownPolicyAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """Read only: each brand's owners set their policy on the portal (audited there)."""

    list_display = ("brand", "auto_file", "auto_file_min_score", "list_weak", "updated_by", "updated_at")
    list_select_related = ("brand", "updated_by")
    list_filter = ("auto_file", "list_weak")
    raw_id_fields = ("brand", "updated_by")
    ordering = ("-pk",)
    sortable_by = ("brand",)


@admin.register(PendingMatch)
class PendingMatchAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """Listings waiting for matching: a long list here means lost messages or a detection worker behind."""

    list_display = ("listing", "queued_at", "swept_at")
    raw_id_fields = ("listing",)
    ordering = ("queued_at",)
    sortable_by = ()


@admin.register(EvidenceImageHash)
class EvidenceImageHashAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """PDQ hashes of brands' evidence images, computed on upload; those of quality 50 and up are banked."""

    list_display = ("evidence", "hash", "quality", "created_at")
    raw_id_fields = ("evidence",)
    ordering = ("-pk",)
    sortable_by = ()


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
