"""Choices of the marketplace side: listings, sellers, penalties and delisting jobs."""

from django.db import models


class ListingStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REMOVED = "removed", "Removed"
    REINSTATED = "reinstated", "Reinstated"


#: Statuses in which a listing is visible to buyers and can be removed.
LISTING_LIVE_STATUSES = (ListingStatus.ACTIVE, ListingStatus.REINSTATED)


class SellerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    WARNED = "warned", "Warned"
    RESTRICTED = "restricted", "Restricted"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class SellerAccountType(models.TextChoices):
    BUSINESS = "business", "Business"
    PRIVATE = "private", "Private individual"


class PenaltyAction(models.TextChoices):
    """The repeat-infringer ladder, mildest first."""

    WARN = "warn", "Warning"
    RESTRICT = "restrict", "Restriction"
    SUSPEND = "suspend", "Suspension"
    TERMINATE = "terminate", "Termination"


PENALTY_SELLER_STATUS = {
    PenaltyAction.WARN: SellerStatus.WARNED,
    PenaltyAction.RESTRICT: SellerStatus.RESTRICTED,
    PenaltyAction.SUSPEND: SellerStatus.SUSPENDED,
    PenaltyAction.TERMINATE: SellerStatus.TERMINATED,
}


class DelistSelectionKind(models.TextChoices):
    CASE_ITEMS = "case_items", "Given case items"
    CASE = "case", "A whole case"
    SELLER = "seller", "All active listings of a seller"
    LISTING_IDS = "listing_ids", "A list of listing ids"
    FILE = "file", "An uploaded file of listing URLs or ids"


class DelistJobStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


DELIST_JOB_FINISHED = (
    DelistJobStatus.COMPLETED,
    DelistJobStatus.COMPLETED_WITH_ERRORS,
    DelistJobStatus.CANCELLED,
    DelistJobStatus.FAILED,
)


class DelistChunkState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class DelistOutcome(models.TextChoices):
    """Why a selected listing was not removed (removed listings are recorded by their chunk)."""

    ALREADY_REMOVED = "already_removed", "Already removed"
    NOT_FOUND = "not_found", "Not found"
    LOCKED = "locked", "Locked by a pending counter-notice"
    ERROR = "error", "Error"
