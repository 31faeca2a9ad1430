"""Brands, their teams, their IP rights and the MarketSafe program in the admin.

State changes happen only through services (`brands.services`; later issues add admin actions that call
them), so every status and every timestamp or actor a service sets (verification, submission, decision,
suspension) is read-only here. Program applications and memberships, which only the brand and the
association's review services write, are view-only; IP rights keep their descriptive fields editable but
are never deleted (filed notices rely on them); documents are only ever added by the upload service.
"""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from brands.models import (
    ApplicationDocument,
    Brand,
    BrandMembership,
    InformationRequest,
    Invitation,
    IPRight,
    IPRightDocument,
    ProgramApplication,
    ProgramMembership,
)
from marketsafe.admin import (
    NoDeleteAdminMixin,
    ReadOnlyAdminMixin,
    ScaleAdminMixin,
    StoredDocumentInline,
    correlated_aggregate,
)


class BrandMembershipInline(admin.TabularInline):
    model = BrandMembership
    extra = 0
    fields = ("user", "role", "is_active", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[BrandMembership]:
        return super().get_queryset(request).select_related("user")


@admin.register(Brand)
class BrandAdmin(ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "legal_name", "country", "member_count", "created_at")
    list_filter = ("country",)
    search_fields = ("name", "slug", "legal_name")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "legal_name", "country", "website", "created_at")
    readonly_fields = ("created_at",)
    inlines = (BrandMembershipInline,)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Brand]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=correlated_aggregate(
                    BrandMembership.objects.filter(is_active=True), fk="brand", aggregate=models.Count("pk")
                )
            )
        )

    @admin.display(description="active members", ordering="member_count")
    def member_count(self, obj: Brand) -> int:
        return obj.member_count


@admin.register(BrandMembership)
class BrandMembershipAdmin(ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("user", "brand", "role", "is_active", "created_at")
    list_select_related = ("user", "brand")
    list_filter = ("role", "is_active")
    search_fields = ("brand__name", "user__username", "user__email", "user__display_name")
    ordering = ("brand__name", "user__username")
    autocomplete_fields = ("brand", "user")
    fields = ("brand", "user", "role", "is_active", "created_at")
    readonly_fields = ("created_at",)
    readonly_after_create = ("brand", "user")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """View only: owners invite, invitees accept and owners revoke through `brands.services`.

    The token's hash is not shown: it is useless to a reader, and the raw token is never stored.
    """

    list_display = ("email", "brand", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at")
    list_select_related = ("brand", "invited_by")
    list_filter = ("role", ("accepted_at", admin.EmptyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "brand__name")
    ordering = ("-created_at",)
    fields = (
        "brand",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    )


class IPRightDocumentInline(StoredDocumentInline):
    model = IPRightDocument
    document_fields = ("kind",)


@admin.register(IPRight)
class IPRightAdmin(NoDeleteAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "brand",
        "kind",
        "office",
        "registration_number",
        "status",
        "valid_until",
        "verified_at",
        "retired_at",
    )
    list_select_related = ("brand",)
    list_filter = ("status", "kind", "office", ("retired_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "registration_number", "owner_name", "brand__name")
    ordering = ("brand__name", "name")
    autocomplete_fields = ("brand",)
    raw_id_fields = ("verified_by",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "brand",
                    "kind",
                    "name",
                    "registration_number",
                    "office",
                    "classes",
                    "owner_name",
                    ("valid_from", "valid_until"),
                )
            },
        ),
        ("Verification", {"fields": ("status", "verified_at", "verified_by", "retired_at", "created_at")}),
    )
    readonly_fields = ("status", "verified_at", "verified_by", "retired_at", "created_at")
    readonly_after_create = ("brand",)
    inlines = (IPRightDocumentInline,)


class InformationRequestInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InformationRequest
    extra = 0
    fields = ("message", "requested_by", "requested_at", "response", "responded_by", "responded_at")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[InformationRequest]:
        return super().get_queryset(request).select_related("requested_by", "responded_by")


class ApplicationDocumentInline(ReadOnlyAdminMixin, StoredDocumentInline):
    model = ApplicationDocument


@admin.register(ProgramApplication)
class ProgramApplicationAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("brand", "company_name", "status", "submitted_at", "decided_at", "decided_by", "created_at")
    list_select_related = ("brand", "decided_by")
    list_filter = ("status",)
    search_fields = ("company_name", "brand__name", "association_member_number", "contact_email")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    raw_id_fields = ("attested_by", "created_by", "decided_by")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "brand",
                    "status",
                    "company_name",
                    "association_member_number",
                    ("contact_name", "contact_email"),
                    "enforcement_statement",
                    "rights",
                )
            },
        ),
        ("Attestation", {"fields": ("created_by", "created_at", "attested_by", "attested_at", "submitted_at")}),
        ("Decision", {"fields": ("decided_by", "decided_at", "decision_reason")}),
    )
    inlines = (InformationRequestInline, ApplicationDocumentInline)


@admin.register(ProgramMembership)
class ProgramMembershipAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("brand", "status", "started_at", "renews_on", "warned_at", "suspended_at", "ended_at")
    list_select_related = ("brand",)
    list_filter = ("status",)
    search_fields = ("brand__name",)
    ordering = ("-started_at",)
    fields = ("brand", "application", "status", "started_at", "renews_on", "warned_at", "suspended_at", "ended_at")
