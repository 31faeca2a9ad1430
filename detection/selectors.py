"""Reads of the detection app shared by pages, admin and tasks."""

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from detection.models import ReListingCandidate, StayDownPolicy


def brand_candidates(*, user: Any, brand: Any, status: str) -> QuerySet[ReListingCandidate]:
    """The brand's candidates in `status`, newest first, with what the list shows (no query per row)."""
    return (
        ReListingCandidate.objects.for_user(user, brand=brand)
        .filter(status=status)
        .select_related("listing__seller", "listing__marketplace", "fingerprint__listing", "filed_case")
        .order_by("-id")
    )


def brand_policy(*, brand_id: int) -> StayDownPolicy:
    """The brand's stay-down policy: its row, or the defaults (unsaved) while it has none."""
    return StayDownPolicy.objects.for_brand(brand_id).first() or StayDownPolicy(brand_id=brand_id)


def policies_of(*, brand_ids: Iterable[int]) -> dict[int, StayDownPolicy]:
    """The policies of several brands in one query, the defaults for those without a row."""
    ids = set(brand_ids)
    saved = {policy.brand_id: policy for policy in StayDownPolicy.objects.filter(brand_id__in=ids)}
    return {brand_id: saved.get(brand_id) or StayDownPolicy(brand_id=brand_id) for brand_id in ids}
