"""A reporter records a test purchase with a photo, then the authenticator's counterfeit verdict, and sees
the chain of custody verified on the purchase's page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from investigations.demo import PNG
from investigations.models import TestPurchase
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_a_reporter_records_a_test_purchase_with_a_photo_and_a_verdict(
    login, live_server, brand, reporter, marketplace
):
    seller = factories.SellerFactory(marketplace=marketplace, name="Cheap Bags Outlet")
    listing = factories.ListingFactory(
        marketplace=marketplace, seller=seller, url="https://shopnow.example/item/TP77", title="Acme tote, 80% off"
    )

    page = login(reporter.username)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Test purchases").click()
    expect(page.get_by_role("heading", name="No test purchases yet")).to_be_visible()
    page.get_by_role("link", name="Record a test purchase").first.click()

    # A first try without the order number: the error names the field, what was typed stays.
    page.get_by_label("Listing address").fill(listing.url)
    page.get_by_label("Date bought").fill((timezone.localdate() - timedelta(days=3)).isoformat())
    page.get_by_label("Photos, videos or documents").set_input_files(
        {"name": "parcel.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.get_by_role("button", name="Record the purchase").click()
    expect(page.locator(".error-summary")).to_contain_text("Order number: Enter the order number.")
    expect(page.get_by_label("Listing address")).to_have_value(listing.url)

    page.get_by_label("Order number").fill("ORD-2026-0042")
    page.get_by_label("Photos, videos or documents").set_input_files(
        {"name": "parcel.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.get_by_label("Order number").press("Enter")  # the keyboard submits the form

    purchase = TestPurchase.objects.get()
    expect(page).to_have_url(f"{live_server.url}/b/{brand.slug}/test-purchases/{purchase.pk}/")
    expect(page.locator(".messages")).to_contain_text("was recorded")
    expect(page.locator("[data-custody]")).to_contain_text("Chain complete: 1 link verified")
    expect(page.get_by_role("link", name="parcel.png")).to_be_visible()

    page.get_by_role("radio", name="Counterfeit").check()
    page.get_by_label("Authenticator", exact=True).fill("Dana Okafor")
    page.get_by_label("Findings").fill("The logo embossing and the stitching do not match.")
    page.get_by_role("button", name="Record the verdict").click()

    expect(page.locator(".messages")).to_contain_text("The verdict “Counterfeit” was recorded")
    expect(page.locator("[data-custody]")).to_contain_text("Chain complete: 2 links verified")
    expect(page.get_by_role("link", name="File a notice backed by it")).to_be_visible()
    purchase.refresh_from_db()
    assert purchase.verdict == "counterfeit" and purchase.files.count() == 1
