"""A matching message lost while the broker was down: the upsert still answers, its listings stay pending
(`PendingMatch`, written in the upsert's transaction), the sweep sends them once the broker is back, and
matching them twice creates no second candidate.

The broker is a Redis of the test's own, stopped for real (`tests.outages`); transactions are real
(`transaction=True`) so the publish runs on the upsert's commit as in production."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.queue import send
from detection import tasks
from detection.models import PendingMatch, ReListingCandidate
from detection.services import pending
from tests.detection.conftest import ORIGINAL_HASH, flip
from tests.integrations.test_broker_outage import broker_warnings, queued_tasks
from tests.outages import broker_at
from tests.workers import running_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
broker_warnings = broker_warnings  # a fixture of the broker outage tests

LISTINGS = reverse("platform-api:listing-bulk")


def relisting_body(seller) -> dict:
    return {
        "listings": [
            {
                "external_id": "LOST1",
                "url": "https://shopnow.example/item/LOST1",
                "title": "Acme Leather Tote Bag Classic Brown",
                "seller_external_id": seller.external_id,
                "image_hashes": [flip(ORIGINAL_HASH, 9)],
            }
        ]
    }


def age_pending() -> None:
    """As if the listings had been written longer ago than the sweep waits."""
    PendingMatch.objects.update(queued_at=timezone.now() - pending.RESEND_AFTER - timedelta(seconds=1))


def test_a_listing_upserted_while_the_broker_is_down_is_matched_once_after_the_sweep(
    api, removed_item, seller, own_redis, broker_warnings
):
    with broker_at(own_redis.url):
        own_redis.stop()
        response = api.post(LISTINGS, relisting_body(seller), format="json")
        assert response.status_code == 200, response.json()
        listing_id = response.json()["results"][0]["id"]
        assert any("detection.tasks.match_listings" in warning for warning in broker_warnings())
        assert list(PendingMatch.objects.values_list("listing_id", flat=True)) == [listing_id]
        assert not ReListingCandidate.objects.exists()

        own_redis.start()
        assert tasks.sweep_pending_matches() == 0  # too early to call it lost
        age_pending()
        assert tasks.sweep_pending_matches() == 1
        assert tasks.sweep_pending_matches() == 0  # not sent again while its message waits

    assert [name for name, _ in queued_tasks(own_redis)] == ["detection.tasks.match_listings"]
    assert tasks.match_listings([listing_id]) == {"strong": 1, "filed": 0}  # what the worker does
    candidate = ReListingCandidate.objects.get(listing_id=listing_id)
    assert candidate.fingerprint.source_item_id == removed_item.pk
    assert not PendingMatch.objects.exists()

    # A second delivery (or a sweep that raced the worker) creates nothing more.
    assert tasks.match_listings([listing_id]) == {"strong": 0, "filed": 0}
    assert ReListingCandidate.objects.filter(listing_id=listing_id).count() == 1


def test_a_listing_written_again_while_it_is_matched_stays_pending(api, marketplace):
    response = api.post(LISTINGS, {"listings": [{"external_id": "A1", "url": "https://shopnow.example/item/A1"}]})
    listing_id = response.json()["results"][0]["id"]
    before_the_second_write = PendingMatch.objects.get().queued_at - timedelta(seconds=1)
    assert pending.pending_done(listing_ids=[listing_id], queued_before=before_the_second_write) == 0
    assert PendingMatch.objects.filter(listing_id=listing_id).exists()


@pytest.mark.integration
def test_the_sweep_on_a_real_worker_sends_the_lost_matching_to_the_detection_worker(api, removed_item, seller):
    with running_worker(queues=["sweeps", "detection"]):
        response = api.post(LISTINGS, relisting_body(seller), format="json")
        listing_id = response.json()["results"][0]["id"]
        wait_until(lambda: not PendingMatch.objects.exists(), "the upsert's own matching")
        ReListingCandidate.objects.all().delete()
        pending.pending_record(listing_ids=[listing_id])  # left pending, its message lost
        age_pending()
        send(tasks.sweep_pending_matches)
        wait_until(lambda: ReListingCandidate.objects.filter(listing_id=listing_id).exists(), "the candidate")
        wait_until(lambda: not PendingMatch.objects.exists(), "the listing to leave the outbox")
