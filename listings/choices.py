"""Choices of the marketplace side: listings, sellers, penalties and delisting jobs."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models


class ListingStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REMOVED = "removed", "Removed"
    REINSTATED = "reinstated", "Reinstated"


#: The outbox topic (`core.outbox`) of listings the marketplace created or changed through the platform
#: upsert: `publish(LISTINGS_CHANGED, listing_ids)` inside its transaction (the safeguards app re-evaluates
#: the open items reporting them against its risk rules).
LISTINGS_CHANGED = "listings.listings_changed"

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


class SellerIdentifierKind(models.TextChoices):
    """What else the marketplace knows of a seller: kept only as a keyed hash (`listings.identifiers`)."""

    ADDRESS = "address", "Address"
    PHONE = "phone", "Phone number"
    PAYMENT_ACCOUNT = "payment_account", "Payment account"
    TAX_ID = "tax_id", "Tax id"


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
    """The selections the delisting engine understands by itself; higher apps register more
    (`register_delist_selection`), so a job's `selection_kind` takes `delist_selection_choices()`."""

    SELLER = "seller", "All active listings of a seller"
    LISTING_IDS = "listing_ids", "A list of listing ids"
    FILE = "file", "An uploaded file of listing URLs or ids"


@dataclass(frozen=True)
class RegisteredSelection:
    """A kind of selection a higher app defines: what to call it, and how its selection names listings.

    `resolve(selection)` returns the listing ids the selection stands for (a flat `values_list` is fine);
    `listings.delisting.selections` calls it once, when the job is created, and freezes the ids in the job.
    """

    value: str
    label: str
    resolve: Callable[[Mapping[str, Any]], Iterable[int]]


_registered_selections: dict[str, RegisteredSelection] = {}


def register_delist_selection(
    value: str, label: str, resolve: Callable[[Mapping[str, Any]], Iterable[int]]
) -> RegisteredSelection:
    """Add a kind of delisting selection (called from a higher app's AppConfig.ready()).

    Registering the same value again replaces it (a reload); a value of the engine's own is refused.
    """
    if value in DelistSelectionKind.values:
        raise ValueError(f"{value!r} is one of the engine's own selection kinds")
    if len(value) > DELIST_SELECTION_KIND_LENGTH:
        raise ValueError(f"a selection kind has at most {DELIST_SELECTION_KIND_LENGTH} characters: {value!r}")
    registered = RegisteredSelection(value, label, resolve)
    _registered_selections[value] = registered
    return registered


def registered_delist_selection(value: str) -> RegisteredSelection | None:
    return _registered_selections.get(value)


def delist_selection_choices() -> list[tuple[str, str]]:
    """The choices of `DelistJob.selection_kind`: the engine's own kinds, then the registered ones."""
    return [*DelistSelectionKind.choices, *((s.value, s.label) for s in _registered_selections.values())]


#: `DelistJob.selection_kind`'s max_length.
DELIST_SELECTION_KIND_LENGTH = 16


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
