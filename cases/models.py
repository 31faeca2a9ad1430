"""Notices (cases) filed by brands, one item per reported listing, and everything that follows a
decision: evidence, declarations, counter-notices, appeals and statements of reasons.

State changes go through `cases.services`; nothing here changes state on save.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from brands.choices import Lane
from cases import choices
from cases.querysets import CaseChildQuerySet, CaseItemChildQuerySet, CaseItemQuerySet, CaseQuerySet
from core.files import StoredDocument
from core.tenancy import BrandScopedQuerySet


class Case(models.Model):
    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="cases")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lane = models.CharField(max_length=16, choices=Lane, help_text="Frozen when the case is filed.")
    reason_code = models.CharField(max_length=32, choices=choices.ReasonCode)
    explanation = models.TextField()
    rights = models.ManyToManyField("brands.IPRight", related_name="cases")
    channel = models.CharField(max_length=8, choices=choices.Channel, default=choices.Channel.WEB)
    #: Filed without a person, by automated detection on the brand's behalf (a re-listing of an upheld
    #: removal): shown to the brand and the moderators, and stated in the DSA statement of reasons.
    automated = models.BooleanField(
        "automated detection",
        default=False,
        db_default=False,  # rows inserted in SQL (the benchmarks' synthetic queue) are not automated
        help_text="Filed by automated detection on the brand's behalf.",
    )
    status = models.CharField(max_length=16, choices=choices.CaseStatus, default=choices.CaseStatus.RECEIVED)
    idempotency_key = models.CharField(
        max_length=100, blank=True, help_text="Set by the form or the API client so a double submit files one case."
    )
    submitted_at = models.DateTimeField(db_default=Now())

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "idempotency_key"], condition=~models.Q(idempotency_key=""), name="case_idempotent"
            ),
            models.CheckConstraint(condition=models.Q(lane__in=Lane.values), name="case_lane_valid"),
            models.CheckConstraint(condition=models.Q(status__in=choices.CaseStatus.values), name="case_status_valid"),
        ]
        indexes = [
            models.Index(fields=["brand", "status", "submitted_at"], name="case_brand_status_idx"),
            # The brand's case list pages by keyset: newest first by default, or by status.
            models.Index(fields=["brand", "-submitted_at", "-id"], name="case_brand_recent_idx"),
            models.Index(fields=["brand", "status", "id"], name="case_brand_status_id_idx"),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}"


class CaseItem(models.Model):
    """One reported listing in a case, decided on its own."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="items")
    # Denormalised from the case: the tenant of every query, and the key of the one-open-report rule.
    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+")
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="+")
    # Denormalised from the case: the review queue orders by lane then SLA without a join. The values
    # sort in priority order ("expedited" < "standard").
    lane = models.CharField(max_length=16, choices=Lane)
    reason_code = models.CharField(max_length=32, choices=choices.ReasonCode)
    status = models.CharField(max_length=24, choices=choices.ItemStatus, default=choices.ItemStatus.SUBMITTED)
    brand_note = models.TextField(blank=True, help_text="The brand's explanation for this listing (and amendments).")
    submitted_at = models.DateTimeField(db_default=Now())
    sla_due_at = models.DateTimeField()
    # Set by `items_lower_priority` (a live "lower priority" risk rule), cleared by the deadline sweep once
    # the SLA is close: the item waits behind the others of its lane meanwhile (`cases.querysets.QUEUE_ORDERING`);
    # its SLA clock never moves.
    priority_lowered = models.BooleanField(default=False, db_default=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejection_code = models.CharField(max_length=24, choices=choices.RejectionCode, blank=True)
    moderator_message = models.TextField(blank=True, help_text="Shown to the brand: the question or the reason.")
    clarification_due_at = models.DateTimeField(null=True, blank=True)
    counter_notice_due_at = models.DateTimeField(null=True, blank=True)
    brand_answer_due_at = models.DateTimeField(null=True, blank=True)
    appeal_until = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(db_default=Now())

    objects = CaseItemQuerySet.as_manager()

    class Meta:
        ordering = ["case", "id"]
        permissions = [("decide_caseitem", "Can decide reported listings"), ("decide_appeal", "Can decide appeals")]
        constraints = [
            models.UniqueConstraint(fields=["case", "listing"], name="item_unique_listing_per_case"),
            models.UniqueConstraint(
                fields=["brand", "listing"],
                condition=models.Q(status__in=choices.ITEM_OPEN_STATUSES),
                name="item_one_open_report_per_brand",
            ),
            models.CheckConstraint(condition=models.Q(status__in=choices.ItemStatus.values), name="item_status_valid"),
            models.CheckConstraint(
                condition=~models.Q(status=choices.ItemStatus.REJECTED) | ~models.Q(rejection_code=""),
                name="item_rejected_has_code",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=choices.ITEM_OPEN_STATUSES)
                | models.Q(status=choices.ItemStatus.WITHDRAWN)
                | models.Q(decided_at__isnull=False),
                name="item_decided_has_time",
            ),
        ]
        indexes = [
            # The moderators' review queue: lane priority, then SLA due time.
            models.Index(
                fields=["lane", "sla_due_at"],
                condition=models.Q(status__in=[choices.ItemStatus.SUBMITTED, choices.ItemStatus.IN_REVIEW]),
                name="item_review_queue_idx",
            ),
            # The review queue's order (`cases.querysets.QUEUE_ORDERING`).
            models.Index(
                fields=["lane", "priority_lowered", "sla_due_at", "id"],
                condition=models.Q(status__in=[choices.ItemStatus.SUBMITTED, choices.ItemStatus.IN_REVIEW]),
                name="item_queue_priority_idx",
            ),
            models.Index(fields=["brand", "status", "submitted_at"], name="item_brand_status_idx"),
            # The brand's item list: newest first by default, or by review deadline; the dashboard's window.
            models.Index(fields=["brand", "-submitted_at", "-id"], name="item_brand_recent_idx"),
            models.Index(fields=["brand", "sla_due_at", "id"], name="item_brand_sla_idx"),
            models.Index(fields=["brand", "status", "id"], name="item_brand_status_id_idx"),
            # The case list's per-case counts (all items, open ones, those waiting for the brand).
            models.Index(fields=["case", "status"], name="item_case_status_idx"),
            models.Index(fields=["brand", "decided_at"], name="item_brand_decided_idx"),
            models.Index(fields=["listing"], name="item_listing_idx"),
            # Deadline sweeps.
            models.Index(
                fields=["counter_notice_due_at"],
                condition=models.Q(status=choices.ItemStatus.ACCEPTED),
                name="item_cn_due_idx",
            ),
            models.Index(
                fields=["brand_answer_due_at"],
                condition=models.Q(status=choices.ItemStatus.COUNTER_NOTICED),
                name="item_answer_due_idx",
            ),
            models.Index(
                fields=["clarification_due_at"],
                condition=models.Q(status=choices.ItemStatus.CLARIFICATION_REQUESTED),
                name="item_clarification_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Item #{self.pk} of case #{self.case_id}"

    @property
    def how_to_fix(self) -> str:
        return choices.REJECTION_FIX_GUIDANCE.get(self.rejection_code, "")


class Evidence(StoredDocument):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence")
    item = models.ForeignKey(
        CaseItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence",
        help_text="Empty when the evidence supports the whole case.",
    )
    counter_notice = models.ForeignKey(
        "CounterNotice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="brand_evidence",
        help_text="Set when the brand supplied it to reject a counter-notice.",
    )
    kind = models.CharField(max_length=16, choices=choices.EvidenceKind, default=choices.EvidenceKind.SCREENSHOT)
    description = models.CharField(max_length=500, blank=True)

    objects = CaseChildQuerySet.as_manager()

    class Meta(StoredDocument.Meta):
        verbose_name_plural = "evidence"


class Declaration(models.Model):
    """A declaration signed with a typed name; the wording, time and IP address are kept as signed."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="declarations")
    kind = models.CharField(max_length=16, choices=choices.DeclarationKind)
    statement = models.TextField()
    signed_name = models.CharField(max_length=150)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(db_default=Now())
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="declaration_unique_kind"),
            models.CheckConstraint(condition=~models.Q(signed_name=""), name="declaration_signed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} declaration by {self.signed_name}"


class CounterNotice(models.Model):
    """A seller's dispute of a removal, reported by the marketplace; the brand answers before a deadline."""

    item = models.ForeignKey(CaseItem, on_delete=models.PROTECT, related_name="counter_notices")
    attempt = models.PositiveSmallIntegerField(default=1)
    reason = models.CharField(max_length=16, choices=choices.CounterNoticeReason)
    explanation = models.TextField()
    received_at = models.DateTimeField(db_default=Now())
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.CharField(
        max_length=16, choices=choices.CounterNoticeAnswer, default=choices.CounterNoticeAnswer.PENDING
    )
    answer_due_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer_note = models.TextField(blank=True)

    objects = CaseItemChildQuerySet.as_manager()

    class Meta:
        ordering = ["item", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["item", "attempt"], name="counternotice_unique_attempt"),
            models.UniqueConstraint(
                fields=["item"],
                condition=models.Q(answer=choices.CounterNoticeAnswer.PENDING),
                name="counternotice_one_pending",
            ),
            models.CheckConstraint(
                condition=models.Q(attempt__gte=1, attempt__lte=3), name="counternotice_attempt_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Counter-notice {self.attempt} on item #{self.item_id}"


class Appeal(models.Model):
    """A complaint against a decision (DSA Art. 20), decided by someone other than the original moderator."""

    item = models.ForeignKey(CaseItem, on_delete=models.PROTECT, related_name="appeals")
    appellant = models.CharField(max_length=8, choices=choices.AppellantSide)
    grounds = models.TextField()
    filed_at = models.DateTimeField(db_default=Now())
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contested_status = models.CharField(
        max_length=24, choices=choices.ItemStatus, help_text="The item's status when the appeal was filed."
    )
    original_decider = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=choices.AppealStatus, default=choices.AppealStatus.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(blank=True)

    objects = CaseItemChildQuerySet.as_manager()

    class Meta:
        ordering = ["-filed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=models.Q(status=choices.AppealStatus.OPEN), name="appeal_one_open_per_item"
            ),
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True)
                | models.Q(original_decider__isnull=True)
                | ~models.Q(decided_by=models.F("original_decider")),
                name="appeal_decided_by_someone_else",
            ),
            models.CheckConstraint(
                condition=models.Q(status=choices.AppealStatus.OPEN)
                | models.Q(decided_at__isnull=False, decided_by__isnull=False),
                name="appeal_decided_has_decider",
            ),
        ]

    def __str__(self) -> str:
        return f"Appeal on item #{self.item_id} by the {self.appellant}"


