"""A reporter saves a brand watch search (the form names the field it refuses), the hourly run finds a new
listing, and the reporter files the match in one click from the matches list."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from detection.models import WatchMatch, WatchSearch
from detection.services.watch import watch_search_run
from listings.models import Listing
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_a_reporter_saves_a_watch_and_files_its_match(login, live_server, brand, reporter, right, marketplace):
    factories.ProgramMembershipFactory(brand=brand)  # the expedited lane: filing needs no evidence
    page = login(reporter.username)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Brand watch").click()
    expect(page.get_by_text("No saved searches yet.")).to_be_visible()
    page.get_by_role("link", name="New search").click()
    page.get_by_label("Name").fill("Cheap totes")
    page.get_by_label("Words").fill("acme tote")
    page.get_by_label("Marketplace").select_option(label="ShopNow")
    page.get_by_label("Lowest price").fill("60")
    page.get_by_label("Highest price").fill("40")
    page.get_by_role("button", name="Save search").click()
    expect(page.get_by_role("alert")).to_contain_text("Highest price: The highest price must be at least the lowest")
    page.get_by_label("Lowest price").fill("10")
    page.get_by_role("button", name="Save search").click()
    expect(page.locator(".messages")).to_contain_text("Saved “Cheap totes”")
    search = WatchSearch.objects.get(brand=brand)
    assert (search.words, search.price_min, search.price_max, search.marketplace) == ("acme tote", 10, 40, marketplace)

    # A listing appears; the detection worker's hourly run (called here) finds it.
    listing = factories.ListingFactory(marketplace=marketplace, title="ACME tote bag, mirror copy", price="29.00")
    Listing.objects.filter(pk=listing.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    watch_search_run(search_id=search.pk)

    page.reload()
    page.get_by_role("row").filter(has_text="Cheap totes").get_by_role("link", name="1").click()
    row = page.get_by_role("row").filter(has_text=listing.title)
    expect(row).to_contain_text("29.00")
    row.get_by_role("button", name="File").click()

    match = WatchMatch.objects.get(listing=listing)
    assert match.state == "filed"
    expect(page.locator(".messages")).to_contain_text(f"Filed as case #{match.filed_case_id}")
    expect(page).to_have_url(f"{live_server.url}/b/{brand.slug}/cases/{match.filed_case_id}/")
