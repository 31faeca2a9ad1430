"""The safeguards app: risk rules (rules as data, evaluated on every new or changed item) and their
effects on the cases' decisions, hooked in at start-up so that cases never imports this app."""

from django.apps import AppConfig


class SafeguardsConfig(AppConfig):
    name = "safeguards"
    verbose_name = "Risk rules"

    def ready(self) -> None:
        from brands.selectors import register_audited_accuracy_source
        from cases.choices import ITEM_STATUS_CHANGED
        from cases.safeguards import register_decision_hold, register_review_block
        from core.outbox import subscribe
        from listings.choices import LISTINGS_CHANGED
        from listings.penalties import register_penalty_gate
        from safeguards.services import approvals, audits, evaluation

        subscribe(ITEM_STATUS_CHANGED, evaluation.on_items_changed)
        subscribe(LISTINGS_CHANGED, evaluation.on_listings_changed)
        register_review_block(evaluation.human_review_blocks)
        register_decision_hold(evaluation.second_approver_hold)
        register_penalty_gate(approvals.suspension_hold)
        register_audited_accuracy_source(audits.members_audited_accuracy)
