"""The audit trail: append-only in the database itself, bulk-written by batch work, read per object."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import ProgrammingError, connection, transaction
from django.utils import timezone

from core.audit.models import AuditEvent
from core.audit.selectors import audit_timeline
from core.audit.services import audit_record, audit_record_state_changes
from listings.models import Listing
from tests import factories

pytestmark = pytest.mark.django_db

REFUSED = "Cannot update or delete rows from audit_auditevent table"
#: The trigger's RAISE EXCEPTION (SQLSTATE P0001) reaches Django as a ProgrammingError with psycopg 3.
RAISE_EXCEPTION = "P0001"


@pytest.fixture
def event(moderator):
    listing = factories.ListingFactory()
    return audit_record(
        action="listing.remove",
        target=listing,
        actor=moderator,
        from_state="active",
        to_state="removed",
        reason="Counterfeit.",
    )


def _orm_save(event):
    event.reason = "Rewritten."
    event.save()


WRITES = {
    "ORM save": _orm_save,
    "ORM queryset update": lambda event: AuditEvent.objects.filter(pk=event.pk).update(reason="Rewritten."),
    "ORM delete": lambda event: event.delete(),
    "ORM queryset delete": lambda event: AuditEvent.objects.filter(pk=event.pk).delete(),
    "raw UPDATE": lambda event: connection.cursor().execute(
        "UPDATE audit_auditevent SET reason = 'Rewritten.' WHERE id = %s", [event.pk]
    ),
    "raw DELETE": lambda event: connection.cursor().execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk]),
}


@pytest.mark.parametrize("write", WRITES)
def test_audit_events_cannot_be_changed_or_deleted(write, event):
    with pytest.raises(ProgrammingError) as excinfo, transaction.atomic():
        WRITES[write](AuditEvent.objects.get(pk=event.pk))

    assert REFUSED in str(excinfo.value)
    assert excinfo.value.__cause__.sqlstate == RAISE_EXCEPTION
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.reason, stored.from_state, stored.to_state) == ("Counterfeit.", "active", "removed")


def test_audit_events_can_still_be_added(event):
    listing = Listing.objects.get()
    audit_record(action="listing.reinstate", target=listing, from_state="removed", to_state="reinstated")
    assert AuditEvent.objects.count() == 2


def test_audit_record_keeps_the_actor_only_when_it_is_a_user(event, moderator):
    listing = Listing.objects.get()
    anonymous = audit_record(action="listing.reinstate", target=listing, actor=AnonymousUser())
    assert anonymous.actor is None
    assert event.actor == moderator
    assert (event.target_type, event.target_id) == (ContentType.objects.get_for_model(Listing), listing.pk)


def test_state_changes_are_recorded_one_row_each(moderator, brand):
    listings = factories.ListingFactory.create_batch(3)
    changes = [(listing.pk, "active", "removed") for listing in listings]

    count = audit_record_state_changes(
        action="listing.remove",
        model=Listing,
        changes=iter(changes),  # any iterable, consumed once
        actor_id=moderator.pk,
        automated=True,
        reason="Delisting job #7",
        brand_id=brand.pk,
        data={"job": 7},
    )

    assert count == 3
    rows = AuditEvent.objects.filter(action="listing.remove").order_by("target_id")
    assert [(r.target_id, r.from_state, r.to_state) for r in rows] == sorted(changes)
    for row in rows:
        assert row.target_type == ContentType.objects.get_for_model(Listing)
        assert (row.actor, row.automated, row.brand_id, row.reason, row.data) == (
            moderator,
            True,
            brand.pk,
            "Delisting job #7",
            {"job": 7},
        )
        assert row.occurred_at is not None


def test_state_changes_default_to_a_person_without_brand():
    listing = factories.ListingFactory()
    count = audit_record_state_changes(action="listing.remove", model=Listing, changes=[(listing.pk, "a", "b")])
    assert count == 1
    row = AuditEvent.objects.get()
    assert (row.actor, row.automated, row.brand_id, row.reason, row.data) == (None, False, None, "", {})


def test_no_state_changes_record_nothing():
    assert audit_record_state_changes(action="listing.remove", model=Listing, changes=[]) == 0
    assert AuditEvent.objects.count() == 0


def test_timeline_lists_one_objects_events_oldest_first_in_one_query(moderator, django_assert_num_queries):
    listing, other = factories.ListingFactory.create_batch(2)
    listing_type = ContentType.objects.get_for_model(Listing)
    now = timezone.now()

    def add(target_id, action, occurred_at, **kwargs):
        return AuditEvent.objects.create(
            action=action, target_type=listing_type, target_id=target_id, occurred_at=occurred_at, **kwargs
        )

    # Created in an order that differs from when they happened (ids do not decide).
    latest = add(listing.pk, "listing.reinstate", now, actor=moderator)
    earliest = add(listing.pk, "listing.remove", now - timedelta(hours=2))
    tie = add(listing.pk, "listing.remove", now)  # same time as `latest`: the id breaks the tie
    add(other.pk, "listing.remove", now - timedelta(hours=3))
    # Same id, different kind of object.
    AuditEvent.objects.create(
        action="user.change",
        target_type=ContentType.objects.get_for_model(moderator),
        target_id=listing.pk,
        occurred_at=now - timedelta(hours=3),
    )

    with django_assert_num_queries(1):
        timeline = list(audit_timeline(listing))
        actors = [e.actor for e in timeline]

    assert [e.pk for e in timeline] == [earliest.pk, latest.pk, tie.pk]
    assert actors == [None, moderator, None]
