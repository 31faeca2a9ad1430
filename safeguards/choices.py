"""Choices of the risk rules: what a hit does, and how far a rule is trusted."""

from django.db import models


class RuleAction(models.TextChoices):
    FLAG = "flag", "Flag (record only)"
    FORCE_HUMAN_REVIEW = "force_human_review", "Force human review"
    HOLD_SECOND_APPROVER = "hold_second_approver", "Hold for a second approver"
    LOWER_PRIORITY = "lower_priority", "Lower priority"


class RuleMode(models.TextChoices):
    DRAFT = "draft", "Draft (not evaluated)"
    BACKGROUND = "background", "Background (record hits only)"
    LIVE = "live", "Live (hits take effect)"


#: Modes evaluated on new and changed items.
EVALUATED_MODES = (RuleMode.BACKGROUND, RuleMode.LIVE)


class HitTrigger(models.TextChoices):
    ITEM_SUBMITTED = "item_submitted", "Item submitted"
    LISTING_CHANGED = "listing_changed", "Listing changed"


class ApprovalState(models.TextChoices):
    PENDING = "pending", "Waiting for a second lead"
    APPROVED = "approved", "Approved and applied"


class ApprovalDecision(models.TextChoices):
    ACCEPT = "accept", "Accept (remove the listing)"
    REJECT = "reject", "Reject"
    # A seller's penalty held by default (`approvals.suspension_hold`): the ladder's delisting actions.
    SUSPEND = "suspend", "Suspend the seller"
    TERMINATE = "terminate", "Terminate the seller"


#: The decisions a lead requests on a held item; the other two are a seller's penalty.
ITEM_DECISIONS = (ApprovalDecision.ACCEPT, ApprovalDecision.REJECT)


class BacktestState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class AuditVerdict(models.TextChoices):
    ACCEPT = "accept", "Accept: the listing infringes"
    REJECT = "reject", "Reject: the report is not founded"


class AuditState(models.TextChoices):
    PENDING = "pending", "Waiting for an auditor"
    AGREED = "agreed", "Audit agrees"
    DISAGREED = "disagreed", "Disagreement: a lead decides"
    RESOLVED = "resolved", "Disagreement resolved by a lead"
