"""Admin of the integration app: marketplace service tokens, webhook endpoints and their delivery log.

A service token is created here: the administrator names it and picks the marketplace, the service
generates the token, and the token is shown once in the confirmation message (only its hash is kept).
Tokens are revoked, never edited or deleted. Marketplace webhook endpoints are registered here too;
brand endpoints are registered by the brands on their own pages and are only viewed here.

The exports (DSA statements of reasons, Lumen notices) are actions on the cases app's admins, added here by
re-registering those admins with the actions (the cases app knows nothing of the exports).
"""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

from cases.admin import CaseAdmin, StatementOfReasonsAdmin
from cases.models import Case, StatementOfReasons
from core.admin.mixins import NoDeleteAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin
from integrations import services
from integrations.exports import dsa_batches, dsa_statements_queryset, lumen_notices
from integrations.models import ServiceToken, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.network import UnsafeURL, check_webhook_url


@admin.register(ServiceToken)
class ServiceTokenAdmin(NoDeleteAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "marketplace", "prefix", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("marketplace",)
    list_filter = ("marketplace",)
    fields = ("marketplace", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_after_create = ("marketplace",)
    actions = ("revoke",)

    def save_model(self, request: HttpRequest, obj: ServiceToken, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        row, token = services.service_token_create(marketplace=obj.marketplace, name=obj.name, actor=request.user)
        obj.pk, obj.prefix, obj.token_hash = row.pk, row.prefix, row.token_hash
        self.message_user(
            request,
            f"Token for {row.marketplace}: {token} — copy it now into the marketplace system's configuration; "
            "it is not shown again (MarketSafe keeps only its hash).",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: models.QuerySet[ServiceToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            services.service_token_revoke(token_id=token.pk, actor=request.user)
        self.message_user(request, "The selected tokens are revoked: calls with them now answer 401.")


class MarketplaceEndpointForm(forms.ModelForm):
    class Meta:
        model = WebhookEndpoint
        fields = ("marketplace", "url", "description", "is_active")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk is None and not cleaned.get("marketplace"):
            self.add_error("marketplace", "Choose the marketplace whose listings' events this endpoint receives.")
        if self.instance.pk is None and cleaned.get("url"):
            try:
                check_webhook_url(cleaned["url"])
            except UnsafeURL as exc:
                self.add_error("url", str(exc))
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(NoDeleteAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    form = MarketplaceEndpointForm
    list_display = ("url", "brand", "marketplace", "is_active", "created_at")
    list_select_related = ("brand", "marketplace")
    list_filter = ("is_active", "marketplace")
    search_fields = ("url", "brand__name")
    raw_id_fields = ("brand",)
    readonly_after_create = ("marketplace", "url")
    actions = ("send_test",)

    def has_change_permission(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> bool:
        # Brand endpoints belong to the brand: staff see them, the brand's owners change them.
        if obj is not None and obj.brand_id:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["description", "is_active"])
            return
        created = services.webhook_endpoint_create(
            marketplace=obj.marketplace, url=obj.url, description=obj.description, actor=request.user
        )
        obj.pk, obj.secret = created.pk, created.secret
        self.message_user(request, f"Signing secret of {created.url}: {created.secret}", messages.WARNING)

    @admin.action(description="Send a test event to the selected endpoints")
    def send_test(self, request: HttpRequest, queryset: models.QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.webhook_send_test(endpoint_id=endpoint.pk, actor=request.user)
        self.message_user(request, "Test events queued: see the webhook deliveries for the answers.")


class WebhookAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status_code", "duration_ms", "error")
    readonly_fields = fields
    extra = 0


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "state", "attempts", "last_status_code", "next_attempt_at", "created_at")
    list_select_related = ("event", "endpoint")
    list_filter = ("state",)
    ordering = ("-pk",)
    raw_id_fields = ("event", "endpoint")
    inlines = (WebhookAttemptInline,)
    actions = ("retry",)

    @admin.action(description="Send the selected deliveries again")
    def retry(self, request: HttpRequest, queryset: models.QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            services.delivery_retry(delivery_id=delivery.pk, actor=request.user)
        self.message_user(request, "The selected deliveries are queued again.")


admin.site.unregister(Case)


@admin.register(Case)
class CaseExportAdmin(CaseAdmin):
    """The cases' admin with the Lumen export (one notice per case and marketplace: a notice has one recipient)."""

    actions = ("export_lumen_notices",)

    #: Cases per Lumen export: each notice lists its items, so the download stays a few megabytes at most.
    lumen_export_max = 500

    @admin.action(description="Export as Lumen notices (JSON)")
    def export_lumen_notices(self, request: HttpRequest, queryset: models.QuerySet[Case]) -> HttpResponse | None:
        cases = list(queryset.select_related("brand").order_by("pk")[: self.lumen_export_max + 1])
        if len(cases) > self.lumen_export_max:
            self.message_user(request, f"Export at most {self.lumen_export_max} cases at a time.", messages.ERROR)
            return None
        response = JsonResponse({"notices": lumen_notices(cases)})
        response["Content-Disposition"] = 'attachment; filename="lumen-notices.json"'
        return response


admin.site.unregister(StatementOfReasons)


@admin.register(StatementOfReasons)
class StatementOfReasonsExportAdmin(StatementOfReasonsAdmin):
    """The statements' admin with the Transparency Database export."""

    actions = ("export_dsa_statements",)

    @admin.action(description="Export for the DSA Transparency Database (JSON lines, 100 per line)")
    def export_dsa_statements(
        self, request: HttpRequest, queryset: models.QuerySet[StatementOfReasons]
    ) -> StreamingHttpResponse:
        """One line per batch request body (`{"statements": [...]}`, at most 100), streamed: "select all"
        over hundreds of thousands of statements never sits in memory."""
        statements = dsa_statements_queryset().filter(pk__in=queryset.values("pk")).iterator(chunk_size=2000)
        lines = (json.dumps(batch) + "\n" for batch in dsa_batches(statements))
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
        response["Content-Disposition"] = 'attachment; filename="dsa-statements.jsonl"'
        return response
