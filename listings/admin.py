"""Marketplace data, the repeat-infringer policy and delisting jobs in the admin.

State changes happen only through services (`listings.services`; later issues add admin actions that
call them): listing and seller statuses and their timestamps are read-only, and strikes, penalties and
delisting jobs (with their targets and chunks), which only the policy and the delisting engine write,
are view-only. Listings and sellers are never deleted: strikes, case items, delisting targets, audit
events and stay-down detection refer to them.

Listings and sellers number in the millions: their foreign keys use raw-id widgets, lists are ordered by
primary key and sort by no other column, filters are choices, booleans and the small marketplace table.
"""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from listings.choices import DelistOutcome
from listings.models import (
    DelistChunk,
    DelistJob,
    DelistTarget,
    Listing,
    Marketplace,
    PenaltyPolicy,
    PenaltyThreshold,
    Seller,
    SellerPenalty,
    Strike,
)
from marketsafe.admin import (
    CachedValuesListFilter,
    NoDeleteAdminMixin,
    ReadOnlyAdminMixin,
    ScaleAdminMixin,
    changelist_url,
    correlated_aggregate,
)


@admin.register(Marketplace)
class MarketplaceAdmin(ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "host_list", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "hosts", "listing_id_pattern", "is_active", "created_at")
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
            (changelist_url(Strike, seller__id__exact=obj.pk), f"Strikes ({obj.strikes.active().count()} active)"),
            (changelist_url(SellerPenalty, seller__id__exact=obj.pk), "Penalties"),
        )
        return format_html_join(" · ", '<a href="{}">{}</a>', links)


@admin.register(Listing)
class ListingAdmin(NoDeleteAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "__str__", "marketplace", "seller", "status", "price", "currency", "status_changed_at")
    list_display_links = ("id", "__str__")
    # A seller's name shows its marketplace: select it too.
    list_select_related = ("marketplace", "seller__marketplace")
    list_filter = ("marketplace", "status")
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


class PenaltyThresholdInline(admin.TabularInline):
    model = PenaltyThreshold
    extra = 0
    ordering = ("strikes",)


@admin.register(PenaltyPolicy)
class PenaltyPolicyAdmin(ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "strike_lifetime_days", "is_active", "ladder", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    ordering = ("-is_active", "name")
    fields = ("name", "strike_lifetime_days", "is_active", "updated_at")
    readonly_fields = ("updated_at",)
    inlines = (PenaltyThresholdInline,)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[PenaltyPolicy]:
        return super().get_queryset(request).prefetch_related("thresholds")

    @admin.display(description="ladder")
    def ladder(self, obj: PenaltyPolicy) -> str:
        return " → ".join(str(threshold) for threshold in obj.thresholds.all())


class StrikeStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked"))

    def queryset(self, request, queryset):
        match self.value():
            case "active":
                return queryset.active()
            case "expired":
                return queryset.filter(revoked_at__isnull=True, expires_at__lte=timezone.now())
            case "revoked":
                return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(Strike)
class StrikeAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "seller", "reason_code", "issued_at", "expires_at", "revoked_at", "source_item_id")
    list_select_related = ("seller__marketplace",)
    list_filter = (StrikeStateFilter, ("reason_code", CachedValuesListFilter))
    # Local columns only: an OR across a join (say with the seller's external id) defeats every index.
    search_fields = ("seller__id__exact", "source_item_id__exact")
    search_help_text = "The seller's id (not the marketplace's), or the id of the case item that gave the strike."
    ordering = ("-pk",)
    sortable_by = ("id",)
    raw_id_fields = ("seller",)
    fields = ("seller", "source_item_id", "reason_code", "issued_at", "expires_at", "revoked_at", "revoke_reason")


@admin.register(SellerPenalty)
class SellerPenaltyAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "seller",
        "action",
        "active_strikes",
        "applied_at",
        "applied_by",
        "automated",
        "lifted_at",
        "delist_job",
    )
    list_select_related = ("seller__marketplace", "applied_by", "delist_job")
    list_filter = ("action", "automated", ("lifted_at", admin.EmptyFieldListFilter))
    search_fields = ("seller__id__exact", "reason")
    search_help_text = "The seller's id (not the marketplace's), or words of the reason."
    ordering = ("-pk",)
    sortable_by = ("id",)
    raw_id_fields = ("seller", "applied_by", "lifted_by", "delist_job")
    fieldsets = (
        (None, {"fields": ("seller", "action", "active_strikes", "reason", "delist_job")}),
        ("Applied", {"fields": ("applied_at", "applied_by", "automated")}),
        ("Lifted", {"fields": ("lifted_at", "lifted_by", "lift_reason")}),
    )


class DelistChunkInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DelistChunk
    extra = 0
    ordering = ("seq",)
    fields = (
        "seq",
        "first_target_id",
        "last_target_id",
        "state",
        "attempts",
        "removed",
        "skipped",
        "failed",
        "lease_until",
        "finished_at",
        "last_error",
    )


@admin.register(DelistJob)
class DelistJobAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "selection_kind",
        "status",
        "targets",
        "removed",
        "skipped",
        "failed",
        "actor",
        "automated",
        "created_at",
        "finished_at",
    )
    list_select_related = ("actor",)
    list_filter = ("status", "selection_kind", "automated")
    search_fields = ("idempotency_key__exact", "reason")
    date_hierarchy = "created_at"
    ordering = ("-pk",)
    raw_id_fields = ("actor",)
    fieldsets = (
        (None, {"fields": ("status", "selection_kind", "selection", "selection_file", "reason", "idempotency_key")}),
        ("Progress", {"fields": ("targets", "outcomes", ("removed", "skipped", "failed"))}),
        ("Run", {"fields": ("actor", "automated", "created_at", "started_at", "finished_at")}),
    )
    readonly_fields = ("targets", "outcomes", "removed", "skipped", "failed")
    inlines = (DelistChunkInline,)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[DelistJob]:
        # The chunks keep the running totals: a few rows per job, where the targets are millions.
        return (
            super()
            .get_queryset(request)
            .annotate(
                **{
                    counter: correlated_aggregate(DelistChunk.objects.all(), fk="job", aggregate=models.Sum(counter))
                    for counter in ("removed", "skipped", "failed")
                }
            )
        )

    @admin.display(description="targets")
    def targets(self, obj: DelistJob) -> str:
        return format_html('<a href="{}">{}</a>', changelist_url(DelistTarget, job__id__exact=obj.pk), obj.total)

    @admin.display(description="removed")
    def removed(self, obj: DelistJob) -> int:
        return obj.removed

    @admin.display(description="skipped")
    def skipped(self, obj: DelistJob) -> int:
        return obj.skipped

    @admin.display(description="failed")
    def failed(self, obj: DelistJob) -> int:
        return obj.failed

    @admin.display(description="targets by outcome")
    def outcomes(self, obj: DelistJob) -> str:
        # One grouped query on the (job, outcome) index, on the detail page only.
        counts = sorted(obj.targets.order_by().values_list("outcome").annotate(n=models.Count("pk")))
        links = (
            (
                changelist_url(DelistTarget, job__id__exact=obj.pk, outcome__exact=outcome),
                DelistOutcome(outcome).label,
                n,
            )
            for outcome, n in counts
        )
        return format_html_join(" · ", '<a href="{}">{}: {}</a>', links)


@admin.register(DelistTarget)
class DelistTargetAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "job", "listing", "reference", "outcome", "detail", "processed_at")
    list_select_related = ("job", "listing")
    list_filter = ("outcome",)
    search_fields = ("listing__url__exact",)
    search_help_text = "The exact URL of the listing."
    ordering = ("-pk",)
    sortable_by = ("id",)
    raw_id_fields = ("job", "listing")
    fields = ("job", "listing", "reference", "outcome", "detail", "processed_at")


@admin.register(DelistChunk)
class DelistChunkAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "job",
        "seq",
        "state",
        "attempts",
        "removed",
        "skipped",
        "failed",
        "lease_until",
        "finished_at",
    )
    list_select_related = ("job",)
    list_filter = ("state",)
    search_fields = ("job__id__exact",)
    search_help_text = "The id of the delisting job."
    ordering = ("-pk",)
    raw_id_fields = ("job",)
    fields = (
        "job",
        "seq",
        ("first_target_id", "last_target_id"),
        "state",
        "attempts",
        "lease_until",
        "enqueued_at",
        "finished_at",
        ("removed", "skipped", "failed"),
        "last_error",
    )