class StatementOfReasons(models.Model):
    """What the seller is told when a listing is restricted, in the DSA Transparency Database's fields."""

    item = models.ForeignKey(CaseItem, on_delete=models.PROTECT, related_name="statements")
    created_at = models.DateTimeField(db_default=Now())
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_visibility = ArrayField(
        models.CharField(max_length=48, choices=choices.DecisionVisibility),
        default=list,
    )
    decision_ground = models.CharField(max_length=48, choices=choices.DecisionGround)
    legal_ground = models.CharField(max_length=500, help_text="illegal_content_legal_ground")
    explanation = models.CharField(max_length=2000, help_text="illegal_content_explanation")
    facts = models.TextField(max_length=5000, help_text="decision_facts")
    category = models.CharField(max_length=80, default=choices.DSA_CATEGORY_IP)
    category_specification = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    territorial_scope = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    application_date = models.DateField()
    end_date_visibility_restriction = models.DateField(null=True, blank=True)
    source_type = models.CharField(max_length=32, choices=choices.SourceType, default=choices.SourceType.ARTICLE_16)
    automated_detection = models.BooleanField(default=False)
    automated_decision = models.CharField(
        max_length=40, choices=choices.AutomatedDecision, default=choices.AutomatedDecision.NOT_AUTOMATED
    )
    redress = ArrayField(models.CharField(max_length=40, choices=choices.Redress), default=list, blank=True)

    objects = CaseItemChildQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "statements of reasons"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Statement of reasons for item #{self.item_id}"


