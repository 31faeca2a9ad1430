"""The platform upsert carries image hashes, and a real worker on the detection queue matches what it wrote."""

import pytest
from django.urls import reverse

from detection.choices import Strength
from detection.models import ListingImageHash, ReListingCandidate
from tests.detection.conftest import ORIGINAL_HASH, flip
from tests.workers import running_worker, wait_until

LISTINGS = reverse("platform-api:listing-bulk")


def row(n: int, **fields) -> dict:
    return {"external_id": f"P{n}", "url": f"https://shopnow.example/item/P{n}", "title": f"Bag {n}"} | fields


@pytest.mark.django_db
def test_the_upsert_stores_image_hashes_and_replaces_them_when_sent_again(api, marketplace):
    response = api.post(LISTINGS, {"listings": [row(1, image_hashes=[ORIGINAL_HASH.upper()]), row(2)]}, format="json")
    assert response.status_code == 200, response.json()
    first = response.json()["results"][0]["id"]
    assert list(ListingImageHash.objects.filter(listing_id=first).values_list("hash", flat=True)) == [ORIGINAL_HASH]
    assert ListingImageHash.objects.count() == 1
    again = api.post(LISTINGS, {"listings": [row(1, image_hashes=[flip(ORIGINAL_HASH, 2)])]}, format="json")
    assert again.status_code == 200
    assert list(ListingImageHash.objects.values_list("hash", flat=True)) == [flip(ORIGINAL_HASH, 2)]


@pytest.mark.django_db
def test_a_malformed_hash_is_refused_naming_its_row_and_nothing_is_saved(api, marketplace):
    body = {"listings": [row(1, image_hashes=[ORIGINAL_HASH]), row(2, image_hashes=["xyz"])]}
    response = api.post(LISTINGS, body, format="json")
    assert response.status_code == 400
    assert "1" in str(response.json()) and "64 hexadecimal" in str(response.json())
    assert not ListingImageHash.objects.exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_the_detection_queue_finds_the_relisting(api, removed_item, seller, marketplace):
    body = {
        "listings": [
            row(
                9,
                title="Acme Leather Tote Bag Classic Brown",
                seller_external_id=seller.external_id,
                image_hashes=[flip(ORIGINAL_HASH, 12)],
            )
        ]
    }
    with running_worker(queues=["detection"]):
        response = api.post(LISTINGS, body, format="json")
        assert response.status_code == 200
        listing_id = response.json()["results"][0]["id"]
        wait_until(lambda: ReListingCandidate.objects.filter(listing_id=listing_id).exists(), "the candidate")
    candidate = ReListingCandidate.objects.get(listing_id=listing_id)
    assert candidate.strength == Strength.STRONG
    assert candidate.fingerprint.source_item_id == removed_item.pk
