"""Risk rules as data: a rule and the immutable versions its saves make, the hits a version's evaluation
stored, the second approvals a held decision waits for, and backtests of a version over past items."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from safeguards.choices import (
    ApprovalDecision,
    ApprovalState,
    AuditState,
    AuditVerdict,
    BacktestState,
    HitTrigger,
    RuleAction,
    RuleMode,
)


class Rule(models.Model):
    """The current state of a rule; every save through `rule_save` also stores a `RuleVersion`."""

    name = models.CharField(max_length=120, unique=True)
    expression = models.TextField()
    action = models.CharField(max_length=24, choices=RuleAction)
    mode = models.CharField(max_length=16, choices=RuleMode, default=RuleMode.DRAFT)
    enabled = models.BooleanField(default=True)
    reason = models.CharField(max_length=300, help_text="Shown to moderators with every hit: why a person must look.")
    current_version = models.ForeignKey(
        "RuleVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RuleVersion(models.Model):
    """One saved state of a rule, never changed afterwards: hits and backtests name the version they ran."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    expression = models.TextField()
    action = models.CharField(max_length=24, choices=RuleAction)
    mode = models.CharField(max_length=16, choices=RuleMode)
    enabled = models.BooleanField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["rule", "-number"]
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="ruleversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class RuleHit(models.Model):
    """A version of a rule matched an item: the values it read, and what triggered the evaluation."""

    version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="hits")
    item = models.ForeignKey("cases.CaseItem", on_delete=models.PROTECT, related_name="+")
    # Copied from the version so that the cases' hooks find an item's live effects with one index.
    action = models.CharField(max_length=24, choices=RuleAction)
    mode = models.CharField(max_length=16, choices=RuleMode)
    trigger = models.CharField(max_length=16, choices=HitTrigger)
    values = models.JSONField(help_text="The fields the rule read, as it read them.")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["item", "mode", "action"], name="rulehit_item_effect_idx")]

    def __str__(self) -> str:
        return f"{self.version} hit item #{self.item_id}"


class SecondApproval(models.Model):
    """A held decision that takes effect when a second moderation lead, not the one who asked, approves it
    (`approval_approve`): an item's decision held by a "hold for a second approver" rule (a lead asked
    for it), or a seller's suspension or termination held by default because the seller has many live
    listings (`suspension_hold`; asked for by the person whose decision set the penalty off, if any)."""

    item = models.ForeignKey("cases.CaseItem", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey("listings.Seller", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=16, choices=ApprovalDecision)
    rejection_code = models.CharField(max_length=24, blank=True)
    message = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=ApprovalState, default=ApprovalState.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the policy asked for it with no person behind it (an automated penalty).",
    )
    requested_at = models.DateTimeField(db_default=Now(), editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        permissions = [("approve_secondapproval", "Approve a held decision as the second moderation lead")]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=models.Q(state="pending"), name="secondapproval_one_pending_per_item"
            ),
            models.UniqueConstraint(
                fields=["seller"], condition=models.Q(state="pending"), name="secondapproval_one_pending_per_seller"
            ),
            models.CheckConstraint(
                condition=models.Q(item__isnull=False, seller__isnull=True)
                | models.Q(item__isnull=True, seller__isnull=False),
                name="secondapproval_item_or_seller",
            ),
        ]

    def __str__(self) -> str:
        subject = f"item #{self.item_id}" if self.item_id else f"seller #{self.seller_id}"
        return f"{self.get_decision_display()}: {subject} ({self.get_state_display()})"


class Backtest(models.Model):
    """A rule version run over past decided items in the background, scored against their decisions."""

    version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="backtests")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=BacktestState, default=BacktestState.QUEUED)
    items_total = models.PositiveIntegerField(default=0)
    items_done = models.PositiveIntegerField(default=0)
    last_item_id = models.BigIntegerField(default=0, help_text="Where a resumed run goes on (primary-key order).")
    matched = models.PositiveIntegerField(default=0)
    matched_accepted = models.PositiveIntegerField(default=0)
    matched_rejected = models.PositiveIntegerField(default=0)
    matched_reinstated = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0, help_text="Items the expression could not be evaluated on.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Backtest of {self.version} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        return 100 if not self.items_total else min(100, self.items_done * 100 // self.items_total)


class AuditRound(models.Model):
    """One week's sample of decided items: drawn by a seeded hash of each item id, so anyone with the seed
    re-draws the same sample (`audits.audit_sample`)."""

    week = models.DateField(unique=True, help_text="The Monday of the week whose decisions are sampled.")
    seed = models.CharField(max_length=64)
    per_stratum = models.PositiveIntegerField(help_text="Items drawn per brand, lane and reason code.")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["-week"]

    def __str__(self) -> str:
        return f"Audit of the week of {self.week:%Y-%m-%d}"


class AuditItem(models.Model):
    """One sampled decision: re-decided blind by an auditor who did not make it; a disagreement goes to a
    lead, whose resolution says which decision was right."""

    round = models.ForeignKey(AuditRound, on_delete=models.PROTECT, related_name="items")
    item = models.ForeignKey("cases.CaseItem", on_delete=models.PROTECT, related_name="+")
    stratum = models.CharField(max_length=80, help_text="brand id / lane / reason code")
    first_verdict = models.CharField(max_length=8, choices=AuditVerdict)
    first_moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=AuditState, default=AuditState.PENDING)
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    audit_verdict = models.CharField(max_length=8, choices=AuditVerdict, blank=True)
    audited_at = models.DateTimeField(null=True, blank=True)
    resolved_verdict = models.CharField(max_length=8, choices=AuditVerdict, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["round", "pk"]
        permissions = [
            ("audit_audititem", "Re-decide sampled items blind (quality audits)"),
            ("resolve_audititem", "Resolve audit disagreements"),
        ]
        constraints = [models.UniqueConstraint(fields=["round", "item"], name="audititem_unique_item_per_round")]

    def __str__(self) -> str:
        return f"Audit #{self.pk} of item #{self.item_id}"

    @property
    def right_verdict(self) -> str:
        """The verdict that stands: the agreed one, or the lead's; "" while open."""
        if self.state == AuditState.AGREED:
            return self.first_verdict
        return self.resolved_verdict if self.state == AuditState.RESOLVED else ""
