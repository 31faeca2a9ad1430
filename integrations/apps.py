"""The integrations app's configuration: at start-up it subscribes the webhook outbox to the cases' topic and to
the brand watch's."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from cases.choices import ITEM_STATUS_CHANGED
        from core.outbox import subscribe
        from detection.choices import WATCH_MATCHED
        from integrations.outbox import outbox_item_status_changed, outbox_watch_matched

        # Every item status change becomes webhook events and deliveries in the changing transaction.
        subscribe(ITEM_STATUS_CHANGED, outbox_item_status_changed)
        # A brand watch match becomes a `watch.match` event for the brand's endpoints (never the marketplace's).
        subscribe(WATCH_MATCHED, outbox_watch_matched)
