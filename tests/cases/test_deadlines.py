"""The scheduled deadline sweep, with a frozen clock: nothing happens before a deadline, the brief's rule
applies after it, exactly once, and two sweeps never overlap."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connections
from django.utils import timezone

from cases.choices import CounterNoticeAnswer, ItemStatus, RejectionCode
from cases.demo import drive_item_to
from cases.tasks import apply_item_deadlines
from core.audit.models import AuditEvent
from core.locks import lock_key
from listings.choices import ListingStatus
from listings.models import Listing, Strike
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(file_case, moderator, reporter, marketplace):
    """One item waiting on each deadline: the seller's, the brand's counter-notice answer, a clarification."""
    accepted, counter_noticed, clarification = file_case(3).items.order_by("pk")
    # The marketplace has told us who sells the first listing (a strike needs a seller).
    Listing.objects.filter(pk=accepted.listing_id).update(seller=factories.SellerFactory(marketplace=marketplace))
    drive_item_to(accepted, ItemStatus.ACCEPTED, moderator=moderator, brand_user=reporter)
    drive_item_to(counter_noticed, ItemStatus.COUNTER_NOTICED, moderator=moderator, brand_user=reporter)
    drive_item_to(clarification, ItemStatus.CLARIFICATION_REQUESTED, moderator=moderator, brand_user=reporter)
    return accepted, counter_noticed, clarification


def statuses(*items):
    for item in items:
        item.refresh_from_db()
    return [item.status for item in items]


def test_nothing_happens_before_the_deadlines(items):
    with time_machine.travel(timezone.now() + timedelta(days=9, hours=23)):
        assert apply_item_deadlines() == {"finalise": 0, "lapse": 0, "skipped": 0}
    assert statuses(*items) == [ItemStatus.ACCEPTED, ItemStatus.COUNTER_NOTICED, ItemStatus.CLARIFICATION_REQUESTED]


def test_each_passed_deadline_applies_its_rule_once(items):
    accepted, counter_noticed, clarification = items
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        assert apply_item_deadlines() == {"finalise": 1, "lapse": 2, "skipped": 0}
        swept_at = timezone.now()
        assert apply_item_deadlines() == {"finalise": 0, "lapse": 0, "skipped": 0}

    assert statuses(*items) == [ItemStatus.FINAL, ItemStatus.REINSTATED, ItemStatus.REJECTED]
    # Seller silent: the removal is final and the counterfeit gives the seller a strike dated by the sweep.
    strike = Strike.objects.get(source_item_id=accepted.pk)
    assert abs(strike.issued_at - swept_at) < timedelta(seconds=5)
    # Brand silent on the counter-notice: the listing is back and the counter-notice lapsed.
    counter_noticed.listing.refresh_from_db()
    assert counter_noticed.listing.status == ListingStatus.REINSTATED
    assert counter_noticed.counter_notices.get().answer == CounterNoticeAnswer.LAPSED
    # Brand silent on the clarification: rejected as incomplete.
    assert clarification.rejection_code == RejectionCode.INCOMPLETE
    events = AuditEvent.objects.filter(action__in=["item.finalise", "item.lapse"])
    assert events.count() == 3
    assert all(event.automated and event.actor_id is None for event in events)


def test_the_sweep_does_not_overlap_with_itself(items):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key("cases.tasks.apply_item_deadlines")])
        with time_machine.travel(timezone.now() + timedelta(days=15)):
            assert apply_item_deadlines() is None
            assert statuses(*items)[0] == ItemStatus.ACCEPTED
    finally:
        other.close()
