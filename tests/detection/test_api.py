"""The brand's re-listing candidates feed: what it lists, its status filter, filing once and only once."""

import pytest
from django.urls import reverse

from brands.models import BrandMembership
from detection.models import ReListingCandidate
from detection.services.matching import listings_match
from tests import factories
from tests.api_harness import token_client

pytestmark = pytest.mark.django_db
FEED = reverse("detection-api:candidate-list")


@pytest.fixture
def candidate(removed_item, new_listing, marketplace):
    stranger = factories.SellerFactory(marketplace=marketplace, name="Someone Else")
    listing = new_listing("Acme Leather Classic Tote Bag Brown Genuine", seller=stranger)
    listings_match(listing_ids=[listing.pk])
    return ReListingCandidate.objects.get(listing=listing)


@pytest.fixture
def api_client(reporter, brand):
    return token_client(BrandMembership.objects.get(user=reporter, brand=brand))


def test_the_feed_lists_candidates_with_their_signals_and_earlier_removal(api_client, candidate, removed_item):
    body = api_client.get(FEED).json()
    [row] = body["results"]
    assert row["id"] == candidate.pk
    assert row["earlier_case"] == removed_item.case_id
    assert row["earlier_item"] == removed_item.pk
    assert row["signals"]["matched"] == ["title"]
    assert row["status"] == "open"
    assert api_client.get(FEED, {"status": "filed"}).json()["results"] == []


def test_filing_through_the_api_files_once_then_answers_409(api_client, candidate):
    action = reverse("detection-api:candidate-file", kwargs={"pk": candidate.pk})
    first = api_client.post(action)
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "filed" and first.json()["filed_case"]
    again = api_client.post(action)
    assert again.status_code == 409
    assert api_client.get(FEED, {"status": "filed"}).json()["results"][0]["id"] == candidate.pk
