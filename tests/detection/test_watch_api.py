"""The brand watch over the REST API: saving a search (refusals name their field), its matches by state
and search, setting a match's state (audited; a filed match answers 409) and filing one."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from brands.models import BrandMembership
from core.audit.models import AuditEvent
from detection.models import WatchMatch, WatchSearch
from detection.services.watch import watch_search_run
from listings.models import Listing
from tests import factories
from tests.api_harness import token_client
from tests.detection.conftest import ORIGINAL_HASH

pytestmark = pytest.mark.django_db
SEARCHES = reverse("detection-api:watch-search-list")
MATCHES = reverse("detection-api:watch-match-list")


@pytest.fixture
def api_client(reporter, brand):
    return token_client(BrandMembership.objects.get(user=reporter, brand=brand))


@pytest.fixture
def found(api_client, marketplace) -> WatchMatch:
    """A search saved through the API, and the match its run found."""
    response = api_client.post(SEARCHES, {"name": "Totes", "words": "acme tote", "price_max": "40"}, format="json")
    assert response.status_code == 201, response.json()
    factories.ListingFactory(marketplace=marketplace, title="ACME tote", price="20.00")
    Listing.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    watch_search_run(search_id=response.json()["id"])
    return WatchMatch.objects.get()


def test_a_search_is_saved_and_read_back(api_client, brand, reporter, marketplace):
    body = {"name": "Image", "marketplace": marketplace.pk, "image_hash": ORIGINAL_HASH.upper(), "digest": True}
    response = api_client.post(SEARCHES, body, format="json")
    assert response.status_code == 201
    saved = response.json()
    assert (saved["image_hash"], saved["marketplace"], saved["active"]) == (ORIGINAL_HASH, marketplace.pk, True)
    search = WatchSearch.objects.get(pk=saved["id"], brand=brand)
    assert list(search.subscribers.all()) == [reporter]
    patched = api_client.patch(saved["url"], {"active": False}, format="json")
    assert patched.json()["active"] is False and patched.json()["image_hash"] == ORIGINAL_HASH
    assert [row["id"] for row in api_client.get(SEARCHES).json()["results"]] == [search.pk]
    assert api_client.delete(saved["url"]).status_code == 204
    assert not WatchSearch.objects.exists()
    assert AuditEvent.objects.filter(action="watch.delete", target_id=search.pk).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "P", "words": "acme", "price_min": "50", "price_max": "10"}, "price_max"),
        ({"name": "H", "image_hash": "xyz"}, "image_hash"),
        ({"name": "N"}, "words"),
        ({"name": "S", "seller": 999999}, "seller"),
    ],
)
def test_bad_criteria_answer_400_naming_the_field(api_client, body, field):
    response = api_client.post(SEARCHES, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not WatchSearch.objects.exists()


def test_matches_are_listed_by_state_and_search(api_client, found):
    [row] = api_client.get(MATCHES, {"state": "new", "search": found.search_id}).json()["results"]
    assert row["id"] == found.pk and row["matched"] == ["words", "price"] and row["price"] == "20.00"
    assert row["listing"]["url"] == found.listing.url
    assert api_client.get(MATCHES, {"state": "seen"}).json()["results"] == []


def test_setting_the_state_is_audited_and_a_filed_match_answers_409(api_client, found, brand, right, reporter):
    url = reverse("detection-api:watch-match-state", kwargs={"pk": found.pk})
    response = api_client.post(url, {"state": "seen"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "seen"
    assert AuditEvent.objects.filter(action="watch_match.seen", target_id=found.pk, actor=reporter).exists()
    factories.ProgramMembershipFactory(brand=brand)
    filed = api_client.post(reverse("detection-api:watch-match-file", kwargs={"pk": found.pk}))
    assert filed.status_code == 200 and filed.json()["state"] == "filed" and filed.json()["filed_case"]
    again = api_client.post(url, {"state": "dismissed"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_the_matches_list_runs_as_many_queries_for_30_rows_as_for_1(api_client, found, marketplace):
    with CaptureQueriesContext(connection) as one:
        assert len(api_client.get(MATCHES).json()["results"]) == 1
    for n in range(29):
        listing = factories.ListingFactory(marketplace=marketplace, title=f"ACME tote {n}")
        WatchMatch.objects.create(brand=found.brand, search=found.search, listing=listing)
    with CaptureQueriesContext(connection) as thirty:
        assert len(api_client.get(MATCHES).json()["results"]) == 30
    assert len(thirty) == len(one)
