"""Concurrent calls of the lifecycle services, each in its own thread and database connection.

These tests commit for real (`transaction=True`), so the row locks the services take are exercised the way
two moderators (or a moderator and the scheduler) hit them at the same moment.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from cases import services
from cases.choices import CaseStatus, ItemStatus
from cases.models import Case, CaseItem
from cases.services import TransitionNotAllowed
from core.audit.models import AuditEvent
from listings.choices import ListingStatus
from listings.models import Listing
from tests import factories
from tests.concurrency import TIMEOUT, run_together, wait_for_a_lock_wait

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_moderators_accepting_the_same_item_decide_it_once(file_case, moderator, lead):
    item = file_case().items.get()

    outcomes = run_together(
        lambda: services.item_accept(item_id=item.pk, actor=moderator),
        lambda: services.item_accept(item_id=item.pk, actor=lead),
    )

    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"], outcomes
    [error] = [value for kind, value in outcomes if kind == "error"]
    assert isinstance(error, TransitionNotAllowed)
    [winner] = [value for kind, value in outcomes if kind == "ok"]
    item.refresh_from_db()
    assert (item.status, item.decided_by_id) == (ItemStatus.ACCEPTED, winner.decided_by_id)
    assert AuditEvent.objects.filter(action="item.accept", target_id=item.pk).count() == 1
    assert AuditEvent.objects.filter(action="listing.remove", target_id=item.listing_id).count() == 1
    assert Listing.objects.get(pk=item.listing_id).status == ListingStatus.REMOVED


def test_accepting_two_items_of_one_case_at_once_keeps_the_case_status_exact(file_case, moderator, lead):
    case = file_case(n=2)
    first, second = case.items.order_by("pk")

    outcomes = run_together(
        lambda: services.item_accept(item_id=first.pk, actor=moderator),
        lambda: services.item_accept(item_id=second.pk, actor=lead),
    )

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert set(CaseItem.objects.filter(case=case).values_list("status", flat=True)) == {ItemStatus.ACCEPTED}
    case.refresh_from_db()
    assert case.status == CaseStatus.PROCESSED
    changes = [
        (e.from_state, e.to_state)
        for e in AuditEvent.objects.filter(action="case.status", target_id=case.pk).order_by("id")
    ]
    assert changes == [
        (CaseStatus.RECEIVED, CaseStatus.IN_REVIEW),
        (CaseStatus.IN_REVIEW, CaseStatus.PROCESSED),
    ]
    assert Listing.objects.filter(status=ListingStatus.REMOVED).count() == 2


def test_two_filings_of_the_same_listing_at_once_file_it_once(file_case):
    url = "https://shopnow.example/item/RACE"

    outcomes = run_together(lambda: file_case(listing_urls=[url]), lambda: file_case(listing_urls=[url]))

    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    [error] = [value for kind, value in outcomes if kind == "error"]
    assert isinstance(error, ValidationError)
    assert list(error.message_dict) == ["listings"]
    assert Case.objects.count() == 1
    assert CaseItem.objects.count() == 1
    assert Listing.objects.filter(url=url).count() == 1


@pytest.mark.parametrize("listing", ["known", "new"])
def test_a_double_submit_racing_the_first_returns_the_first_case(listing, file_case, marketplace):
    url = (
        factories.ListingFactory(marketplace=marketplace).url
        if listing == "known"
        else "https://shopnow.example/item/NEW"
    )
    first_filed, release = threading.Event(), threading.Event()

    def first():
        # Hold the first filing's transaction open until the second one is under way.
        with transaction.atomic():
            case = file_case(listing_urls=[url], idempotency_key="double-click")
            first_filed.set()
            release.wait(TIMEOUT)
        return case

    def second():
        first_filed.wait(TIMEOUT)
        return file_case(listing_urls=[url], idempotency_key="double-click")

    def release_when_second_waits():
        first_filed.wait(TIMEOUT)
        wait_for_a_lock_wait()
        release.set()

    outcomes = run_together(first, second, release_when_second_waits)

    assert [kind for kind, _ in outcomes] == ["ok", "ok", "ok"], outcomes
    assert outcomes[0][1].pk == outcomes[1][1].pk
    assert Case.objects.count() == 1
