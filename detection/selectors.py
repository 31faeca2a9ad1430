"""Reads of the detection app shared by pages, admin and tasks."""

from typing import Any

from django.db.models import QuerySet

from detection.models import ReListingCandidate


def brand_candidates(*, user: Any, brand: Any, status: str) -> QuerySet[ReListingCandidate]:
    """The brand's candidates in `status`, newest first, with what the list shows (no query per row)."""
    return (
        ReListingCandidate.objects.for_user(user, brand=brand)
        .filter(status=status)
        .select_related("listing__seller", "listing__marketplace", "fingerprint__listing", "filed_case")
        .order_by("-id")
    )
