"""Test purchases against the real database: recording, the chain of custody and its verification, the
triggers that keep the chain and the files append-only, verdicts and the marketplace's order answer."""

import itertools
from datetime import timedelta

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from core.audit.models import AuditEvent
from core.errors import Conflict
from investigations.choices import CustodyEventType, FileKind, OrderConfirmation, Verdict
from investigations.models import CustodyEvent, TestPurchaseFile
from investigations.models.purchases import GENESIS_HASH, link_hash
from investigations.selectors import custody_verify
from investigations.services import purchases as service
from tests.investigations.conftest import MP4, PDF, PNG, checked

pytestmark = pytest.mark.django_db


def test_recording_keeps_the_listing_as_it_was_and_opens_the_chain(record, listing, seller, reporter, brand):
    purchase = record(order_id="ORD-77")
    assert purchase.brand == brand and purchase.listing == listing and purchase.seller == seller
    assert purchase.listing_snapshot["title"] == "Acme Leather Tote"
    assert purchase.listing_snapshot["price"] == "39.00"
    assert purchase.listing_snapshot["seller"]["name"] == "Cheap Bags Outlet"
    assert purchase.order_confirmation == OrderConfirmation.UNCONFIRMED
    assert purchase.verdict == Verdict.PENDING
    [bought] = CustodyEvent.objects.filter(purchase=purchase)
    assert bought.event_type == CustodyEventType.BOUGHT and bought.sequence == 1
    assert bought.previous_hash == GENESIS_HASH
    [stored] = purchase.files.all()
    assert bought.files == [stored.ref()]
    assert stored.sha256 == checked("order.png").sha256 and stored.kind == FileKind.PHOTO
    event = AuditEvent.objects.get(action="test_purchase.record")
    assert (event.actor, event.brand_id, event.target_id) == (reporter, brand.pk, purchase.pk)


def test_the_snapshot_does_not_follow_later_changes_of_the_listing(record, listing):
    purchase = record()
    listing.title = "Renamed"
    listing.save()
    purchase.refresh_from_db()
    assert purchase.listing_snapshot["title"] == "Acme Leather Tote"


