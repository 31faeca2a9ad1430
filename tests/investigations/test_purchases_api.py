"""The test purchases endpoints: the brand's (record, list, read, events, verdict) and the marketplace's
(the orders waiting for its answer, and the answer). Tenancy is in tests/api/tenancy_cases.py and
tests/integrations/platform_tenancy_cases.py."""

import pytest
from django.urls import reverse

from brands.models import BrandMembership
from investigations.choices import OrderConfirmation
from tests.api_harness import service_client, token_client
from tests.investigations.conftest import PDF, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(reporter, brand):
    return token_client(BrandMembership.objects.get(user=reporter, brand=brand))


def test_recording_with_a_photo_answers_the_purchase_and_its_chain(api, listing):
    response = api.post(
        reverse("investigations-api:test-purchase-list"),
        {"listing_url": listing.url, "order_id": "API-1", "purchased_on": "2026-01-02", "files": [upload()]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["order_confirmation"] == "unconfirmed" and body["verdict"] == "pending"
    assert body["listing_snapshot"]["title"] == "Acme Leather Tote"
    [photo] = body["files"]
    assert photo["kind"] == "photo" and len(photo["sha256"]) == 64
    assert body["custody"][0]["files"][0]["sha256"] == photo["sha256"]
    assert body["custody_status"] == {"complete": True, "links": 1, "summary": "Chain complete: 1 link verified"}


def test_a_bad_record_names_its_fields(api):
    response = api.post(
        reverse("investigations-api:test-purchase-list"),
        {"listing_url": "https://unknown.example/item/1", "order_id": "A", "purchased_on": "2026-01-02"},
        format="json",
    )
    assert response.status_code == 400 and set(response.json()["errors"]) == {"listing_url"}


def test_the_list_filters_by_verdict(api, record, counterfeit):
    record(order_id="P-1")
    fake = counterfeit(order_id="F-1")
    response = api.get(reverse("investigations-api:test-purchase-list"), {"verdict": "counterfeit"})
    assert [row["id"] for row in response.json()["results"]] == [fake.pk]


def test_events_and_a_final_verdict(api, record):
    purchase = record()
    detail = reverse("investigations-api:test-purchase-detail", kwargs={"pk": purchase.pk})
    events = reverse("investigations-api:test-purchase-events", kwargs={"pk": purchase.pk})
    verdict = reverse("investigations-api:test-purchase-verdict", kwargs={"pk": purchase.pk})
    response = api.post(events, {"event_type": "received", "note": "Arrived."}, format="json")
    assert response.status_code == 201 and response.json()["sequence"] == 2
    response = api.post(
        verdict,
        {"verdict": "counterfeit", "authenticator_name": "Dana", "report_file": upload("report.pdf", PDF)},
        format="multipart",
    )
    assert response.status_code == 200 and response.json()["verdict"] == "counterfeit"
    again = api.post(verdict, {"verdict": "genuine", "authenticator_name": "Dana", "report": "x"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert api.get(detail).json()["custody_status"]["summary"] == "Chain complete: 3 links verified"


def test_the_marketplace_lists_waiting_orders_and_answers(record, marketplace, client, brand, reporter):
    purchase = record(order_id="ORD-WAIT")
    platform = service_client(marketplace)
    waiting = platform.get(reverse("platform-api:test-purchase-list")).json()
    assert [order["order_id"] for order in waiting["orders"]] == ["ORD-WAIT"]
    assert "verdict" not in waiting["orders"][0]  # the brand's examination stays the brand's
    answer = reverse("platform-api:test-purchase-order", kwargs={"purchase_id": purchase.pk})
    response = platform.post(answer, {"found": True}, format="json")
    assert response.status_code == 200 and response.json()["order_confirmation"] == OrderConfirmation.CONFIRMED
    assert platform.get(reverse("platform-api:test-purchase-list")).json()["orders"] == []
    client.force_login(reporter)
    page = reverse("investigations:purchase_detail", kwargs={"brand_slug": brand.slug, "pk": purchase.pk})
    assert "Confirmed by the marketplace" in client.get(page).content.decode()


def test_attaching_a_counterfeit_verdict_to_a_reported_listing(api, counterfeit, record, file_case, listing):
    purchase = counterfeit()
    item = file_case(listing_urls=[listing.url]).items.get()
    attach = reverse("investigations-api:test-purchase-attach", kwargs={"pk": purchase.pk})
    response = api.post(attach, {"item": item.pk}, format="json")
    assert response.status_code == 201 and response.json() == {
        "purchase": purchase.pk,
        "item": item.pk,
        "case": item.case_id,
        "attached_at": response.json()["attached_at"],
    }
    assert api.post(attach, {"item": item.pk}, format="json").status_code == 409
    pending = reverse("investigations-api:test-purchase-attach", kwargs={"pk": record().pk})
    refused = api.post(pending, {"item": item.pk}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "refused"
    assert api.post(attach, {"item": 10**9}, format="json").json()["errors"] == {
        "item": ["No such reported listing of this brand."]
    }
