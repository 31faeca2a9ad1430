"""A batch delisting leaves alone a listing whose report is disputed (a counter-notice or an appeal is
pending): cases registers that check with the delisting engine."""

import pytest

from cases.choices import ItemStatus
from cases.demo import drive_item_to
from listings import delisting
from listings.choices import DelistOutcome, DelistSelectionKind, ListingStatus
from listings.models import Listing
from listings.services import listing_reinstate

pytestmark = pytest.mark.django_db


def test_cases_registers_its_dispute_check():
    from cases.selectors import listings_under_dispute

    assert listings_under_dispute in delisting._lock_checks


def test_a_disputed_listing_is_locked_and_the_others_removed(
    file_case, moderator, reporter, django_capture_on_commit_callbacks
):
    disputed, plain = file_case(2).items.order_by("pk")
    drive_item_to(disputed, ItemStatus.COUNTER_NOTICED, moderator=moderator, brand_user=reporter)
    # The listing came back meanwhile (e.g. restored by the marketplace); the dispute must still decide.
    listing_reinstate(listing_id=disputed.listing_id, reason="test")

    with django_capture_on_commit_callbacks():
        job = delisting.delist_job_create(
            selection_kind=DelistSelectionKind.LISTING_IDS,
            selection={},
            listing_ids=[disputed.listing_id, plain.listing_id],
            actor=moderator,
            reason="Seller suspended",
            idempotency_key="lock-test",
        )
    delisting.delist_job_plan(job_id=job.pk)
    for chunk in job.chunks.all():
        delisting.delist_chunk_process(chunk_id=chunk.pk)

    assert dict(job.targets.values_list("listing_id", "outcome")) == {disputed.listing_id: DelistOutcome.LOCKED}
    assert list(job.chunks.values_list("removed_ids", flat=True)) == [[plain.listing_id]]
    assert Listing.objects.get(pk=disputed.listing_id).status == ListingStatus.REINSTATED
    assert Listing.objects.get(pk=plain.listing_id).status == ListingStatus.REMOVED
