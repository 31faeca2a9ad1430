"""The integrations app's configuration: at start-up it subscribes the webhook outbox to the cases' topic."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from cases.choices import ITEM_STATUS_CHANGED
        from core.outbox import subscribe
        from integrations.outbox import outbox_item_status_changed

        # Every item status change becomes webhook events and deliveries in the changing transaction.
        subscribe(ITEM_STATUS_CHANGED, outbox_item_status_changed)
