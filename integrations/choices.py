"""Choices of the integration app: webhook event types and delivery states."""

from django.db import models


class EventType(models.TextChoices):
    ITEM_STATUS_CHANGED = "item.status_changed", "A reported listing's status changed"
    WATCH_MATCH = "watch.match", "A brand watch search found a new listing"
    PING = "ping", "Test event"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Given up"


class OwnerKind(models.TextChoices):
    BRAND = "brand", "Brand"
    MARKETPLACE = "marketplace", "Marketplace"