class CaseDraftState(models.TextChoices):
    CHECKING = "checking", "Checking the listings"
    READY = "ready", "Ready to file"
    FILING = "filing", "Filing"
    FILED = "filed", "Filed"
    FAILED = "failed", "Could not be filed"


class CaseDraft(models.Model):
    """A filing between its dry-run preview and its submit; `cases.importing` says why it is a row.

    Only the person who signed it sees it. The id is a UUID because it travels in URLs and forms; the
    idempotency key is the filing form's, so every draft made from one form files at most one case.
    """

    State = CaseDraftState

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=100)
    state = models.CharField(max_length=16, choices=CaseDraftState, default=CaseDraftState.CHECKING)
    payload = models.JSONField(
        default=dict, help_text="The form: rights, reason, explanation, signature, IP address, stored evidence files."
    )
    input_rows = models.JSONField(default=list, help_text="The listing rows as parsed, with their parsing problems.")
    checked_rows = models.JSONField(null=True, blank=True, help_text="The preview: every row checked.")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="Why filing failed.")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True, help_text="Last progress: the sweep re-queues stalled drafts.")
    expires_at = models.DateTimeField()

    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=CaseDraftState.values), name="casedraft_state_valid"),
            models.CheckConstraint(
                condition=models.Q(rows_done__lte=models.F("rows_total")), name="casedraft_progress"
            ),
            models.CheckConstraint(
                condition=~models.Q(state=CaseDraftState.FILED) | models.Q(case__isnull=False),
                name="casedraft_filed_has_case",
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="casedraft_expiry_idx"),
            models.Index(
                fields=["updated_at"],
                condition=models.Q(state__in=[CaseDraftState.CHECKING, CaseDraftState.FILING]),
                name="casedraft_running_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Draft case {self.pk} ({self.get_state_display().lower()})"


class BulkDecisionState(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Deciding"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BulkDecision(models.Model):
    """A moderator's decision on many reported listings, applied in the background with progress
    (`cases.services.bulk.bulk_decision_run`): the request that takes it answers at once.

    The id is a UUID because it travels in the progress page's URL; only its moderator (or a superuser)
    sees that page. `arguments` are the decision's service arguments as JSON.
    """

    State = BulkDecisionState

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=16)
    item_ids = models.JSONField(default=list)
    arguments = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=BulkDecisionState, default=BulkDecisionState.QUEUED)
    items_done = models.PositiveIntegerField(default=0, help_text="Items decided or refused so far.")
    done_ids = models.JSONField(default=list, blank=True)
    refused = models.JSONField(default=dict, blank=True, help_text="Item id → why it was not decided.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Bulk {self.decision} of {len(self.item_ids)} items ({self.get_state_display()})"
