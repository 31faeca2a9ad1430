"""Marketplace data at scale (marketplaces, sellers, listings), the repeat-infringer policy and the
delisting jobs that take listings down in batches.

This app knows nothing of brands or cases: cases call its services with ids (a case item's id is kept
as a plain number where a strike or job needs to remember where it came from).
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Now, Upper

from core.files import private_storage, private_upload_to
from listings import choices
from listings.querysets import (
    ListingQuerySet,
    MarketplaceChildQuerySet,
    MarketplaceQuerySet,
    SellerChildQuerySet,
    StrikeQuerySet,
)


class Marketplace(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    hosts = ArrayField(
        models.CharField(max_length=253),
        help_text="Host names whose listing URLs belong to this marketplace, e.g. shop.example.com.",
    )
    listing_id_pattern = models.CharField(
        max_length=200,
        blank=True,
        help_text=(
            "Regular expression with one group that extracts the listing id from a URL path. When set, a URL of "
            "this marketplace whose path does not match is refused as not a listing."
        ),
    )
    listing_url_example = models.CharField(
        max_length=300,
        blank=True,
        help_text="A listing URL of this marketplace, shown to brands whose URL does not fit the pattern.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = MarketplaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [GinIndex(fields=["hosts"], name="marketplace_hosts_gin")]

    def __str__(self) -> str:
        return self.name


class Seller(models.Model):
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="sellers")
    external_id = models.CharField(max_length=120)
    name = models.CharField(max_length=200)
    account_type = models.CharField(
        max_length=16, choices=choices.SellerAccountType, default=choices.SellerAccountType.BUSINESS
    )
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code.")
    status = models.CharField(max_length=16, choices=choices.SellerStatus, default=choices.SellerStatus.ACTIVE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = MarketplaceChildQuerySet.as_manager()

    class Meta:
        ordering = ["marketplace", "name"]
        constraints = [
            models.UniqueConstraint(fields=["marketplace", "external_id"], name="seller_unique_external_id"),
            models.CheckConstraint(
                condition=models.Q(status__in=choices.SellerStatus.values), name="seller_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="seller_status_idx"),
            # Finding a seller by the marketplace's id alone (brand filters, the platform API).
            models.Index(fields=["external_id"], name="seller_external_id_idx"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="seller_name_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.marketplace})"


class SellerIdentifier(models.Model):
    """An identifier the marketplace sent for a seller (address, phone, payment account, tax id), never in
    clear: `digest` is the keyed hash of its normalised value (`listings.identifiers`). Two sellers with the
    same (kind, digest) share that identifier, which is all seller networks need to know."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=16, choices=choices.SellerIdentifierKind)
    #: HMAC-SHA256 of "<kind>:<normalised value>" under settings.SELLER_IDENTIFIER_KEY, in hex.
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = SellerChildQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "kind", "digest"], name="selleridentifier_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=choices.SellerIdentifierKind.values), name="selleridentifier_kind_valid"
            ),
        ]
        # The other sellers sharing an identifier: an index scan per (kind, digest).
        indexes = [models.Index(fields=["kind", "digest"], name="selleridentifier_digest_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of seller #{self.seller_id}"


class Listing(models.Model):
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="listings")
    seller = models.ForeignKey(
        Seller,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="listings",
        help_text="Unknown until the marketplace reports it for listings first seen in a notice.",
    )
    # NULL, not "", for "unknown": the per-marketplace uniqueness must not apply to unknown ids.
    external_id = models.CharField(max_length=120, null=True, blank=True)  # noqa: DJ001
    url = models.CharField(max_length=2000, unique=True)
    title = models.CharField(max_length=500, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    snapshot = models.JSONField(default=dict, blank=True, help_text="What the listing showed when it was reported.")
    status = models.CharField(max_length=16, choices=choices.ListingStatus, default=choices.ListingStatus.ACTIVE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = ListingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="listing_unique_external_id",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=choices.ListingStatus.values), name="listing_status_valid"
            ),
        ]
        indexes = [
            # A seller's live listings, walked by id (suspensions delist them all through a job).
            models.Index(
                fields=["seller", "id"],
                condition=models.Q(status__in=choices.LISTING_LIVE_STATUSES),
                name="listing_seller_live_idx",
            ),
            models.Index(fields=["status", "status_changed_at"], name="listing_status_idx"),
            GinIndex(OpClass(Upper("title"), name="gin_trgm_ops"), name="listing_title_trgm"),
        ]

    def __str__(self) -> str:
        return self.title or self.url

    @property
    def is_live(self) -> bool:
        return self.status in choices.LISTING_LIVE_STATUSES


