"""Marketplace systems and outgoing notifications.

- `ServiceToken`: how a marketplace's system authenticates to the platform endpoints. Only the SHA-256
  of the token is stored; the token itself is shown once, when an administrator creates it.
- `WebhookEndpoint`: a URL a brand or a marketplace registered to receive item status events.
- `WebhookEvent`: the transactional outbox. One row per status change of a case item, written in the
  transaction that makes the change, carrying the id of that transaction (`txid`). The same rows feed the
  marketplace's decisions endpoint, whose cursor is (txid, id): see `integrations.selectors`.
- `WebhookDelivery`: one event to one endpoint, with its retry state; `WebhookAttempt` logs each HTTP try.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from core.tenancy import BrandScopedQuerySet, MarketplaceScopedQuerySet
from integrations import choices


class CurrentTransactionId(models.Func):
    """The id of the writing transaction (PostgreSQL's xid8), as a bigint."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()


class ServiceToken(models.Model):
    marketplace = models.ForeignKey("listings.Marketplace", on_delete=models.PROTECT, related_name="service_tokens")
    name = models.CharField(max_length=120, help_text="What uses it, e.g. 'catalogue sync (production)'.")
    prefix = models.CharField(max_length=12, unique=True, editable=False, help_text="Identifies the token in logs.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the token.")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MarketplaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["marketplace", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.marketplace})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookEndpointQuerySet(BrandScopedQuerySet, MarketplaceScopedQuerySet):
    """An endpoint belongs to one brand or one marketplace: each tenant finds only its own."""

    brand_path = "brand"
    marketplace_path = "marketplace"

    def active(self) -> "WebhookEndpointQuerySet":
        return self.filter(is_active=True)


class WebhookEndpoint(models.Model):
    """Registered by a brand (its items' events) or, in the admin, for a marketplace (its listings' events)."""

    brand = models.ForeignKey(
        "brands.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    marketplace = models.ForeignKey(
        "listings.Marketplace", null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(
        max_length=64, editable=False, help_text="Signs every delivery; the receiver holds a copy to verify it."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(brand__isnull=True, marketplace__isnull=False)
                | models.Q(brand__isnull=False, marketplace__isnull=True),
                name="webhookendpoint_one_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["brand"], condition=models.Q(is_active=True), name="webhook_brand_active_idx"),
            models.Index(fields=["marketplace"], condition=models.Q(is_active=True), name="webhook_market_active_idx"),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def owner(self) -> str:
        return str(self.brand or self.marketplace)


class WebhookEvent(models.Model):
    """The outbox: what happened, frozen as the JSON payload receivers get."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="The event id receivers see.")
    type = models.CharField(max_length=40, choices=choices.EventType)
    brand = models.ForeignKey("brands.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    marketplace = models.ForeignKey(
        "listings.Marketplace", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    item_id = models.BigIntegerField(null=True, blank=True)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    payload = models.JSONField()
    occurred_at = models.DateTimeField(db_default=Now(), editable=False)
    txid = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)

    objects = MarketplaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["txid", "id"]
        indexes = [
            # The marketplace's decisions feed walks (txid, id) after its cursor.
            models.Index(fields=["marketplace", "txid", "id"], name="webhookevent_feed_idx"),
            models.Index(fields=["item_id"], name="webhookevent_item_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uuid}"


class WebhookDelivery(models.Model):
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=16, choices=choices.DeliveryState, default=choices.DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_default=Now())
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhookdelivery_once_per_endpoint"),
            models.CheckConstraint(
                condition=models.Q(state__in=choices.DeliveryState.values), name="webhookdelivery_state_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_endpoint_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state=choices.DeliveryState.PENDING),
                name="webhookdelivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery of {self.event.type} to {self.endpoint}"


class WebhookAttempt(models.Model):
    """The delivery log: one HTTP try, its response status or its error, and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField(db_default=Now())
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["delivery", "attempted_at"], name="webhookattempt_delivery_idx")]

    def __str__(self) -> str:
        return f"Attempt at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
