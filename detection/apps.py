"""The detection app's configuration: it listens to the cases' item moves and stored evidence (cases never
imports detection)."""

from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "detection"
    label = "detection"
    verbose_name = "Stay-down detection"

    def ready(self) -> None:
        from cases.choices import EVIDENCE_STORED, ITEM_STATUS_CHANGED
        from core.outbox import subscribe
        from detection.services import bank, candidates, hashes

        subscribe(ITEM_STATUS_CHANGED, bank.on_item_status_changed)
        subscribe(ITEM_STATUS_CHANGED, candidates.on_item_status_changed)
        subscribe(EVIDENCE_STORED, hashes.on_evidence_stored)
