"""The banks of removal fingerprints, the image hashes the marketplaces send, and re-listing candidates."""

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now

from detection import choices, hashing
from detection.querysets import (
    CandidateQuerySet,
    FingerprintQuerySet,
    PolicyQuerySet,
    WatchDigestQuerySet,
    WatchMatchQuerySet,
    WatchSearchQuerySet,
)


class PDQHashField(models.Field):
    """A 256-bit PDQ hash, stored as PostgreSQL bit(256) (so `bit_count(a # b)` is the Hamming distance),
    read and written in Python as 64 lower-case hex characters."""

    description = "PDQ hash (bit(256))"

    def db_type(self, connection: Any) -> str:
        return "bit(256)"

    def get_placeholder_sql(self, value: Any, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s::bit(256)", [value]

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        return None if value is None else hashing.to_bits(hashing.parse_pdq(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        return None if value is None else hashing.from_bits(value)


class ListingImageHash(models.Model):
    """A PDQ hash of one of a listing's images, as the marketplace sent it with the listing."""

    listing = models.ForeignKey("listings.Listing", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    hash = PDQHashField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["listing", "position"], name="detection_listing_hash_unique")]
        # Listings with the very same image (seller networks, investigations.selectors_networks).
        indexes = [models.Index(fields=["hash"], name="detection_listing_hash_idx")]

    def __str__(self) -> str:
        return f"{self.listing_id}#{self.position}: {self.hash}"


class EvidenceImageHash(models.Model):
    """The PDQ hash of an evidence image a brand uploaded, computed when it was stored (`detection.images`).

    It joins the bank with the removal the evidence supports (`detection.services.bank`)."""

    evidence = models.OneToOneField("cases.Evidence", primary_key=True, on_delete=models.CASCADE, related_name="+")
    hash = PDQHashField()
    #: PDQ's own quality, 0-100: under `detection.images.MIN_QUALITY` the hash is kept but not banked.
    quality = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    def __str__(self) -> str:
        return f"Evidence {self.evidence_id}: {self.hash}"


class PendingMatch(models.Model):
    """A listing written by the platform upsert whose matching has not finished: the outbox of matching.

    Written in the upsert's own transaction (`detection.tasks.match_on_commit`), removed by the worker once
    the listing is matched; what is left after a while had its message lost (the broker was down when the
    upsert committed) and the sweep sends it again (`detection.tasks.sweep_pending_matches`)."""

    listing = models.OneToOneField("listings.Listing", primary_key=True, on_delete=models.CASCADE, related_name="+")
    queued_at = models.DateTimeField(db_default=Now())
    #: When the sweep last sent it again (it waits `pending.RESEND_EVERY` before the next time).
    swept_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(name="detection_pending_queued", fields=["queued_at"])]

    def __str__(self) -> str:
        return f"Listing {self.listing_id} waiting for matching since {self.queued_at}"


class StayDownPolicy(models.Model):
    """A brand's stay-down policy: which strong matches are filed automatically and whether weaker ones are
    listed. A brand without a row has the defaults (`detection.selectors.brand_policy`): strong matches by
    the same seller filed automatically, weaker ones listed. Automatic filing also needs the program: it
    happens only while the brand is in the expedited lane (an active MarketSafe membership)."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="+")
    auto_file = models.BooleanField(
        "file strong matches automatically",
        default=True,
        help_text="A re-listing by the same seller with the same image or an all but identical title is filed "
        "on your behalf, marked as automated detection, while you are a MarketSafe member.",
    )
    auto_file_min_score = models.FloatField(
        "minimum score for automatic filing",
        default=0.85,
        validators=[MinValueValidator(0.5), MaxValueValidator(1.0)],
        help_text="From 0.50 to 1.00. Every strong match scores at least 0.85; raise it to file only the closest.",
    )
    list_weak = models.BooleanField(
        "list weaker matches",
        default=True,
        help_text="Matches by another seller, or on the title alone, wait in your possible re-listings for one "
        "click. Off: they are not kept.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = "stay-down policy"
        verbose_name_plural = "stay-down policies"

    def __str__(self) -> str:
        return f"Stay-down policy of brand {self.brand_id}"


class RemovalFingerprint(models.Model):
    """A bank entry: what an upheld removal looked like, so that its return is recognised."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+")
    source_item = models.OneToOneField("cases.CaseItem", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=500, blank=True)
    title_normalised = models.CharField(max_length=500, blank=True)
    #: The normalised title without the brand's name words (`detection.text.title_key`), under the trigram index.
    title_key = models.CharField(max_length=500, blank=True)
    seller = models.ForeignKey("listings.Seller", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    #: What else identifies the seller (its shop name reduced to letters and digits): a new account links.
    seller_identifiers = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    price_band = models.SmallIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    #: When the last right the case rests on expires (none: a right without an end date).
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = FingerprintQuerySet.as_manager()

    class Meta:
        indexes = [
            # Enabled entries only: those the matcher reads (withdrawn and reinstated removals stay out of it).
            GinIndex(
                name="detection_fp_title_key_trgm",
                fields=["title_key"],
                opclasses=["gin_trgm_ops"],
                condition=models.Q(enabled=True),
            ),
            models.Index(name="detection_fp_brand", fields=["brand", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Removal of listing {self.listing_id} (item #{self.source_item_id})"


class FingerprintImageHash(models.Model):
    """An image hash of a bank entry, with its slot keys for the GIN index (`detection.hashing`)."""

    fingerprint = models.ForeignKey(RemovalFingerprint, on_delete=models.CASCADE, related_name="image_hashes")
    hash = PDQHashField()
    #: The hash's slot keys and their one-bit neighbours (`detection.hashing.neighbourhood`).
    slots = ArrayField(models.IntegerField())

    class Meta:
        indexes = [GinIndex(name="detection_fp_hash_slots", fields=["slots"])]

    def __str__(self) -> str:
        return self.hash


class ReListingCandidate(models.Model):
    """A listing that looks like an earlier removal of the brand: the signals that matched and a score."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+")
    fingerprint = models.ForeignKey(RemovalFingerprint, on_delete=models.PROTECT, related_name="candidates")
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="+")
    #: {"image_distance": int|None, "title_similarity": float|None, "same_seller": bool, "linked_seller": bool}
    signals = models.JSONField(default=dict)
    score = models.FloatField()
    strength = models.CharField(max_length=8, choices=choices.Strength)
    status = models.CharField(max_length=12, choices=choices.CandidateStatus, default=choices.CandidateStatus.OPEN)
    #: Filed without a person: a strong match by the same seller, by the brand's policy.
    automated = models.BooleanField(default=False)
    filed_case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    filed_item = models.ForeignKey("cases.CaseItem", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True, help_text="Why an automatic filing did not happen, if so.")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = CandidateQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fingerprint", "listing"], name="detection_candidate_unique"),
        ]
        indexes = [models.Index(name="detection_cand_brand_status", fields=["brand", "status", "-id"])]

    def __str__(self) -> str:
        return f"Listing {self.listing_id} like removal {self.fingerprint_id} ({self.score:.2f})"


class WatchSearch(models.Model):
    """A brand's saved search over the marketplace catalogue (brand watch): listings that appear after it
    was saved and meet every criterion it has become `WatchMatch`es, run by run (`detection.services.watch`).

    `last_listing_id` is the high-water mark: each run only looks at listings with a larger id, so nothing
    is matched twice and a run's work is bounded by what is new."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    #: Words that must all appear in the title, in any order and case (the title's trigram index serves it).
    words = models.CharField(max_length=200, blank=True)
    marketplace = models.ForeignKey(
        "listings.Marketplace", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    price_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    seller = models.ForeignKey("listings.Seller", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    #: A PDQ hash of the brand's product image: a listing image within PDQ's threshold matches.
    image_hash = PDQHashField(null=True, blank=True)
    active = models.BooleanField(default=True)
    #: Each new match is sent to the brand's webhook endpoints as a `watch.match` event.
    notify_webhook = models.BooleanField(default=True)
    #: Members who get the daily digest e-mail of this search's new matches.
    subscribers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    last_run_at = models.DateTimeField(null=True, blank=True)
    #: The largest listing id the last run looked at (the next run starts after it).
    last_listing_id = models.BigIntegerField(default=0)
    #: The last run found more than the cap: the rest of its listings were skipped (narrow the search).
    last_run_capped = models.BooleanField(default=False)

    objects = WatchSearchQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(name="detection_watch_brand", fields=["brand", "-id"])]

    def __str__(self) -> str:
        return self.name


class WatchMatch(models.Model):
    """A listing a brand's saved search found, and what the brand made of it (new, seen, filed, dismissed)."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+")
    search = models.ForeignKey(WatchSearch, on_delete=models.CASCADE, related_name="matches")
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="+")
    #: {"matched": ["words", "image", ...], "image_distance": int|None}
    signals = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=choices.WatchMatchState, default=choices.WatchMatchState.NEW)
    matched_at = models.DateTimeField(db_default=Now(), editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    filed_case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    #: When the daily digest told the subscribers of it (each match is in one digest at most).
    digested_at = models.DateTimeField(null=True, blank=True)

    objects = WatchMatchQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["search", "listing"], name="detection_watch_match_unique")]
        indexes = [
            models.Index(name="detection_watchmatch_list", fields=["brand", "state", "-id"]),
            models.Index(name="detection_watchmatch_search", fields=["search", "-id"]),
            models.Index(
                name="detection_watchmatch_digest",
                fields=["brand"],
                condition=models.Q(digested_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Listing {self.listing_id} found by watch {self.search_id}"


class WatchDigest(models.Model):
    """One brand's daily digest of new watch matches: at most one per brand and day."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    matches = models.PositiveIntegerField(default=0)
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = WatchDigestQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "day"], name="detection_watch_digest_once_a_day")]

    def __str__(self) -> str:
        return f"Watch digest of brand {self.brand_id} on {self.day}"