class PenaltyPolicy(models.Model):
    """The repeat-infringer policy: how long strikes last and which count triggers which action."""

    name = models.CharField(max_length=120)
    strike_lifetime_days = models.PositiveIntegerField(default=365)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "penalty policies"
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True), name="one_active_policy"),
            models.CheckConstraint(condition=models.Q(strike_lifetime_days__gt=0), name="policy_lifetime_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class PenaltyThreshold(models.Model):
    policy = models.ForeignKey(PenaltyPolicy, on_delete=models.CASCADE, related_name="thresholds")
    action = models.CharField(max_length=16, choices=choices.PenaltyAction)
    strikes = models.PositiveIntegerField(help_text="Active strikes at which the action applies.")

    class Meta:
        ordering = ["policy", "strikes"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "action"], name="threshold_unique_action"),
            models.UniqueConstraint(fields=["policy", "strikes"], name="threshold_unique_strikes"),
            models.CheckConstraint(condition=models.Q(strikes__gt=0), name="threshold_strikes_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.strikes} strikes"


class Strike(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="strikes")
    source_item_id = models.BigIntegerField(
        null=True, blank=True, help_text="The case item whose final removal gave this strike."
    )
    reason_code = models.CharField(max_length=40)
    #: How much the strike counts towards the penalty ladder: the thresholds compare the sum of the active
    #: strikes' weights. The app that records it decides (a counterfeit confirmed by a test purchase: 2).
    weight = models.PositiveSmallIntegerField(default=1)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True)

    objects = StrikeQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("issued_at")), name="strike_expiry_after_issue"
            ),
            models.CheckConstraint(condition=models.Q(weight__gte=1), name="strike_weight_positive"),
            models.UniqueConstraint(
                fields=["seller", "source_item_id"],
                condition=models.Q(source_item_id__isnull=False),
                name="strike_one_per_item",
            ),
        ]
        indexes = [models.Index(fields=["seller", "expires_at"], name="strike_seller_expiry_idx")]

    def __str__(self) -> str:
        return f"Strike on {self.seller} until {self.expires_at:%Y-%m-%d}"


class SellerPenalty(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="penalties")
    action = models.CharField(max_length=16, choices=choices.PenaltyAction)
    active_strikes = models.PositiveIntegerField(help_text="Active strikes when the penalty was applied.")
    reason = models.TextField(blank=True)
    applied_at = models.DateTimeField(db_default=Now())
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    automated = models.BooleanField(default=False)
    delist_job = models.ForeignKey(
        "DelistJob", null=True, blank=True, on_delete=models.PROTECT, related_name="penalties"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_reason = models.TextField(blank=True)

    objects = SellerChildQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "seller penalties"
        ordering = ["-applied_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lifted_at__isnull=True) | models.Q(lifted_at__gte=models.F("applied_at")),
                name="penalty_lifted_after_applied",
            ),
        ]
        indexes = [models.Index(fields=["seller", "applied_at"], name="penalty_seller_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} of {self.seller}"


class DelistJob(models.Model):
    """A batch removal. The row freezes what was selected, by whom and why; PostgreSQL holds its progress."""

    idempotency_key = models.CharField(max_length=100, unique=True)
    selection_kind = models.CharField(
        max_length=choices.DELIST_SELECTION_KIND_LENGTH, choices=choices.delist_selection_choices
    )
    selection = models.JSONField(default=dict, blank=True, help_text="The frozen selection (ids, case, seller).")
    selection_file = models.FileField(storage=private_storage, upload_to=private_upload_to, blank=True)
    reason = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    automated = models.BooleanField(default=False)
    status = models.CharField(max_length=24, choices=choices.DelistJobStatus, default=choices.DelistJobStatus.PLANNING)
    total = models.PositiveBigIntegerField(default=0)
    unresolved = models.PositiveBigIntegerField(
        default=0, help_text="Selected ids or input lines that named no listing when the job was planned."
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=choices.DelistJobStatus.values), name="delistjob_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["status"],
                condition=~models.Q(status__in=choices.DELIST_JOB_FINISHED),
                name="delistjob_unfinished_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Delisting job #{self.pk}"


class DelistTarget(models.Model):
    """A selected listing, or an input line naming none, that the job did NOT remove, and why.

    Removed listings get no row here: the chunk that removed them keeps their ids (`removed_ids`) and each
    has its audit event, so the common case writes nothing per listing beyond what the removal itself
    writes. Rows are written by the chunk that met the listing (already removed, locked, gone since
    planning, or every listing of a chunk that failed) or, for input that named no listing, at planning.
    """

    job = models.ForeignKey(DelistJob, on_delete=models.CASCADE, related_name="targets")
    listing = models.ForeignKey(Listing, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=2000, blank=True, help_text="The input line, when it named no listing.")
    outcome = models.CharField(max_length=16, choices=choices.DelistOutcome)
    detail = models.CharField(max_length=500, blank=True)
    processed_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = "unremoved delisting target"
        constraints = [
            models.UniqueConstraint(
                fields=["job", "listing"], condition=models.Q(listing__isnull=False), name="delisttarget_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(listing__isnull=False) | ~models.Q(reference=""), name="delisttarget_names_something"
            ),
        ]
        indexes = [models.Index(fields=["job", "outcome"], name="delisttarget_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.listing_id or self.reference} in job #{self.job_id}: {self.get_outcome_display()}"


class DelistChunk(models.Model):
    """Up to DELIST_CHUNK_SIZE of a job's listings (a keyset slice by listing id), claimed and processed by
    one Celery task. The chunk row freezes its listing ids and, once done, the ids it removed."""

    job = models.ForeignKey(DelistJob, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    listing_ids = ArrayField(models.BigIntegerField(), help_text="The chunk's selected listings, in id order.")
    size = models.PositiveIntegerField(help_text="How many listings the chunk holds.")
    first_listing_id = models.BigIntegerField()
    last_listing_id = models.BigIntegerField()
    removed_ids = ArrayField(
        models.BigIntegerField(), default=list, blank=True, help_text="The listings this chunk removed."
    )
    state = models.CharField(max_length=16, choices=choices.DelistChunkState, default=choices.DelistChunkState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    removed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="delistchunk_unique_seq"),
            models.CheckConstraint(
                condition=models.Q(first_listing_id__lte=models.F("last_listing_id")), name="delistchunk_range_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["job", "state"], name="delistchunk_job_state_idx"),
            models.Index(
                fields=["state", "lease_until"],
                condition=models.Q(state__in=["pending", "running"]),
                name="delistchunk_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Chunk {self.seq} of job #{self.job_id} ({self.get_state_display()})"
