"""The brand's test-purchase pages: the list (empty state, filters, pages), recording one with its files,
a purchase's page with its chain of custody and verification, adding events and the verdict.
Tenancy (other brand → 404, viewer → 403 on writes) is in tests/tenancy_cases/investigations.py."""

from datetime import timedelta

import pgtrigger
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from brands.choices import Role
from investigations.models import CustodyEvent, TestPurchase
from tests.investigations.conftest import MP4, PDF, upload

pytestmark = pytest.mark.django_db


def url(name: str, brand, **kwargs) -> str:
    return reverse(f"investigations:{name}", kwargs={"brand_slug": brand.slug, **kwargs})


def test_the_list_starts_empty_with_a_way_to_record_one(client, brand, reporter):
    client.force_login(reporter)
    body = client.get(url("purchase_list", brand)).content.decode()
    assert "No test purchases yet" in body
    assert url("purchase_create", brand) in body


def test_the_list_filters_by_verdict_and_searches_the_order(client, brand, reporter, record, counterfeit):
    pending = record(order_id="ORD-PENDING")
    fake = counterfeit(order_id="ORD-FAKE")
    client.force_login(reporter)
    body = client.get(url("purchase_list", brand), {"verdict": "counterfeit"}).content.decode()
    assert "ORD-FAKE" in body and "ORD-PENDING" not in body
    body = client.get(url("purchase_list", brand), {"q": "ORD-PENDING"}).content.decode()
    assert f"#{pending.pk} · ORD-PENDING" in body and f"#{fake.pk}" not in body
    body = client.get(url("purchase_list", brand), {"verdict": "genuine"}).content.decode()
    assert "No test purchases match these filters" in body


def test_the_list_is_paginated_with_a_bounded_number_of_queries(
    client, brand, reporter, record, django_assert_max_num_queries
):
    made = [record() for _ in range(27)]
    client.force_login(reporter)
    with django_assert_max_num_queries(10):
        first = client.get(url("purchase_list", brand)).content.decode()
    assert f"#{made[-1].pk} ·" in first and f"#{made[0].pk} ·" not in first
    assert f"#{made[0].pk} ·" in client.get(url("purchase_list", brand), {"page": 2}).content.decode()


def test_recording_with_a_photo_and_a_video_opens_the_chain(client, brand, reporter, listing):
    client.force_login(reporter)
    response = client.post(
        url("purchase_create", brand),
        {
            "listing_url": listing.url,
            "order_id": "ORD-9",
            "purchased_on": (timezone.localdate() - timedelta(days=2)).isoformat(),
            "files": [upload("parcel.png"), upload("unboxing.mp4", MP4)],
            "note": "Bought under a private name.",
        },
    )
    purchase = TestPurchase.objects.get()
    assert response["Location"] == url("purchase_detail", brand, pk=purchase.pk)
    assert sorted(purchase.files.values_list("kind", flat=True)) == ["photo", "video"]
    body = client.get(response["Location"]).content.decode()
    assert "Chain complete: 1 link verified" in body
    assert "Unconfirmed" in body and "Bought under a private name." in body


def test_a_refused_recording_names_each_field_and_saves_nothing(client, brand, reporter):
    client.force_login(reporter)
    response = client.post(
        url("purchase_create", brand),
        {
            "listing_url": "https://unknown.example/item/1",
            "order_id": "",
            "purchased_on": "",
            "files": [upload("photo.png", PDF)],
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter the order number." in body and "Enter the date bought." in body
    assert "photo.png is not a PNG image" in body
    assert not TestPurchase.objects.exists()


def test_an_unknown_marketplace_is_named_on_the_listing_field(client, brand, reporter):
    client.force_login(reporter)
    response = client.post(
        url("purchase_create", brand),
        {"listing_url": "https://unknown.example/item/1", "order_id": "O-1", "purchased_on": "2026-01-02"},
    )
    assert "No marketplace in the portal hosts unknown.example" in response.content.decode()


def test_events_and_the_verdict_are_added_from_the_purchase_page(client, brand, reporter, record):
    purchase = record()
    client.force_login(reporter)
    client.post(
        url("event_create", brand, pk=purchase.pk),
        {"event_type": "examined", "note": "Opened on camera.", "files": [upload("unboxing.mp4", MP4)]},
    )
    response = client.post(
        url("verdict", brand, pk=purchase.pk),
        {"verdict": "counterfeit", "authenticator_name": "Dana", "report_file": upload("report.pdf", PDF)},
    )
    assert response.status_code == 302
    body = client.get(url("purchase_detail", brand, pk=purchase.pk)).content.decode()
    assert "Chain complete: 3 links verified" in body
    assert "Counterfeit" in body and "report.pdf" in body and "unboxing.mp4" in body
    assert 'id="verdict"' not in body  # final: no second verdict form


def test_a_verdict_without_findings_is_refused_on_its_field(client, brand, reporter, record):
    purchase = record()
    client.force_login(reporter)
    response = client.post(url("verdict", brand, pk=purchase.pk), {"verdict": "genuine", "authenticator_name": "Dana"})
    assert "Give the authenticator&#x27;s findings, or attach their report." in response.content.decode()


def test_a_broken_chain_is_shown_with_the_link(client, brand, reporter, record):
    purchase = record()
    event = CustodyEvent.objects.get(purchase=purchase)
    with pgtrigger.ignore("investigations.CustodyEvent:custody_append_only"), connection.cursor() as cursor:
        cursor.execute("UPDATE investigations_custodyevent SET note = 'edited' WHERE id = %s", [event.pk])
    client.force_login(reporter)
    body = client.get(url("purchase_detail", brand, pk=purchase.pk)).content.decode()
    assert "Chain broken at link 1: its content was changed after it was recorded" in body


def test_a_viewer_reads_the_purchase_without_the_forms(client, brand, member_of, record):
    purchase = record()
    client.force_login(member_of(Role.VIEWER))
    body = client.get(url("purchase_detail", brand, pk=purchase.pk)).content.decode()
    assert "order.png" in body and "Add to the chain" not in body
    assert url("purchase_create", brand) not in client.get(url("purchase_list", brand)).content.decode()


def test_a_file_downloads_as_an_attachment(client, brand, reporter, record):
    stored = record().files.get()
    client.force_login(reporter)
    response = client.get(url("file_download", brand, pk=stored.pk))
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
