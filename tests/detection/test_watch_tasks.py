"""The brand watch's periodic tasks on a real worker (real Redis broker, real PostgreSQL): the beat's run
sends the due searches to the detection queue, whose worker records the matches and their webhook event;
the daily digest is written and sent by the mail queue's worker."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from detection import tasks
from detection.models import WatchDigest, WatchMatch, WatchSearch
from detection.services.watch import WatchCriteria, watch_search_create, watch_searches_due
from integrations.choices import EventType
from integrations.models import WebhookEvent
from listings.models import Listing
from tests import factories
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


@pytest.fixture
def watched(brand, reporter, marketplace) -> tuple[WatchSearch, Listing]:
    """A saved search, and a listing it finds that appeared after it (settled: created minutes ago)."""
    search = watch_search_create(brand=brand, actor=reporter, criteria=WatchCriteria(name="Totes", words="acme tote"))
    found = factories.ListingFactory(marketplace=marketplace, title="ACME classic tote", price="25.00")
    factories.ListingFactory(marketplace=marketplace, title="Unrelated wallet")
    Listing.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    return search, found


def test_the_beat_run_sends_due_searches_to_a_detection_worker_that_matches_them(watched):
    search, found = watched
    assert watch_searches_due() == [search.pk]
    with running_worker(queues=["sweeps", "detection"]):
        tasks.run_watch_searches.delay()
        wait_until(lambda: WatchMatch.objects.filter(search=search).exists(), "the watch match")
        wait_until(lambda: WatchSearch.objects.get(pk=search.pk).last_run_at is not None, "the run to finish")
    [match] = WatchMatch.objects.filter(search=search)
    assert match.listing_id == found.pk
    assert WebhookEvent.objects.filter(type=EventType.WATCH_MATCH, brand_id=search.brand_id).count() == 1
    assert watch_searches_due() == []  # run: not due again before the next hour


def test_the_daily_digest_is_written_and_mailed_by_real_workers(watched, reporter, brand):
    search, found = watched
    tasks.run_watch_search_batch.apply(args=([search.pk],))
    mail.outbox.clear()
    with running_worker(queues=["sweeps", "mail"]):
        tasks.send_watch_digests.delay()
        wait_until(lambda: mail.outbox, "the digest e-mail")
    [message] = mail.outbox
    assert message.to == [reporter.email]
    assert found.url in message.body
    assert WatchDigest.objects.get(brand=brand).matches == 1