def test_an_unknown_listing_is_created_from_its_url(record, marketplace):
    purchase = record(listing_url="https://shopnow.example/item/NEW-9")
    assert purchase.listing.url == "https://shopnow.example/item/NEW-9" and purchase.seller is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"order_id": " "}, "order_id"),
        ({"listing_url": "not a url"}, "listing_url"),
        ({"listing_url": "https://unknown.example/item/1"}, "listing_url"),
        ({"purchased_on": timezone.localdate() + timedelta(days=1)}, "purchased_on"),
        ({"received_on": timezone.localdate() - timedelta(days=30)}, "received_on"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(record, overrides, field):
    with pytest.raises(ValidationError) as refused:
        record(**overrides)
    assert field in refused.value.message_dict
    assert not TestPurchaseFile.objects.exists() and not CustodyEvent.objects.exists()


def test_the_same_order_on_the_same_listing_is_recorded_once(record):
    record(order_id="ORD-1")
    with pytest.raises(ValidationError) as refused:
        record(order_id="ORD-1")
    assert "already recorded" in refused.value.message_dict["order_id"][0]


def test_each_event_links_to_the_one_before_and_the_chain_verifies(record, reporter):
    purchase = record(received_on=timezone.localdate() - timedelta(days=3))
    service.custody_event_add(
        purchase=purchase,
        actor=reporter,
        event_type=CustodyEventType.EXAMINED,
        note="Opened in front of a witness.",
        files=[checked("unboxing.mp4", MP4)],
    )
    service.purchase_verdict(
        purchase=purchase,
        actor=reporter,
        verdict=Verdict.COUNTERFEIT,
        report="Fake.",
        authenticator_name="Dana Expert",
        report_file=checked("report.pdf", PDF),
    )
    events = list(CustodyEvent.objects.filter(purchase=purchase).order_by("sequence"))
    assert [e.event_type for e in events] == ["bought", "received", "examined", "verdict"]
    for before, after in itertools.pairwise(events):
        assert after.previous_hash == before.hash
    assert all(e.hash == link_hash(e.previous_hash, e.canonical()) for e in events)
    assert {f.kind for f in purchase.files.all()} == {FileKind.PHOTO, FileKind.VIDEO, FileKind.REPORT}
    report = custody_verify(purchase)
    assert report.complete and report.summary == "Chain complete: 4 links verified" and report.files == 3


def test_receiving_sets_the_received_date(record, reporter):
    purchase = record()
    service.custody_event_add(purchase=purchase, actor=reporter, event_type="received", note="Parcel arrived.")
    purchase.refresh_from_db()
    assert purchase.received_on == timezone.localdate()


def test_an_event_says_something_or_carries_a_file(record, reporter):
    purchase = record()
    with pytest.raises(ValidationError) as refused:
        service.custody_event_add(purchase=purchase, actor=reporter, event_type="examined", note=" ")
    assert "note" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        service.custody_event_add(purchase=purchase, actor=reporter, event_type="verdict", note="x")
    assert "event_type" in refused.value.message_dict


def test_the_database_refuses_to_change_or_delete_a_link(record):
    purchase = record()
    event = CustodyEvent.objects.get(purchase=purchase)
    for statement in (
        "UPDATE investigations_custodyevent SET note = 'rewritten' WHERE id = %s",
        "DELETE FROM investigations_custodyevent WHERE id = %s",
    ):
        with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    event.refresh_from_db()
    assert event.note == ""


def test_the_database_refuses_to_change_a_files_hash(record):
    stored = record().files.get()
    with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE investigations_testpurchasefile SET sha256 = %s WHERE id = %s", ["f" * 64, stored.pk])
    with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
        TestPurchaseFile.objects.filter(pk=stored.pk).delete()


def _bypassing_the_trigger(sql: str, params: list) -> None:
    """What someone able to switch the trigger off could do: the verification must still notice it."""
    with pgtrigger.ignore("investigations.CustodyEvent:custody_append_only"), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _three_links(record, reporter):
    purchase = record()
    for note in ("Parcel arrived.", "Examined."):
        service.custody_event_add(
            purchase=purchase, actor=reporter, event_type="received" if "arrived" in note else "examined", note=note
        )
    return purchase, list(CustodyEvent.objects.filter(purchase=purchase).order_by("sequence"))


def test_verification_names_a_link_whose_content_was_changed(record, reporter):
    purchase, events = _three_links(record, reporter)
    _bypassing_the_trigger(
        "UPDATE investigations_custodyevent SET note = 'Never arrived.' WHERE id = %s", [events[1].pk]
    )
    report = custody_verify(purchase)
    assert not report.complete
    assert report.summary == "Chain broken at link 2: its content was changed after it was recorded"


def test_verification_names_a_missing_link(record, reporter):
    purchase, events = _three_links(record, reporter)
    _bypassing_the_trigger("DELETE FROM investigations_custodyevent WHERE id = %s", [events[1].pk])
    report = custody_verify(purchase)
    assert report.summary == "Chain broken at link 2: link 2 is missing (the next one is 3)"
    assert any("does not follow" in link.why for link in report.broken)


def test_verification_notices_a_rehashed_link_through_the_next_one(record, reporter):
    purchase, events = _three_links(record, reporter)
    forged = events[1]
    forged.note = "Never arrived."
    forged.hash = forged.computed_hash()
    _bypassing_the_trigger(
        "UPDATE investigations_custodyevent SET note = %s, hash = %s WHERE id = %s",
        [forged.note, forged.hash, forged.pk],
    )
    assert custody_verify(purchase).summary == "Chain broken at link 3: it does not follow the link before it"


def test_verification_notices_a_changed_file(record):
    purchase = record()
    stored = purchase.files.get()
    with stored.file.storage.open(stored.file.name, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\nswapped")
    assert custody_verify(purchase).summary == "Chain broken at link 1: its file order.png was changed"


def test_a_final_verdict_is_kept_and_an_inconclusive_one_may_be_followed(record, reporter):
    purchase = record()
    service.purchase_verdict(
        purchase=purchase, actor=reporter, verdict="inconclusive", report="Need the box.", authenticator_name="Dana"
    )
    purchase = service.purchase_verdict(purchase=purchase, actor=reporter, verdict="genuine", report="Genuine.")
    assert purchase.verdict == Verdict.GENUINE and purchase.authenticator_name == "Dana"
    with pytest.raises(Conflict, match="final verdict"):
        service.purchase_verdict(purchase=purchase, actor=reporter, verdict="counterfeit", report="Fake after all.")
    event = AuditEvent.objects.filter(action="test_purchase.verdict").latest("pk")
    assert (event.from_state, event.to_state) == ("inconclusive", "genuine")


def test_a_verdict_needs_a_report_and_an_authenticator(record, reporter):
    purchase = record()
    with pytest.raises(ValidationError) as refused:
        service.purchase_verdict(purchase=purchase, actor=reporter, verdict="pending")
    assert set(refused.value.message_dict) == {"verdict", "report", "authenticator_name"}


def test_the_marketplace_confirms_or_does_not_find_the_order(record):
    purchase = record()
    purchase = service.purchase_confirm_order(purchase_id=purchase.pk, found=True)
    assert purchase.order_confirmation == OrderConfirmation.CONFIRMED and purchase.order_checked_at
    purchase = service.purchase_confirm_order(purchase_id=purchase.pk, found=False, note="No such order.")
    assert purchase.order_confirmation == OrderConfirmation.NOT_FOUND
    event = AuditEvent.objects.filter(action="test_purchase.confirm_order").latest("pk")
    assert event.automated and (event.from_state, event.to_state) == ("confirmed", "not_found")


def test_a_video_may_be_larger_than_a_document_but_not_a_mistyped_file(settings):
    settings.FILE_UPLOAD_MAX_BYTES, settings.REQUEST_MAX_BYTES = 100, 10_000
    assert checked("clip.mp4", MP4 + b"\x00" * 500).content_type == "video/mp4"
    with pytest.raises(ValidationError, match="the limit is"):
        checked("photo.png", PNG + b"\x00" * 500)
    with pytest.raises(ValidationError, match="not an MP4 video"):
        checked("clip.mp4", PDF)


def test_two_links_cannot_take_the_same_place(record):
    purchase = record()
    first = CustodyEvent.objects.get(purchase=purchase)
    with pytest.raises(IntegrityError), transaction.atomic():
        CustodyEvent.objects.create(
            purchase=purchase, sequence=1, event_type="received", at=timezone.now(), previous_hash=first.hash, hash="x"
        )
